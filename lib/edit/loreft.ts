/**
 * LoReFT representation edits for aspect-sentiment classification (docs/methods.md §1 (b); Li et al.
 * 2025 after Wu et al. 2024's ReFT): at the block output h of each chosen layer, at one position
 * per prompt (default "aspect" = T − 2, the aspect's last token in "… Sentiment of {aspect}:"),
 *
 *   h ← h + Rᵀ(W h + b − R h),   R, W ∈ ℝ^{r×d}, b ∈ ℝ^r, R with orthonormal rows,
 *
 * so that R h′ = W h + b and h′ − h lies in R's row space. The layers are trained jointly.
 *
 * Training: full-batch Adam on n_train labelled reviews of the model's dataset.json absc train
 * split (a seeded choice), minimising the NLL of the label token (" positive" …) after the
 * prompt. Initialisation: R = seeded Gaussian, orthonormalised; W = R, b = 0, so the edit starts
 * as the identity and step 0's loss is the unedited model's. R stays orthonormal by retraction:
 * after each Adam step its rows are re-orthonormalised (Gram–Schmidt, in float64 on the host).
 * Why not a QR/Cayley parametrisation: tfjs has no gradient for QR, and a Cayley transform needs
 * a d×d solve per step; with r ≪ d the retraction is cheap (r·d numbers) and exact.
 *
 * Gradients follow the path of lib/edit/rome.ts: everything before the first edited block runs
 * once without a tape; the blocks from there on are lib/edit/grad-blocks.ts (fast backward on
 * wasm); the label positions are picked by one-hot matMuls, never by gather.
 *
 * Evaluation (docs/methods.md §1): accuracy = share of held-out absc test reviews whose label word
 * gets the highest next-token logit among the dataset's label words.
 */
import * as tf from "@tensorflow/tfjs";
import { GaussianRng } from "../interp/rng";
import type { Gpt2Model } from "../model/gpt2";
import { now } from "../util/clock";
import { continuationTokens, type TextTokenizer } from "../util/tokenizer";
import { applyEdits, baseOf, isEdited, type ModelLike, viewOf } from "./apply";
import { padRows } from "./batch";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import type { EditDataset } from "./dataset";
import { GradBlocks } from "./grad-blocks";
import { pickAmong } from "./label-pick";
import { defaultLoreftLayers, loreftInterventions, loreftParamCount } from "./loreft-site";
import { residActHook } from "./plan";
import { shuffled } from "./probe";
import { EditError, type LoreftEdit, type LoreftInfo, type LoreftLearned } from "./types";
import { unembedRows } from "./unembed-rows";

export { loreftParamCount };

export const LOREFT_DEFAULTS = {
  rank: 4,
  n_train: 16,
  n_test: 300,
  steps: 40,
  lr: 0.01,
  seed: 0,
};

export interface LoreftStep {
  step: number;
  total: number;
  loss: number;
}

export interface AbscExample {
  prompt: string;
  label: string;
}

/** Orthonormal rows of an r×d row-major matrix (modified Gram–Schmidt, float64). */
export function orthonormalRows(m: ArrayLike<number>, r: number, d: number): Float32Array {
  const rows = Array.from({ length: r }, (_, i) =>
    Float64Array.from({ length: d }, (_, j) => m[i * d + j]),
  );
  for (let i = 0; i < r; i++) {
    const n0 = Math.hypot(...rows[i]);
    for (let k = 0; k < i; k++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += rows[i][j] * rows[k][j];
      for (let j = 0; j < d; j++) rows[i][j] -= dot * rows[k][j];
    }
    let n = 0;
    for (let j = 0; j < d; j++) n += rows[i][j] * rows[i][j];
    n = Math.sqrt(n);
    if (!(n > 1e-6 * n0))
      throw new EditError("bad_edit", "LoReFT's R lost rank: its rows are dependent");
    for (let j = 0; j < d; j++) rows[i][j] /= n;
  }
  const out = new Float32Array(r * d);
  rows.forEach((row, i) => {
    out.set(row, i * d);
  });
  return out;
}

/** The label words' token ids (the first token of each; they must differ). */
export function labelIds(tok: TextTokenizer, labels: readonly string[]): number[] {
  const ids = labels.map((l) => continuationTokens(tok, l)[0]); // no BOS: a label follows
  if (ids.some((i) => i === undefined) || new Set(ids).size !== ids.length) {
    throw new EditError(
      "bad_dataset",
      `the absc labels ${JSON.stringify(labels)} must start with different tokens`,
    );
  }
  return ids;
}

/**
 * Share of examples whose label has the highest next-token logit among the labels. Rows are
 * grouped by length (one pass per length, logits at the last position only).
 */
export async function abscAccuracy(
  model: ModelLike,
  tok: TextTokenizer,
  examples: readonly AbscExample[],
  labels: readonly string[],
): Promise<number> {
  return labelAccuracy((len) => viewOf(model, len), tok, examples, labels);
}

/** abscAccuracy on the model `viewFor(T)` gives for passes of T positions (lib/edit/absc-train.ts). */
export async function labelAccuracy(
  viewFor: (len: number) => Gpt2Model,
  tok: TextTokenizer,
  examples: readonly AbscExample[],
  labels: readonly string[],
): Promise<number> {
  if (examples.length === 0) return Number.NaN;
  const ids = labelIds(tok, labels);
  const byLen = new Map<number, { ids: number[]; label: number }[]>();
  for (const ex of examples) {
    const row = tok.encode(ex.prompt);
    const label = labels.indexOf(ex.label);
    if (label < 0)
      throw new EditError(
        "bad_dataset",
        `absc label ${JSON.stringify(ex.label)} is not one of ${labels.join(",")}`,
      );
    byLen.set(row.length, [...(byLen.get(row.length) ?? []), { ids: row, label }]);
  }
  let correct = 0;
  const pick = tf.tensor1d(Int32Array.from(ids), "int32");
  try {
    for (const [len, rows] of byLen) {
      for (let s = 0; s < rows.length; s += 64) {
        const part = rows.slice(s, s + 64);
        const scores = tf.tidy(() => {
          const { logits } = viewFor(len).forward({
            inputIds: part.map((r) => r.ids),
            logitPositions: "last",
          });
          return logits.reshape([part.length, -1]).gather(pick, 1); // [B, labels]
        });
        const data = await scores.data();
        scores.dispose();
        part.forEach((r, b) => {
          if (pickAmong(data.subarray(b * ids.length, (b + 1) * ids.length)) === r.label) {
            correct++;
          }
        });
      }
    }
  } finally {
    pick.dispose();
  }
  return correct / examples.length;
}

/** The absc training and test examples a LoReFT edit uses (seeded choice of the train ones). */
export function loreftExamples(
  dataset: EditDataset | undefined,
  p: { n_train: number; n_test: number; seed: number },
): { train: AbscExample[]; test: AbscExample[]; labels: string[] } {
  const absc = dataset?.absc;
  if (!absc || !Array.isArray(absc.train) || !Array.isArray(absc.test) || !absc.labels?.length) {
    throw new EditError(
      "bad_dataset",
      "LoReFT trains on the model's dataset.json absc {labels, train, test}",
    );
  }
  if (p.n_train < 1 || p.n_train > absc.train.length) {
    throw new EditError(
      "bad_edit",
      `n_train must be 1 to ${absc.train.length} (the absc train split)`,
    );
  }
  if (p.n_test < 1 || p.n_test > absc.test.length) {
    throw new EditError(
      "bad_edit",
      `n_test must be 1 to ${absc.test.length} (the absc test split)`,
    );
  }
  const order = shuffled(absc.train.length, p.seed);
  return {
    train: order.slice(0, p.n_train).map((i) => absc.train[i]),
    test: absc.test.slice(0, p.n_test),
    labels: absc.labels,
  };
}

/** One layer's trainable R, W, b. */
export interface LoreftVars {
  R: tf.Variable; // [r, D]
  W: tf.Variable; // [r, D]
  b: tf.Variable; // [r]
}

/** R with seeded orthonormal rows, W = R and b = 0 (the identity), one set per layer. */
export function loreftVars(n: number, r: number, D: number, seed: number): LoreftVars[] {
  const rng = new GaussianRng(seed);
  return Array.from({ length: n }, () => {
    const R0 = orthonormalRows(
      Float32Array.from({ length: r * D }, () => rng.nextNormal()),
      r,
      D,
    );
    const init = [tf.tensor2d(R0, [r, D]), tf.zeros([r])];
    const v = {
      R: tf.variable(init[0], true), // [r, D]
      W: tf.variable(init[0], true), // [r, D]: W = R, b = 0 is the identity
      b: tf.variable(init[1], true), // [r]
    };
    tf.dispose(init);
    return v;
  });
}

async function hostOf(v: LoreftVars): Promise<{ R: number[]; W: number[]; b: number[] }> {
  return {
    R: Array.from(await v.R.data()),
    W: Array.from(await v.W.data()),
    b: Array.from(await v.b.data()),
  };
}

/**
 * Full-batch Adam for `steps` updates (the loss is recorded before each and after the last),
 * with R retracted onto orthonormal rows after every update (`vars` may be empty).
 */
export async function trainLoreft(o: {
  vars: LoreftVars[];
  /** Trained alongside R, W, b (the ABSC recipe's LoRA factors or full weights). */
  extra?: tf.Variable[];
  rank: number;
  D: number;
  steps: number;
  optimizer: tf.Optimizer;
  lossFn: () => tf.Scalar;
  losses: LoreftInfo["losses"];
  opts: { onStep?: (s: LoreftStep) => void; signal?: CancelSignal };
}): Promise<void> {
  const { vars, rank: r, D, steps, optimizer, losses, opts } = o;
  const trainable = [...vars.flatMap((v) => [v.R, v.W, v.b]), ...(o.extra ?? [])];
  for (let step = 0; step <= steps; step++) {
    await checkLearningCancelled(opts.signal);
    const { grads, value } = tf.variableGrads(o.lossFn, trainable);
    const loss = (await value.data())[0];
    value.dispose();
    losses.push({ step, loss });
    opts.onStep?.({ step, total: steps, loss });
    if (!Number.isFinite(loss)) {
      tf.dispose(Object.values(grads));
      throw new EditError("bad_edit", `LoReFT's loss is ${loss} at step ${step}`);
    }
    if (step === steps) {
      tf.dispose(Object.values(grads));
      break;
    }
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(grads));
    for (const v of vars) {
      const q = orthonormalRows(await v.R.data(), r, D); // retraction onto orthonormal rows
      tf.tidy(() => v.R.assign(tf.tensor2d(q, [r, D])));
    }
  }
}

/**
 * What stays fixed in training: the input of block `start` (the edit acts from there on),
 * computed once, and the one-hot [B, V] of each row's label token.
 */
function trainBatch(
  view: Gpt2Model,
  padded: ReturnType<typeof padRows>,
  start: number,
  o: { labelIds: number[] },
): { resid0: tf.Tensor3D; targetT: tf.Tensor2D } {
  const V = view.config.vocabSize;
  const B = padded.ids.length;
  const resid0 = tf.tidy(() => {
    const plain = view.hooks();
    let x = view.embed(padded.ids, { hooks: plain }).resid;
    for (let l = 0; l < start; l++) x = view.block(l, x, { hooks: plain }).resid;
    return x as tf.Tensor3D; // [B, T, D]
  });
  const target = new Float32Array(B * V);
  o.labelIds.forEach((id, b) => {
    target[b * V + id] = 1;
  });
  return { resid0, targetT: tf.tensor2d(target, [B, V]) };
}

/** Learns a LoReFT edit on `model` (plain or edited, whose stack it is trained on top of). */
export async function learnLoreft(
  model: ModelLike,
  tok: TextTokenizer,
  edit: LoreftEdit,
  opts: { dataset?: EditDataset; onStep?: (s: LoreftStep) => void; signal?: CancelSignal } = {},
): Promise<LoreftEdit> {
  const t0 = now();
  const base = baseOf(model);
  const { dModel: D, nCtx, vocabSize: V } = base.config;
  const p = { ...LOREFT_DEFAULTS, ...definedOf(edit.params) };
  const r = p.rank;
  const layers = edit.site.layers ?? defaultLoreftLayers(base.config);
  const rule = edit.site.position ?? "aspect";
  if (!(p.lr > 0) || p.steps < 0)
    throw new EditError("bad_edit", "LoReFT needs lr > 0 and steps ≥ 0");
  const { train, test, labels } = loreftExamples(opts.dataset, p);
  const ids = labelIds(tok, labels);
  const rows = train.map((ex) => tok.encode(ex.prompt));
  if (rows.some((row) => row.length < 2 || row.length > nCtx)) {
    throw new EditError(
      "bad_edit",
      `an absc prompt is shorter than 2 tokens or longer than ${nCtx}`,
    );
  }
  const accuracyBefore = await abscAccuracy(model, tok, test, labels);

  const hooksOf = layers.map((l) => residActHook(l, edit.site.hook));
  const start = Math.min(...hooksOf.map((h) => Number(/^blocks\.(\d+)\./.exec(h)![1])));
  const padded = padRows(rows);
  const B = rows.length;
  const view = viewOf(model, padded.lengths);
  const { resid0, targetT } = trainBatch(view, padded, start, {
    labelIds: train.map((ex) => ids[labels.indexOf(ex.label)]),
  });

  const vars = loreftVars(layers.length, r, D, p.seed);
  const ivs = vars.flatMap((v, i) => loreftInterventions(hooksOf[i], v, rule, padded.lengths));
  const hooks = view.hooks({ interventions: ivs });
  const blocks = new GradBlocks(view, start);
  const optimizer = tf.train.adam(p.lr);
  const trainable = vars.flatMap((v) => [v.R, v.W, v.b]);
  const losses: LoreftInfo["losses"] = [];
  const lastPos = padded.lengths.map((n) => n - 1);

  try {
    const lossFn = () => {
      const out = blocks.run(resid0, hooks); // [B, T, D]
      const logits = unembedRows(view, out, lastPos, { hooks }).reshape([B, V]); // [B, V]
      return tf.logSoftmax(logits).mul(targetT).sum().div(-B) as tf.Scalar; // mean NLL
    };
    await trainLoreft({ vars, rank: r, D, steps: p.steps, optimizer, lossFn, losses, opts });
    const learnedLayers: LoreftLearned["layers"] = [];
    for (const [i, v] of vars.entries()) {
      learnedLayers.push({ layer: layers[i], ...(await hostOf(v)) });
    }
    const learned: LoreftLearned = { layers: learnedLayers };
    const done: LoreftEdit = { ...edit, site: { ...edit.site, layers }, learned };
    const stack = isEdited(model) ? model.plan.edits : [];
    const after = applyEdits(base as Gpt2Model, [...stack, { ...done, enabled: true }]);
    let accuracyAfter: number;
    try {
      accuracyAfter = await abscAccuracy(after, tok, test, labels);
    } finally {
      after.dispose();
    }
    learned.info = {
      params: loreftParamCount(layers.length, r, D),
      losses,
      accuracy_before: accuracyBefore,
      accuracy_after: accuracyAfter,
      n_train: train.length,
      n_test: test.length,
      labels,
      ms: now() - t0,
    };
    return done;
  } finally {
    optimizer.dispose();
    blocks.dispose();
    tf.dispose([resid0, targetT, ...trainable]);
  }
}

function definedOf<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
