/**
 * ROME (Meng et al. 2022; kmeng01/rome, docs/methods.md §4): rewrite one fact "subject → new object"
 * with a rank-one change of the MLP output projection W (mlp.c_proj.weight, Conv1D [d_mlp, d])
 * of one layer l, at the subject's last token.
 *
 *   templates  "{}" plus self-generated prefixes "<text>. {}" (lib/edit/context.ts)
 *   k*         mean over the templates of blocks.l.mlp.hook_post at the subject's last token
 *   v* = v₀+δ  v₀: the MLP output there in the bare prompt; δ ∈ ℝ^d is added to the MLP output
 *              (blocks.l.hook_mlp_out) at the subject's last token of every template, and
 *              minimises, with Adam (lr 0.5, ≤ 20 steps, as ROME):
 *                mean over templates of NLL(new object | template)  (per-token mean)
 *              + 0.0625 · KL(new ‖ orig) of the next-token distribution at the subject's last
 *                token of "{subject} is a" (ROME's "essence" term; δ is added there too)
 *              + 0.5 · ‖δ‖ / ‖v₀‖²          (ROME's code: the norm, not its square)
 *              ‖δ‖ is clamped to 4‖v₀‖ after every step; the loop stops when the loss is below
 *              0.05 (checked before a step, as ROME does; its last iteration takes no step)
 *   u          C⁻¹k* / ‖C⁻¹k*‖ with C = I or the shrunk second moment (lib/edit/cov.ts); with
 *              preserve λ > 0 (default 10, bounded by preserve_cost 2; ROME: 0) the prompts'
 *              own other keys are added to C (lib/edit/rome-preserve.ts)
 *   ΔW         u vᵀ,  v = (v* − (k W + b)) / (uᵀk),  so that k W′ + b = v*
 *              k: the bare prompt's key (ROME's code, update_key "bare") or k* (the paper,
 *              "mean"). Keys k′ with uᵀk′ = 0, i.e. (C⁻¹k*)ᵀk′ = 0, are left unchanged.
 *
 * The optimisation of δ is lib/edit/rome-delta.ts.
 *
 * Gradients: the loss is a function of δ through the blocks after l only (everything before is
 * computed once, without a tape). Every op on that path has a gradient kernel on wasm: the
 * positions are picked with one-hot matMuls (batch.ts), never with gather, whose gradient
 * (UnsortedSegmentSum) wasm lacks, and the blocks are lib/edit/grad-blocks.ts, whose linear
 * layers avoid wasm's slow transposed matMul in the backward pass. The optimisation therefore
 * runs on the current backend, wasm included.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Config } from "../load/types";
import type { Gpt2Model } from "../model/gpt2";
import { now } from "../util/clock";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike, viewOf } from "./apply";
import type { CancelSignal, WorkWatch } from "./cancel";
import { CONTEXT_DEFAULTS } from "./context";
import { type SecondMoment, secondMoment, solveShrunk } from "./cov";
import type { EditDataset } from "./dataset";
import { dot, norm } from "./linalg";
import { ROME_DEFAULTS } from "./rome-defaults";
import { optimiseDelta, romeBatch } from "./rome-delta";
import { solvePreserving } from "./rome-preserve";
import {
  type CovSource,
  EditError,
  type RomeEdit,
  type RomeInfo,
  type RomeLearned,
  type RomeParams,
} from "./types";

/** ROME's defaults: lib/edit/rome-defaults.ts says what was measured, and on which split. */
export { ROME_DEFAULTS };

/**
 * The layer ROME edits when the edit names none. For the bundled 6-layer model the MLP causal
 * trace at the subject's last token peaks at layer 0 (`causeway trace-dataset --kind mlp
 * --window 1`), and ROME's CounterFact scores there are far above those of layers 1–3
 * (docs/edits.md); small models (≤ 8 layers) therefore default to layer 0. Deeper models get
 * ROME's GPT-2 XL choice scaled to depth (17 of 48 ≈ 0.35).
 */
export function defaultRomeLayer(config: Gpt2Config): number {
  if (config.nLayer <= 8) return 0;
  return Math.round(0.35 * config.nLayer);
}

export interface RomeStep {
  step: number;
  steps: number;
  loss: number;
  nll: number;
  kl: number;
  decay: number;
  /** exp(−nll): the new object's (geometric-mean) probability over the templates. */
  p_new: number;
}

/** What ROME prepares before its first step (both cached per root model). */
export type PreparePhase = "statistics" | "templates";

export interface RomeOptions {
  /** The model's dataset.json (for C from general_text). */
  dataset?: EditDataset;
  onStep?: (s: RomeStep) => void;
  /** Before the first step: C's texts and the context templates' tokens, done of total. */
  onPrepare?: (what: PreparePhase, done: number, total: number) => void;
  /** Checked between steps: return true to stop (the edit is then computed from δ so far). */
  shouldStop?: () => boolean;
  /** Checked before every step: set it to abandon the edit (EditError "cancelled"). */
  signal?: CancelSignal;
}

/** What compute needs besides the learned factors: useful to tests and the UI. */
export interface RomeComputation {
  edit: RomeEdit;
  kStar: Float64Array;
  kUpdate: Float64Array;
  vStar: Float64Array;
  v0: Float64Array;
}

/**
 * Rank-one factors (u, v) of ΔW so that k (W + u vᵀ) + b = target, with u = Cinv_k / ‖Cinv_k‖:
 * v = (target − (k W + b)) / (uᵀk). kW is given (computed on the device) as `out`.
 */
export function rankOneUpdate(
  cinvK: ArrayLike<number>,
  k: ArrayLike<number>,
  out: ArrayLike<number>,
  target: ArrayLike<number>,
): { u: Float64Array; v: Float64Array } {
  const n = norm(cinvK);
  if (!(n > 0)) throw new EditError("bad_edit", "C⁻¹k* is zero: the subject's key is empty");
  const u = Float64Array.from(cinvK, (x) => x / n);
  const uk = dot(u, k);
  if (!(Math.abs(uk) > 1e-12)) {
    throw new EditError("bad_edit", "uᵀk is zero: the update key is orthogonal to C⁻¹k*");
  }
  const v = Float64Array.from(target, (t, i) => (t - out[i]) / uk);
  return { u, v };
}

/** k W + b for a key on the host (W, b the current mlp.c_proj of `layer`). */
async function mlpOutOf(
  model: Gpt2Model,
  layer: number,
  k: ArrayLike<number>,
): Promise<Float64Array> {
  const M = k.length;
  const y = tf.tidy(() =>
    tf
      .matMul(
        tf.tensor2d(Float32Array.from(k), [1, M]),
        model.blockWeight(layer, "wOut") as tf.Tensor2D,
      )
      .add(model.blockWeight(layer, "bOut")),
  );
  const d = await y.data();
  y.dispose();
  return Float64Array.from(d);
}

/**
 * The corpus of C: general_text (the choice: the model's held-out general text), or
 * general_text+facts, which adds every known fact as a sentence ("<prompt><attribute>."), so that
 * C also covers the keys of entity names, as ROME's Wikipedia does (general text has no names).
 * The added facts include the subjects that are edited and their neighbours.
 */
export function covTexts(
  dataset: EditDataset | undefined,
  cov: Exclude<CovSource, "identity">,
): string[] {
  const general = dataset?.general_text ?? [];
  const facts =
    cov === "general_text+facts"
      ? (dataset?.known_facts ?? []).map((f) => `${f.prompt}${f.attribute ?? ""}.`)
      : [];
  if (general.length === 0 || (cov === "general_text+facts" && facts.length === 0)) {
    throw new EditError(
      "bad_dataset",
      `cov ${cov} needs the model's dataset.json (general_text${cov === "general_text" ? "" : ", known_facts"})`,
    );
  }
  return [...general, ...facts];
}

export type ResolvedRomeParams = RomeParams &
  typeof ROME_DEFAULTS & { context: typeof CONTEXT_DEFAULTS };

/** The edit's parameters with ROME's defaults filled in. */
export function romeParams(p: RomeParams): ResolvedRomeParams {
  const given = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  return {
    ...ROME_DEFAULTS,
    ...given,
    context: { ...CONTEXT_DEFAULTS, ...(p.context ?? {}) },
  } as ResolvedRomeParams;
}

/** The edited layer: the edit's own or the default, checked against the model. */
function romeLayer(edit: RomeEdit, config: Gpt2Config): number {
  const layer = edit.site.layer ?? defaultRomeLayer(config);
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.nLayer) {
    throw new EditError(
      "bad_edit",
      `ROME layer ${layer} does not exist (0 to ${config.nLayer - 1})`,
    );
  }
  return layer;
}

/**
 * C of the edit's corpus (null for C = I), refused before δ is learned when C + γ·(tr C/d)·I has
 * no Cholesky factor: with γ = 0 a corpus of fewer tokens than d_mlp gives a singular C.
 */
async function romeMoment(
  o: { model: ModelLike; tok: TextTokenizer; dataset?: EditDataset; watch?: WorkWatch },
  p: ResolvedRomeParams,
  layer: number,
): Promise<SecondMoment | null> {
  if (p.cov === "identity") return null;
  const mom = await secondMoment(o.model, o.tok, romeCovTexts(p, o.dataset), layer, o.watch);
  if ((p.shrinkage === 0 && mom.tokens < mom.n) || !factorOk(mom, p.shrinkage)) {
    throw new EditError(
      "bad_edit",
      `rome layer ${layer}: C is not positive definite (C from ${mom.tokens} tokens of ${p.cov}, d_mlp ${mom.n}, shrinkage ${p.shrinkage}): give a larger corpus (at least ${mom.n} tokens) or shrinkage > 0`,
    );
  }
  return mom;
}

/** The texts ROME's C of these settings is taken over (cov not "identity"). */
function romeCovTexts(p: ResolvedRomeParams, dataset: EditDataset | undefined): string[] {
  if (p.cov === "identity") return [];
  const texts = covTexts(dataset, p.cov);
  return texts.slice(0, p.cov_texts ?? texts.length);
}

/**
 * The C a ROME edit will read (its layer and corpus), or null when it reads none (C = I, or it
 * is learned already): so that a caller can fetch C from browser storage first
 * (lib/edit/cov-cache.ts), where computeRome then finds it in memory.
 */
export function romeMomentNeed(
  edit: RomeEdit,
  config: Gpt2Config,
  dataset: EditDataset | undefined,
): { layer: number; texts: string[] } | null {
  if (edit.learned) return null;
  const p = romeParams(edit.params);
  if (p.cov === "identity") return null;
  return { layer: romeLayer(edit, config), texts: romeCovTexts(p, dataset) };
}

/** Whether C + γ·(tr C/d)·I has a Cholesky factor (which solveShrunk then keeps). */
function factorOk(mom: SecondMoment, gamma: number): boolean {
  try {
    solveShrunk(mom, gamma, new Float64Array(mom.n));
    return true;
  } catch {
    return false;
  }
}

/** Learns a ROME edit on `model` (plain or already edited). Returns the complete edit. */
export async function computeRome(
  model: ModelLike,
  tok: TextTokenizer,
  edit: RomeEdit,
  opts: RomeOptions = {},
): Promise<RomeComputation> {
  const t0 = now();
  const p = romeParams(edit.params);
  const layer = romeLayer(edit, baseOf(model).config);
  if (!(p.steps >= 1) || !(p.lr > 0))
    throw new EditError("bad_edit", "ROME needs steps ≥ 1 and lr > 0");

  const watch = (what: PreparePhase): WorkWatch => ({
    signal: opts.signal,
    onProgress: (done, total) => opts.onPrepare?.(what, done, total),
  });
  const mom = await romeMoment(
    { model, tok, dataset: opts.dataset, watch: watch("statistics") },
    p,
    layer,
  );
  const batch = await romeBatch(model, tok, p, watch("templates"));
  // C⁻¹k: k itself for C = I
  const solve = (k: Float64Array) => (mom ? solveShrunk(mom, p.shrinkage, k) : k);
  const direction = (k: { kStar: Float64Array; kBare: Float64Array; others: Float64Array[] }) =>
    solvePreserving({
      solve,
      kStar: k.kStar,
      others: k.others,
      lambda: p.preserve,
      cost: p.preserve_cost,
      kUpdate: p.update_key === "mean" ? k.kStar : k.kBare,
    });
  const footprint = p.delta_at === "footprint" ? p.update_key : undefined;
  const d = await optimiseDelta({ ...opts, model, batch, layer, p, direction, footprint });

  // ── the rank-one update ──
  const kUpdate = p.update_key === "mean" ? d.kStar : d.kBare;
  const cinvK = d.w!;
  const vStar = Float64Array.from(d.v0, (x, i) => x + d.delta[i]);
  const out = await mlpOutOf(viewOf(model, batch.padded.lengths), layer, kUpdate);
  const { u, v } = rankOneUpdate(cinvK, kUpdate, out, vStar);
  const info: RomeInfo = {
    losses: d.losses,
    delta_norm: norm(d.delta),
    v0_norm: norm(d.v0),
    k_star_norm: norm(d.kStar),
    templates: batch.templates,
    cov: p.cov,
    shrinkage: p.shrinkage,
    cov_tokens: mom?.tokens ?? 0,
    update_key: p.update_key,
    delta_at: p.delta_at,
    preserve: d.lambda ?? p.preserve,
    target_new_ids: batch.target,
    ms: now() - t0,
  };
  const learned: RomeLearned = { u: Array.from(u), v: Array.from(v), info };
  return {
    edit: { ...edit, site: { ...edit.site, layer }, learned },
    kStar: d.kStar,
    kUpdate,
    vStar,
    v0: d.v0,
  };
}
