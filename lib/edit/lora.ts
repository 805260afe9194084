/**
 * Canonical-examples editing with LoRA (Hewitt et al. 2024, docs/methods.md §3): a low-rank change
 * ΔW = s·A·B of the MLP weights of a contiguous layer range (lib/edit/lora-site.ts), trained on
 * ONE example (prefix, suffix):
 *
 *   init       A [in, r] ~ N(0, 1/in) from the seeded xoshiro128** stream (lib/interp/rng.ts),
 *              B = 0, so training starts at the unedited model
 *   loss       NLL(suffix | prefix), summed over the suffix tokens (teacher forced)
 *   optimiser  Adam (tfjs defaults β = 0.9, 0.999) on A and B, full step on the one example
 *   cap        after every step, the mean next-token NLL over dataset.json general_text;
 *              the LAST state whose NLL ≤ (1 + ε)·original is kept (step 0, no change, always
 *              qualifies), as the paper reports the last epoch within the cap
 *   evaluation P(suffix) ≥ threshold on held-out prompts of the same behaviour
 *              (lib/edit/canonical.ts), before and after
 *
 * The model may already carry edits (an EditedModel): LoRA is trained on top of them, and the
 * deviation is measured against that model.
 *
 * Gradients: the loss is computed with a view of the model whose MLP weights are W + s·A·B
 * (Gpt2Model.withOverrides inside the tape). The suffix log-probabilities are picked with a
 * host-built mask (never gather or tf.oneHot, whose wasm forms lack a gradient or return zeros),
 * so training runs on every backend, wasm included.
 */
import * as tf from "@tensorflow/tfjs";
import { GaussianRng } from "../interp/rng";
import type { Gpt2Config } from "../load/types";
import type { Gpt2Model } from "../model/gpt2";
import { now } from "../util/clock";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, baseOf, isEdited, type ModelLike, padColumns, viewOf } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { canonicalPrompts, canonicalScore } from "./canonical";
import type { EditDataset } from "./dataset";
import type { WeightRole } from "./family-sites";
import { LORA_DEFAULTS, loraLayers, loraModules, loraScale, loraWeight } from "./lora-site";
import { generalTextLoss, type TextLoss } from "./metrics";
import { continuationIds } from "./tokens";
import {
  type Edit,
  EditError,
  type LoraEdit,
  type LoraFactor,
  type LoraInfo,
  type LoraModule,
} from "./types";

export interface LoraStep {
  /** Updates made so far (0 = the original model). */
  step: number;
  total: number;
  /** NLL of the suffix in that state. */
  loss: number;
}

export interface LoraOptions {
  dataset?: EditDataset;
  onStep?: (s: LoraStep) => void;
  shouldStop?: () => boolean;
  /** Checked before every step: set it to abandon the edit (EditError "cancelled"). */
  signal?: CancelSignal;
}

interface Trainable {
  layer: number;
  module: LoraModule;
  name: WeightRole;
  /** The weight's first column the module covers (q/k/v_proj in the fused wQkv). */
  colOffset: number;
  a: tf.Variable; // [in, r]
  b: tf.Variable; // [r, out]
}

/** A's seeded Gaussian init, N(0, 1/in), one factor after another in layer then module order. */
export function loraInit(rows: number, rank: number, rng: GaussianRng): Float32Array {
  const a = new Float32Array(rows * rank);
  const std = 1 / Math.sqrt(rows);
  for (let i = 0; i < a.length; i++) a[i] = rng.nextNormal() * std;
  return a;
}

/** The held-out prompts: the edit's own, else the fact's other phrasings from the dataset. */
function evalPrompts(e: LoraEdit, dataset: EditDataset | undefined): string[] {
  if (e.params.eval_prompts) return e.params.eval_prompts;
  return canonicalPrompts(dataset, e.params.prefix)?.prompts ?? [];
}

/** The one example: prefix ids, then the suffix teacher forced, and the suffix's mask. */
function loraExample(
  tok: TextTokenizer,
  p: typeof LORA_DEFAULTS & LoraEdit["params"],
  config: Gpt2Config,
): { row: number[]; mask: Float32Array } {
  const ids = tok.encode(p.prefix);
  const sids = continuationIds(tok, p.prefix, p.suffix);
  const row = [...ids, ...sids.slice(0, -1)];
  if (ids.length === 0) throw new EditError("bad_edit", "the prefix has no tokens");
  if (row.length > config.nCtx) {
    throw new EditError("bad_edit", `prefix + suffix exceed the context of ${config.nCtx}`);
  }
  const V = config.vocabSize;
  const mask = new Float32Array(row.length * V); // [T, V]: 1 at each suffix token's id
  sids.forEach((id, j) => {
    mask[(ids.length - 1 + j) * V + id] = 1;
  });
  return { row, mask };
}

/** A and B of every (layer, module), A from the seeded stream in layer then module order. */
function trainables(
  layers: [number, number],
  p: typeof LORA_DEFAULTS & LoraEdit["params"],
  modules: readonly LoraModule[],
  config: Gpt2Config,
  train: Trainable[],
): void {
  const rng = new GaussianRng(p.seed);
  for (let layer = layers[0]; layer <= layers[1]; layer++) {
    for (const module of modules) {
      const { name, rows, cols, colOffset } = loraWeight(module, config);
      const a0 = tf.tensor2d(loraInit(rows, p.rank, rng), [rows, p.rank]);
      const b0 = tf.zeros([p.rank, cols]);
      const [a, b] = [tf.variable(a0, true), tf.variable(b0, true)];
      train.push({ layer, module, name, colOffset, a, b });
      tf.dispose([a0, b0]); // the variables hold their own reference
    }
  }
}

/** What the training loop needs besides the variables. */
interface TrainSetup {
  p: typeof LORA_DEFAULTS & LoraEdit["params"];
  opts: LoraOptions;
  /** NLL of the suffix on the tape, and the factors now. */
  nll: () => tf.Scalar;
  snapshot: () => Promise<LoraFactor[]>;
  /** General-text NLL with these factors, and of the original model. */
  generalNll: (factors: LoraFactor[]) => Promise<TextLoss>;
  original: TextLoss;
}

type Kept = { step: number; factors: LoraFactor[]; nll: number };

/**
 * Adam on the one example, measuring the general-text loss of the state before each update; the
 * last state within (1 + ε)·original is kept (step 0, no change, always qualifies).
 */
async function trainLora(
  s: TrainSetup,
  vars: tf.Variable[],
): Promise<{ kept: Kept; losses: LoraInfo["losses"] }> {
  const { p, opts, original } = s;
  const optimizer = tf.train.adam(p.lr);
  try {
    let kept: Kept = { step: 0, factors: await s.snapshot(), nll: original.nll };
    const losses: LoraInfo["losses"] = [];
    for (let step = 0; step <= p.steps; step++) {
      await checkLearningCancelled(opts.signal);
      if (step === p.steps || opts.shouldStop?.()) {
        const v = s.nll();
        const loss = (await v.data())[0];
        v.dispose();
        const g = step === 0 ? original : await s.generalNll(await s.snapshot());
        losses.push({ step, loss, ratio: g.nll / original.nll });
        opts.onStep?.({ step, total: p.steps, loss });
        break;
      }
      const { grads, value } = tf.variableGrads(s.nll, vars);
      const loss = (await value.data())[0];
      value.dispose();
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        throw new EditError("bad_edit", `the LoRA loss is ${loss} at step ${step}`);
      }
      // the state before this update: step 0 is the original model (B = 0)
      const factors = step === 0 ? kept.factors : await s.snapshot();
      const g = step === 0 ? original : await s.generalNll(factors);
      losses.push({ step, loss, ratio: g.nll / original.nll });
      if (g.nll <= (1 + p.epsilon) * original.nll) kept = { step, factors, nll: g.nll };
      opts.onStep?.({ step, total: p.steps, loss });
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose(Object.values(grads));
    }
    // the final state counts too
    const end = losses[losses.length - 1];
    if (end.step > 0 && end.ratio * original.nll <= (1 + p.epsilon) * original.nll) {
      kept = { step: end.step, factors: await s.snapshot(), nll: end.ratio * original.nll };
    }
    return { kept, losses };
  } finally {
    optimizer.dispose();
  }
}

/** NLL(suffix | prefix) with every trained weight W + s·A·B, on the tape. */
function suffixNll(o: {
  view: Gpt2Model;
  train: Trainable[];
  scale: number;
  row: number[];
  mask: tf.Tensor3D;
}): () => tf.Scalar {
  const { view, train, scale, row, mask } = o;
  return () =>
    tf.tidy(() => {
      // W + s·A·B per weight; q/k/v parts of one fused weight add up
      const byWeight = new Map<string, { layer: number; name: WeightRole; value: tf.Tensor }>();
      for (const t of train) {
        const k = `${t.layer}:${t.name}`;
        const w = byWeight.get(k)?.value ?? view.blockWeight(t.layer, t.name); // [in, out]
        const delta = padColumns(tf.matMul(t.a, t.b).mul(scale), t.colOffset, w);
        byWeight.set(k, { layer: t.layer, name: t.name, value: w.add(delta) });
      }
      const weights = [...byWeight.values()];
      const { logits } = view
        .withOverrides({ weights })
        .forward({ inputIds: [row], logitPositions: "all" }); // [1, T, V]
      return tf.logSoftmax(logits).mul(mask).sum().neg() as tf.Scalar;
    });
}

/** The factors now, on the host. */
async function factorsOf(train: readonly Trainable[]): Promise<LoraFactor[]> {
  return Promise.all(
    train.map(async (t) => ({
      layer: t.layer,
      module: t.module,
      a: Array.from(await t.a.data()),
      b: Array.from(await t.b.data()),
    })),
  );
}

/**
 * Runs `f` on the model with the edit's factors set to `factors`, on top of the edits below it
 * in the stack, then frees that model.
 */
function onFactors(model: ModelLike, edit: LoraEdit) {
  const prior: Edit[] = isEdited(model) ? [...model.plan.edits] : [];
  return async <T>(factors: LoraFactor[], f: (m: ModelLike) => Promise<T>): Promise<T> => {
    const m = applyEdits(baseOf(model), [...prior, { ...edit, learned: { factors } }]);
    try {
      return await f(m);
    } finally {
      m.dispose();
    }
  };
}

export async function learnLora(
  model: ModelLike,
  tok: TextTokenizer,
  edit: LoraEdit,
  opts: LoraOptions = {},
): Promise<LoraEdit> {
  const t0 = now();
  const config = baseOf(model).config;
  const p = { ...LORA_DEFAULTS, ...edit.params };
  const [first, last] = loraLayers(edit, config);
  const scale = loraScale(edit);
  if (!(p.steps >= 0) || !(p.lr > 0))
    throw new EditError("bad_edit", "lora needs steps ≥ 0, lr > 0");
  const texts = opts.dataset?.general_text?.slice(0, p.texts);
  if (!texts || texts.length === 0) {
    throw new EditError(
      "bad_dataset",
      "a lora edit needs dataset.json general_text (its deviation cap): give the dataset",
    );
  }
  const example = loraExample(tok, p, config);
  const T = example.row.length;

  const withFactors = onFactors(model, edit);
  const generalNll = (factors: LoraFactor[]) =>
    withFactors(factors, (m) => generalTextLoss(m, tok, texts));

  const prompts = evalPrompts(edit, opts.dataset);
  const task = { prompts, suffix: p.suffix, threshold: p.threshold };
  const before = prompts.length > 0 ? await canonicalScore(model, tok, task) : null;
  const original = await generalTextLoss(model, tok, texts);

  const view = viewOf(model, T);
  const train: Trainable[] = [];
  const mask = tf.tensor3d(example.mask, [1, T, config.vocabSize]);
  const snapshot = () => factorsOf(train);
  try {
    trainables([first, last], p, loraModules(edit, config), config, train);
    const nll = suffixNll({ view, train, scale, row: example.row, mask });
    const vars = train.flatMap((t) => [t.a, t.b]);
    const { kept, losses } = await trainLora(
      { p, opts, nll, snapshot, generalNll, original },
      vars,
    );

    const after =
      prompts.length > 0
        ? await withFactors(kept.factors, (m) => canonicalScore(m, tok, task))
        : null;
    const info: LoraInfo = {
      params: train.reduce((n, t) => n + t.a.size + t.b.size, 0),
      scale,
      losses,
      kept_step: kept.step,
      loss_ratio: kept.nll / original.nll,
      epsilon: p.epsilon,
      general_nll: original.nll,
      general_tokens: original.tokens,
      eval_prompts: prompts,
      success_before: before?.success_rate ?? null,
      success_rate: after?.success_rate ?? null,
      threshold: p.threshold,
      n_eval: prompts.length,
      ms: Math.round(now() - t0),
    };
    const result: LoraEdit = { ...edit, learned: { factors: kept.factors, info } };
    if (!result.site?.layers) result.site = { ...result.site, layers: [first, last] };
    return result;
  } finally {
    mask.dispose();
    for (const t of train) tf.dispose([t.a, t.b]);
  }
}
