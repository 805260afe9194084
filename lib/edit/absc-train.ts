/**
 * The ABSC recipe's editing methods (docs/recipes.md "ABSC"; Li et al. 2025, arXiv 2503.15117),
 * each trained on the same labelled reviews with the same loss, and scored on held-out splits:
 *
 *   joint     at each chosen layer L: a LoReFT edit h ← h + Rᵀ(W h + b − R h) of the block output
 *             at the aspect position (T − 2, the aspect's last token in "… Sentiment of {aspect}:")
 *             AND LoRA on L's attention output projection, wO ← wO + s·A·B (GPT-2 attn.c_proj,
 *             Llama o_proj, NeoX dense), trained jointly: the paper's method
 *   loreft    the LoReFT half alone (lib/edit/loreft.ts's edit)
 *   lora_all  the LoRA half on the attention output projection of every layer (baseline)
 *   ft_layer  full fine-tuning of layer L: every weight of the block, norms and biases included
 *             (the checkpoint's own; Llama has no biases) (baseline)
 *
 * Shared by all four (and by scripts/reference/absc_joint_ref.py, the torch reference):
 *   loss       mean over the training reviews of −log softmax(logits at the last token)[label]
 *   optimiser  full-batch Adam (tfjs defaults), R re-orthonormalised after each update
 *   init       R: GaussianRng(seed), orthonormal rows, W = R, b = 0 (lib/edit/loreft.ts);
 *              LoRA A [H·E, r]: GaussianRng(seed + 1) N(0, 1/(H·E)) layer by layer, B = 0, s = α/r
 *              (α = r: s = 1) — every method starts at the unedited model
 *   accuracy   argmax over the label words at the last token, per test split
 *
 * The model may carry edits: training and scoring run on top of them.
 */
import * as tf from "@tensorflow/tfjs";
import { GaussianRng } from "../interp/rng";
import type { Gpt2Model } from "../model/gpt2";
import type { BlockWeightName } from "../model/gpt2-types";
import { ABSC_PARAMS } from "../params/table";
import type { TextTokenizer } from "../util/tokenizer";
import { type AbscReview, type AbscSplits, abscSample } from "./absc-data";
import { baseOf, type ModelLike, viewOf } from "./apply";
import { padRows } from "./batch";
import type { CancelSignal } from "./cancel";
import { familyOf } from "./family-sites";
import { GradBlocks } from "./grad-blocks";
import { loraInit } from "./lora";
import { type LoreftVars, labelAccuracy, labelIds, loreftVars, trainLoreft } from "./loreft";
import { loreftInterventions } from "./loreft-site";
import { residActHook } from "./plan";
import { EditError } from "./types";
import { unembedRows } from "./unembed-rows";

export const ABSC_METHODS = ["joint", "loreft", "lora_all", "ft_layer"] as const;
export type AbscMethod = (typeof ABSC_METHODS)[number];

const P = ABSC_PARAMS;
/** The recipe's settings under the edit file's names; every number is its settings-table row's default. */
export const ABSC_DEFAULTS = {
  layers: [2] as number[],
  rank: P.rank.default as number,
  n_train: P.nTrain.default as number,
  n_test: P.nTest.default as number,
  steps: P.steps.default as number,
  lr: P.lr.default as number,
  seed: P.seed.default as number,
};
export type AbscParams = typeof ABSC_DEFAULTS;

export interface AbscResult {
  method: AbscMethod;
  /** Layers the method trains (every layer for lora_all). */
  layers: number[];
  params: number;
  /** Full-batch loss before each update and after the last. */
  losses: { step: number; loss: number }[];
  /** Accuracy per test split, before (the model as given) and after. */
  splits: { name: string; domain: string; n: number; before: number; after: number }[];
}

/** The trainable tensors of one method; every list may be empty. */
export interface AbscVars {
  loreft: { layer: number; v: LoreftVars }[];
  lora: { layer: number; a: tf.Variable; b: tf.Variable }[]; // a [H·E, r], b [r, D]
  full: { layer: number; name: BlockWeightName; v: tf.Variable }[];
}

const NORMS: BlockWeightName[] = ["ln1g", "ln1b", "ln2g", "ln2b"];
const MATRICES: BlockWeightName[] = ["wQkv", "wO", "wIn", "wUp", "wOut"];
const BIASES: BlockWeightName[] = ["bQkv", "bO", "bIn", "bOut"];

/** The block weights full fine-tuning trains: those the checkpoint has (Llama: no biases). */
function fullRoles(model: Gpt2Model): BlockWeightName[] {
  const has = (n: BlockWeightName) => {
    try {
      model.blockWeight(0, n);
      return true;
    } catch {
      return false;
    }
  };
  const biases = familyOf(model.config) === "llama" ? [] : BIASES;
  return [...NORMS, ...MATRICES, ...biases].filter(has);
}

/** The layers a method trains. */
export function abscLayers(
  method: AbscMethod,
  layers: readonly number[],
  nLayer: number,
): number[] {
  return method === "lora_all" ? Array.from({ length: nLayer }, (_, l) => l) : [...layers];
}

/** Trainable parameters of a method (the CLI table's column). */
export function abscParamCount(
  method: AbscMethod,
  p: { layers: readonly number[]; rank: number },
  model: Gpt2Model,
): number {
  const { dModel: D, nLayer } = model.config;
  const HE = model.blockWeight(0, "wO").shape[0];
  const r = p.rank;
  const layers = abscLayers(method, p.layers, nLayer);
  const reft = 2 * r * D + r;
  const lora = r * (HE + D);
  switch (method) {
    case "joint":
      return layers.length * (reft + lora);
    case "loreft":
      return layers.length * reft;
    case "lora_all":
      return layers.length * lora;
    case "ft_layer":
      return (
        layers.length * fullRoles(model).reduce((n, name) => n + model.blockWeight(0, name).size, 0)
      );
  }
}

/** The variables of a method at its initial (identity) state. */
export function abscVars(method: AbscMethod, p: AbscParams, model: Gpt2Model): AbscVars {
  const { dModel: D, nLayer } = model.config;
  const layers = abscLayers(method, p.layers, nLayer);
  const out: AbscVars = { loreft: [], lora: [], full: [] };
  if (method === "joint" || method === "loreft") {
    out.loreft = loreftVars(layers.length, p.rank, D, p.seed).map((v, i) => ({
      layer: layers[i],
      v,
    }));
  }
  if (method === "joint" || method === "lora_all") {
    const rng = new GaussianRng(p.seed + 1);
    const HE = model.blockWeight(0, "wO").shape[0];
    out.lora = layers.map((layer) => {
      const a0 = tf.tensor2d(loraInit(HE, p.rank, rng), [HE, p.rank]);
      const b0 = tf.zeros([p.rank, D]);
      const v = { layer, a: tf.variable(a0, true), b: tf.variable(b0, true) };
      tf.dispose([a0, b0]);
      return v;
    });
  }
  if (method === "ft_layer") {
    out.full = layers.flatMap((layer) =>
      fullRoles(model).map((name) => {
        const w0 = model.blockWeight(layer, name).clone();
        const v = tf.variable(w0, true); // the variable holds its own reference
        w0.dispose();
        return { layer, name, v };
      }),
    );
  }
  return out;
}

export function abscTrainable(v: AbscVars): tf.Variable[] {
  return [...v.lora.flatMap((l) => [l.a, l.b]), ...v.full.map((f) => f.v)];
}

export function disposeAbscVars(v: AbscVars): void {
  tf.dispose([...v.loreft.flatMap(({ v: x }) => [x.R, x.W, x.b]), ...abscTrainable(v)]);
}

/** The method's block weights on `view`: wO + s·A·B, or the trained block weights (new tensors for LoRA). */
function weightsOf(view: Gpt2Model, v: AbscVars, scale: number) {
  return [
    ...v.lora.map((l) => ({
      layer: l.layer,
      name: "wO" as BlockWeightName,
      value: view.blockWeight(l.layer, "wO").add(tf.matMul(l.a, l.b).mul(scale)), // [H·E, D]
    })),
    ...v.full.map((f) => ({ layer: f.layer, name: f.name, value: f.v as tf.Tensor })),
  ];
}

/** The LoReFT interventions for a pass of these lengths (rows' own T − 2). */
function reftInterventions(v: AbscVars, lengths: number | readonly number[]) {
  return v.loreft.flatMap(({ layer, v: x }) =>
    loreftInterventions(residActHook(layer, "resid_post"), x, "aspect", lengths),
  );
}

/**
 * The training loss as a function (for tf.variableGrads): blocks before the first trained layer
 * run once here, without a tape. Call `dispose` when done.
 */
export function abscLoss(
  model: ModelLike,
  tok: TextTokenizer,
  v: AbscVars,
  o: { train: readonly AbscReview[]; labels: readonly string[]; scale: number },
): { loss: () => tf.Scalar; dispose: () => void } {
  const base = baseOf(model);
  const { nCtx, vocabSize: V } = base.config;
  const ids = labelIds(tok, o.labels);
  const rows = o.train.map((r) => tok.encode(r.prompt));
  if (rows.some((row) => row.length < 2 || row.length > nCtx)) {
    throw new EditError(
      "bad_edit",
      `an absc prompt is shorter than 2 tokens or longer than ${nCtx}`,
    );
  }
  const padded = padRows(rows);
  const B = rows.length;
  const view = viewOf(model, padded.lengths);
  const layers = [
    ...v.loreft.map((x) => x.layer),
    ...v.lora.map((x) => x.layer),
    ...v.full.map((x) => x.layer),
  ];
  const start = Math.min(...layers);
  const resid0 = tf.tidy(() => {
    const plain = view.hooks();
    let x = view.embed(padded.ids, { hooks: plain }).resid;
    for (let l = 0; l < start; l++) x = view.block(l, x, { hooks: plain }).resid;
    return x; // [B, T, D]
  });
  const target = new Float32Array(B * V);
  o.train.forEach((r, b) => {
    target[b * V + ids[o.labels.indexOf(r.label)]] = 1;
  });
  const targetT = tf.tensor2d(target, [B, V]); // [B, V] one-hot labels
  const ivs = reftInterventions(v, padded.lengths);
  const lastPos = padded.lengths.map((n) => n - 1);
  // blocks from `start` on with pre-transposed weights (fast backward on wasm, ./grad-blocks.ts)
  const blocks = new GradBlocks(view, start);
  const loss = () =>
    tf.tidy(() => {
      const weights = weightsOf(view, v, o.scale);
      const m = weights.length > 0 ? view.withOverrides({ weights }) : view;
      const hooks = m.hooks({ interventions: ivs });
      const x = blocks.run(resid0, hooks, m); // [B, T, D]
      const logits = unembedRows(m, x, lastPos, { hooks }).reshape([B, V]); // [B, V]
      return tf.logSoftmax(logits).mul(targetT).sum().div(-B) as tf.Scalar;
    });
  return {
    loss,
    dispose: () => {
      blocks.dispose();
      tf.dispose([resid0, targetT]);
    },
  };
}

/** Accuracy on `reviews` with the method's trained state applied. */
async function accuracyWith(
  model: ModelLike,
  tok: TextTokenizer,
  v: AbscVars,
  o: { reviews: readonly AbscReview[]; labels: readonly string[]; scale: number },
): Promise<number> {
  const made: tf.Tensor[] = []; // the summed LoRA weights, kept until scoring is done
  try {
    const viewFor = (len: number) => {
      const view = viewOf(model, len);
      const weights = tf.tidy(() => weightsOf(view, v, o.scale));
      made.push(...weights.filter((w) => w.name === "wO" && v.lora.length > 0).map((w) => w.value));
      const interventions = reftInterventions(v, len);
      return view.withOverrides({ weights, interventions });
    };
    return await labelAccuracy(viewFor, tok, o.reviews, o.labels);
  } finally {
    tf.dispose(made);
  }
}

/** The model's accuracy on each test split, as given (no edit of this recipe). */
export async function uneditedAccuracies(
  model: ModelLike,
  tok: TextTokenizer,
  tests: AbscSplits["tests"],
  labels: readonly string[],
): Promise<number[]> {
  const out: number[] = [];
  for (const t of tests)
    out.push(await labelAccuracy((len) => viewOf(model, len), tok, t.reviews, labels));
  return out;
}

/** Trains one method on the splits' seeded training reviews and scores every test split. */
export async function runAbscMethod(
  model: ModelLike,
  tok: TextTokenizer,
  splits: AbscSplits,
  method: AbscMethod,
  params: Partial<AbscParams> = {},
  opts: {
    onStep?: (s: { step: number; total: number; loss: number }) => void;
    signal?: CancelSignal;
    /** The unedited accuracies per test split, when another method of the same run measured them. */
    before?: readonly number[];
    /** Called with the trained variables and the scored row, before they are freed (the app reads them out as edits). */
    onTrained?: (v: AbscVars, result: AbscResult) => Promise<void>;
  } = {},
): Promise<AbscResult> {
  const p: AbscParams = { ...ABSC_DEFAULTS, ...params };
  const base = baseOf(model);
  const { nLayer, dModel: D } = base.config;
  if (!Number.isInteger(p.rank) || p.rank < 1 || p.rank > D)
    throw new EditError("bad_edit", `rank must be 1 to ${D}`);
  if (p.layers.length === 0 || p.layers.some((l) => !Number.isInteger(l) || l < 0 || l >= nLayer)) {
    throw new EditError("bad_edit", `layers must be 0 to ${nLayer - 1}`);
  }
  if (!(p.lr > 0) || !Number.isInteger(p.steps) || p.steps < 0)
    throw new EditError("bad_edit", "the ABSC recipe needs lr > 0 and whole steps ≥ 0");
  const { train, tests } = abscSample(splits, p);
  const scale = 1; // α = r
  const before =
    opts.before?.length === tests.length
      ? [...opts.before]
      : await uneditedAccuracies(model, tok, tests, splits.labels);

  // full fine-tuning starts from the weights as edited so far (a view has the stack's weights)
  const v = abscVars(method, p, viewOf(model, 2));
  const optimizer = tf.train.adam(p.lr);
  let made: ReturnType<typeof abscLoss> | undefined;
  try {
    made = abscLoss(model, tok, v, { train, labels: splits.labels, scale });
    const losses: AbscResult["losses"] = [];
    await trainLoreft({
      vars: v.loreft.map((x) => x.v),
      extra: abscTrainable(v),
      rank: p.rank,
      D,
      steps: p.steps,
      optimizer,
      lossFn: made.loss,
      losses,
      opts,
    });
    const result: AbscResult = {
      method,
      layers: abscLayers(method, p.layers, nLayer),
      params: abscParamCount(method, p, base),
      losses,
      splits: [],
    };
    for (const [i, t] of tests.entries()) {
      const after = await accuracyWith(model, tok, v, {
        reviews: t.reviews,
        labels: splits.labels,
        scale,
      });
      result.splits.push({
        name: t.name,
        domain: t.domain,
        n: t.reviews.length,
        before: before[i],
        after,
      });
    }
    await opts.onTrained?.(v, result);
    return result;
  } finally {
    optimizer.dispose();
    made?.dispose();
    disposeAbscVars(v);
  }
}
