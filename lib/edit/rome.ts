/**
 * ROME (Meng et al. 2022; kmeng01/rome, METHODS.md §4): rewrite one fact "subject → new object"
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
 *   u          C⁻¹k* / ‖C⁻¹k*‖ with C = I or the shrunk second moment (lib/edit/cov.ts)
 *   ΔW         u vᵀ,  v = (v* − (k W + b)) / (uᵀk),  so that k W′ + b = v*
 *              k: the bare prompt's key (ROME's code, update_key "bare") or k* (the paper,
 *              "mean"). Keys k′ with uᵀk′ = 0, i.e. (C⁻¹k*)ᵀk′ = 0, are left unchanged.
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
import { baseOf, type ModelLike, viewOf } from "./apply";
import { padRows, pickPositions } from "./batch";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { CONTEXT_DEFAULTS, contextTemplates } from "./context";
import { secondMoment, solveShrunk } from "./cov";
import type { EditDataset } from "./dataset";
import { GradBlocks } from "./grad-blocks";
import { dot, norm } from "./linalg";
import { continuationIds, type EditTokenizer, subjectPrompt } from "./tokens";
import {
  type CovSource,
  EditError,
  type RomeEdit,
  type RomeInfo,
  type RomeLearned,
  type RomeParams,
} from "./types";

/**
 * ROME's hyperparameters (kmeng01/rome, GPT-2 XL) except two, chosen by measurement on the
 * bundled model over 50 CounterFact cases (docs/edits.md, "ROME on the bundled model"):
 *   steps 40 (ROME 20): with 20 steps every efficacy failure is a case still descending
 *     (efficacy 0.86); 40 steps reach 0.96–0.98;
 *   cov "general_text+facts" (ROME: Wikipedia): the model's general text alone lacks the entity
 *     names that Wikipedia is full of, and the edit leaks onto other subjects (neighbourhood
 *     0.79 against 0.95).
 */
export const ROME_DEFAULTS = {
  steps: 40,
  lr: 0.5,
  kl_weight: 0.0625,
  kl_prompts: ["{} is a"],
  weight_decay: 0.5,
  clamp: 4,
  early_stop: 0.05,
  cov: "general_text+facts" as CovSource,
  shrinkage: 0.01,
  update_key: "bare" as "bare" | "mean",
};

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

export interface RomeOptions {
  /** The model's dataset.json (for C from general_text). */
  dataset?: EditDataset;
  onStep?: (s: RomeStep) => void;
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

/** Learns a ROME edit on `model` (plain or already edited). Returns the complete edit. */
export async function computeRome(
  model: ModelLike,
  tok: EditTokenizer,
  edit: RomeEdit,
  opts: RomeOptions = {},
): Promise<RomeComputation> {
  const t0 = performance.now();
  const base = baseOf(model);
  const config = base.config;
  const p = romeParams(edit.params);
  const layer = edit.site.layer ?? defaultRomeLayer(config);
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.nLayer) {
    throw new EditError(
      "bad_edit",
      `ROME layer ${layer} does not exist (0 to ${config.nLayer - 1})`,
    );
  }
  if (!(p.steps >= 1) || !(p.lr > 0))
    throw new EditError("bad_edit", "ROME needs steps ≥ 1 and lr > 0");

  // ── prompts: every template with the rewrite prompt, then the KL prompts ──
  const templates = await contextTemplates(model, tok, p.context);
  const rewrite = templates.map((t) => subjectPrompt(tok, t.replace("{}", p.prompt), p.subject));
  const target = continuationIds(tok, rewrite[0].text, p.target_new);
  const kl = p.kl_prompts.map((t) => subjectPrompt(tok, t, p.subject));
  const nR = rewrite.length;
  const nT = target.length;
  const rows = [...rewrite.map((r) => [...r.ids, ...target.slice(0, -1)]), ...kl.map((k) => k.ids)];
  const tooLong = rows.find((r) => r.length > config.nCtx);
  if (tooLong) {
    throw new EditError(
      "bad_edit",
      `a ROME prompt has ${tooLong.length} tokens, more than the context of ${config.nCtx}`,
    );
  }
  const subj = [...rewrite, ...kl].map((r) => r.subjectLast);
  const tgtPos = rewrite.map((r) => Array.from({ length: nT }, (_, i) => r.ids.length - 1 + i));
  const padded = padRows(rows);
  const { T } = padded;
  const B = rows.length;
  const view = viewOf(model, padded.lengths);
  const L = `blocks.${layer}.`;

  // ── one pass without δ: what stays fixed during the optimisation ──
  const fixed = tf.tidy(() => {
    const { logits, activations } = view.forward({
      inputIds: padded.ids,
      record: [`${L}mlp.hook_post`, `${L}hook_resid_mid`, `${L}hook_mlp_out`],
      logitPositions: "all",
    });
    const keys = pickPositions(activations.get(`${L}mlp.hook_post`)!, subj).reshape([B, -1]); // [B, M]
    const outs = pickPositions(activations.get(`${L}hook_mlp_out`)!, subj).reshape([B, -1]); // [B, D]
    const klLogits = pickPositions(logits.slice([nR, 0, 0], [B - nR, T, -1]), subj.slice(nR)); // [K, 1, V]
    return {
      mid: activations.get(`${L}hook_resid_mid`) as tf.Tensor3D, // [B, T, D]
      mlpOut: activations.get(`${L}hook_mlp_out`) as tf.Tensor3D, // [B, T, D]
      kStar: keys.slice([0, 0], [nR, -1]).mean(0), // [M]
      kBare: keys.slice([0, 0], [1, -1]).reshape([-1]), // [M]
      v0: outs.slice([0, 0], [1, -1]).reshape([-1]), // [D]
      klOrig: tf.logSoftmax(klLogits.reshape([B - nR, -1])), // [K, V]
    };
  });
  const [kStarH, kBareH, v0H] = await Promise.all([
    fixed.kStar.data(),
    fixed.kBare.data(),
    fixed.v0.data(),
  ]);
  const v0Norm = norm(v0H);
  const D = config.dModel;

  // δ at the subject's last token of every row: mask [B, T, 1]
  const maskData = new Float32Array(B * T);
  subj.forEach((t, b) => {
    maskData[b * T + t] = 1;
  });
  const mask = tf.tensor3d(maskData, [B, T, 1]);
  const tgtOneHot = tf.tidy(() =>
    tf.oneHot(
      tf.tensor2d(
        rewrite.map(() => target),
        [nR, nT],
        "int32",
      ),
      config.vocabSize,
    ),
  ); // [R, nT, V]
  const init = tf.zeros([D]);
  const delta = tf.variable(init, true);
  init.dispose();
  const optimizer = tf.train.adam(p.lr);
  const hooks = view.hooks();
  const blocks = new GradBlocks(view, layer + 1);
  const losses: RomeInfo["losses"] = [];
  const decayScale = p.weight_decay / (v0Norm * v0Norm);

  const lossFn = (): { loss: tf.Scalar; parts: tf.Tensor1D } => {
    const out = fixed.mlpOut.add(mask.mul(delta)); // hook_mlp_out + δ at the subject
    let r = hooks.apply(`${L}hook_resid_post`, fixed.mid.add(out), 0, {}) as tf.Tensor3D;
    r = blocks.run(r, hooks); // layers l+1 … last
    const hR = pickPositions(r.slice([0, 0, 0], [nR, T, D]), tgtPos); // [R, nT, D]
    const hK = pickPositions(r.slice([nR, 0, 0], [B - nR, T, D]), subj.slice(nR)); // [K, 1, D]
    const lpR = tf.logSoftmax(view.unembed(hR, "all", { hooks }).logits); // [R, nT, V]
    const nll = lpR.mul(tgtOneHot).sum([1, 2]).div(-nT).mean(); // mean over templates
    const lpK = tf.logSoftmax(view.unembed(hK, "all", { hooks }).logits.reshape([B - nR, -1])); // [K, V]
    const klDiv = lpK.exp().mul(lpK.sub(fixed.klOrig)).sum(1).mean(); // KL(new ‖ orig)
    const decay = delta.square().sum().add(1e-20).sqrt().mul(decayScale); // ‖δ‖ (safe at 0)
    const loss = nll.add(klDiv.mul(p.kl_weight)).add(decay) as tf.Scalar;
    return { loss, parts: tf.stack([loss, nll, klDiv, decay]) as tf.Tensor1D };
  };

  try {
    for (let step = 0; step < p.steps; step++) {
      await checkLearningCancelled(opts.signal);
      let parts: tf.Tensor1D | undefined;
      const { grads, value } = tf.variableGrads(() => {
        const r = lossFn();
        parts = tf.keep(r.parts);
        return r.loss;
      }, [delta]);
      const [loss, nll, klv, decay] = await parts!.data();
      tf.dispose([parts!, value]);
      const s: RomeStep = {
        step,
        steps: p.steps,
        loss,
        nll,
        kl: klv,
        decay,
        p_new: Math.exp(-nll),
      };
      losses.push({ step, loss, nll, kl: klv, decay, p_new: s.p_new });
      opts.onStep?.(s);
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        throw new EditError("bad_edit", `ROME's loss is ${loss} at step ${step}`);
      }
      if (loss < p.early_stop || step === p.steps - 1 || opts.shouldStop?.()) {
        tf.dispose(Object.values(grads));
        break;
      }
      optimizer.applyGradients([{ name: delta.name, tensor: grads[delta.name] }]);
      tf.dispose(Object.values(grads));
      // clamp ‖δ‖ ≤ clamp · ‖v₀‖
      const maxNorm = p.clamp * v0Norm;
      tf.tidy(() => {
        const n = delta.norm();
        const f = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(n.add(1e-20)));
        delta.assign(delta.mul(f));
      });
    }
    const deltaH = Float64Array.from(await delta.data());

    // ── the rank-one update ──
    const kStar = Float64Array.from(kStarH);
    const kUpdate = p.update_key === "mean" ? kStar : Float64Array.from(kBareH);
    let cinvK: Float64Array = kStar;
    let covTokens = 0;
    if (p.cov !== "identity") {
      const texts = covTexts(opts.dataset, p.cov);
      const mom = await secondMoment(
        model,
        tok,
        texts.slice(0, p.cov_texts ?? texts.length),
        layer,
      );
      covTokens = mom.tokens;
      cinvK = solveShrunk(mom, p.shrinkage, kStar);
    }
    const v0 = Float64Array.from(v0H);
    const vStar = Float64Array.from(v0, (x, i) => x + deltaH[i]);
    const out = await mlpOutOf(viewOf(model, padded.lengths), layer, kUpdate);
    const { u, v } = rankOneUpdate(cinvK, kUpdate, out, vStar);
    const info: RomeInfo = {
      losses,
      delta_norm: norm(deltaH),
      v0_norm: v0Norm,
      k_star_norm: norm(kStar),
      templates,
      cov: p.cov,
      shrinkage: p.shrinkage,
      cov_tokens: covTokens,
      update_key: p.update_key,
      target_new_ids: target,
      ms: performance.now() - t0,
    };
    const learned: RomeLearned = { u: Array.from(u), v: Array.from(v), info };
    return {
      edit: { ...edit, site: { ...edit.site, layer }, learned },
      kStar,
      kUpdate,
      vStar,
      v0,
    };
  } finally {
    optimizer.dispose();
    blocks.dispose();
    tf.dispose([delta, mask, tgtOneHot, ...Object.values(fixed)]);
  }
}
