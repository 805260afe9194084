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
import { applyEdits, baseOf, isEdited, type ModelLike, viewOf } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { canonicalPrompts, canonicalScore } from "./canonical";
import type { EditDataset } from "./dataset";
import type { WeightRole } from "./family-sites";
import { fullRank, fullTrainables } from "./finetune";
import { checkForget, type ForgetImportance, forgettingPenalty } from "./forget";
import { type Forget, forgetOf, penaltyNow, weightDeltas } from "./forget-lora";
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
  /**
   * Every measured state (step 0 = the original, each step's state, the final one) with its
   * factors and general-text ratio: one training gives the kept state at any other cap too.
   */
  onState?: (s: LoraState) => void;
  /** The forgetting regulariser's importance, already computed for this model and settings. */
  importance?: ForgetImportance;
}

/** A measured training state: its factors and general-text NLL (step 0: the original's). */
export interface LoraState {
  step: number;
  factors: LoraFactor[];
  nll: number;
}

/** The deviation cap: general-text NLL ≤ (1 + ε)·the original's. */
export const withinCap = (nll: number, original: number, epsilon: number) =>
  nll <= (1 + epsilon) * original;

/** The state training keeps under cap ε: the last within it (states[0], the original, always is). */
export function keptState(states: readonly LoraState[], epsilon: number): LoraState {
  return states.filter((x) => withinCap(x.nll, states[0].nll, epsilon)).at(-1) ?? states[0];
}

/** One trained module: its variables and its change of the weight. */
export interface Trainable {
  layer: number;
  module: LoraModule;
  name: WeightRole;
  /** The weight's first column the module covers (q/k/v_proj in the fused wQkv). */
  colOffset: number;
  vars: tf.Variable[];
  /** The module's change [in, n] (n its columns), on the tape. */
  delta: () => tf.Tensor;
  /** The change as the file stores it. */
  factor: () => Promise<LoraFactor>;
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
function loraTrainables(o: TrainablesOptions): Trainable[] {
  const { layers, p, modules, config } = o;
  const rng = new GaussianRng(p.seed);
  const scale = p.alpha / p.rank;
  const train: Trainable[] = [];
  for (let layer = layers[0]; layer <= layers[1]; layer++) {
    for (const module of modules) {
      const { name, rows, cols, colOffset } = loraWeight(module, config);
      const a0 = tf.tensor2d(loraInit(rows, p.rank, rng), [rows, p.rank]);
      const b0 = tf.zeros([p.rank, cols]);
      const [a, b] = [tf.variable(a0, true), tf.variable(b0, true)]; // [in, r], [r, out]
      tf.dispose([a0, b0]); // the variables hold their own reference
      train.push({
        layer,
        module,
        name,
        colOffset,
        vars: [a, b],
        delta: () => tf.matMul(a, b).mul(scale),
        factor: async () => ({
          layer,
          module,
          a: Array.from(await a.data()),
          b: Array.from(await b.data()),
        }),
      });
    }
  }
  return train;
}

/** What the trainables of a layer range are made from (LoRA here, full in ./finetune.ts). */
export interface TrainablesOptions {
  layers: [number, number];
  p: typeof LORA_DEFAULTS & LoraEdit["params"];
  modules: readonly LoraModule[];
  config: Gpt2Config;
}

/** What the training loop needs besides the variables. */
interface TrainSetup {
  p: typeof LORA_DEFAULTS & LoraEdit["params"];
  opts: LoraOptions;
  /** The training loss on the tape (suffix NLL + λ·penalty), and the factors now. */
  nll: () => tf.Scalar;
  /** The forgetting penalty now (null when the regulariser is off). */
  penalty: () => Promise<number | null>;
  snapshot: () => Promise<LoraFactor[]>;
  /** General-text NLL with these factors, and of the original model. */
  generalNll: (factors: LoraFactor[]) => Promise<TextLoss>;
  original: TextLoss;
}

type Kept = { step: number; factors: LoraFactor[]; nll: number };

/** The penalty as a losses entry carries it (nothing when the regulariser is off). */
async function penaltyOf(s: TrainSetup): Promise<{ penalty?: number }> {
  const v = await s.penalty();
  return v === null ? {} : { penalty: v };
}

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
    let last = { factors: kept.factors, nll: original.nll };
    const losses: LoraInfo["losses"] = [];
    for (let step = 0; step <= p.steps; step++) {
      await checkLearningCancelled(opts.signal);
      if (step === p.steps || opts.shouldStop?.()) {
        const v = s.nll();
        const loss = (await v.data())[0];
        v.dispose();
        const factors = step === 0 ? kept.factors : await s.snapshot();
        const g = step === 0 ? original : await s.generalNll(factors);
        last = { factors, nll: g.nll };
        losses.push({ step, loss, ratio: g.nll / original.nll, ...(await penaltyOf(s)) });
        opts.onState?.({ step, factors, nll: g.nll });
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
      losses.push({ step, loss, ratio: g.nll / original.nll, ...(await penaltyOf(s)) });
      opts.onState?.({ step, factors, nll: g.nll });
      if (withinCap(g.nll, original.nll, p.epsilon)) kept = { step, factors, nll: g.nll };
      opts.onStep?.({ step, total: p.steps, loss });
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose(Object.values(grads));
    }
    // the final state counts too
    const end = losses[losses.length - 1];
    if (end.step > 0 && withinCap(last.nll, original.nll, p.epsilon)) {
      kept = { step: end.step, ...last };
    }
    return { kept, losses };
  } finally {
    optimizer.dispose();
  }
}

/** NLL(suffix | prefix) with every trained weight W + ΔW, plus λ·penalty(ΔW), on the tape. */
function trainingLoss(o: {
  view: Gpt2Model;
  train: Trainable[];
  row: number[];
  mask: tf.Tensor3D;
  forget: Forget;
}): () => tf.Scalar {
  const { view, train, row, mask, forget } = o;
  return () =>
    tf.tidy(() => {
      const deltas = weightDeltas(view, train);
      const weights = deltas.map((d) => ({
        layer: d.layer,
        name: d.name,
        value: view.blockWeight(d.layer, d.name).add(d.delta),
      }));
      const { logits } = view
        .withOverrides({ weights })
        .forward({ inputIds: [row], logitPositions: "all" }); // [1, T, V]
      const nll = tf.logSoftmax(logits).mul(mask).sum().neg() as tf.Scalar;
      if (!forget) return nll;
      return nll.add(forgettingPenalty(forget.imp, deltas).mul(forget.lambda)) as tf.Scalar;
    });
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
  const [first, last] = loraLayers(edit, config);
  const modules = loraModules(edit, config);
  const full = edit.params.full === true ? fullRank(modules, config) : null;
  const p = { ...LORA_DEFAULTS, ...edit.params, ...(full ? { rank: full, alpha: full } : {}) };
  const self: LoraEdit = {
    ...edit,
    params: full ? { ...edit.params, rank: full, alpha: full } : edit.params,
  };
  const scale = loraScale(self);
  if (!(p.steps >= 0) || !(p.lr > 0))
    throw new EditError("bad_edit", "lora needs steps ≥ 0, lr > 0");
  if (p.forget)
    checkForget(p.forget, (m) => {
      throw new EditError("bad_edit", m);
    });
  const texts = opts.dataset?.general_text?.slice(0, p.texts);
  if (!texts || texts.length === 0) {
    throw new EditError(
      "bad_dataset",
      "a lora edit needs dataset.json general_text (its deviation cap): give the dataset",
    );
  }
  const example = loraExample(tok, p, config);
  const T = example.row.length;

  const withFactors = onFactors(model, self);
  const generalNll = (factors: LoraFactor[]) =>
    withFactors(factors, (m) => generalTextLoss(m, tok, texts));

  const prompts = evalPrompts(self, opts.dataset);
  const task = { prompts, suffix: p.suffix, threshold: p.threshold };
  const before = prompts.length > 0 ? await canonicalScore(model, tok, task) : null;
  const original = await generalTextLoss(model, tok, texts);

  const view = viewOf(model, T);
  const mask = tf.tensor3d(example.mask, [1, T, config.vocabSize]);
  const setup = { layers: [first, last] as [number, number], p, modules, config };
  const train = full ? fullTrainables(setup) : loraTrainables(setup);
  let forget: Forget = null;
  const snapshot = () => Promise.all(train.map((t) => t.factor()));
  try {
    forget = await forgetOf({
      ...{ model, tok, train, texts, p },
      signal: opts.signal,
      given: opts.importance,
    });
    const nll = trainingLoss({ view, train, row: example.row, mask, forget });
    const penalty = penaltyNow(view, train, forget);
    const vars = train.flatMap((t) => t.vars);
    const { kept, losses } = await trainLora(
      { p, opts, nll, penalty, snapshot, generalNll, original },
      vars,
    );

    const after =
      prompts.length > 0
        ? await withFactors(kept.factors, (m) => canonicalScore(m, tok, task))
        : null;
    const info: LoraInfo = {
      params: vars.reduce((n, v) => n + v.size, 0),
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
      ...(forget ? { forget: { lambda: forget.lambda, raw_mean: forget.imp.rawMean } } : {}),
    };
    const result: LoraEdit = { ...self, learned: { factors: kept.factors, info } };
    if (!result.site?.layers) result.site = { ...result.site, layers: [first, last] };
    return result;
  } finally {
    mask.dispose();
    if (forget?.owned) forget.imp.dispose();
    for (const t of train) tf.dispose(t.vars);
  }
}
