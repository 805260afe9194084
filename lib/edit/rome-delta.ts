/**
 * ROME's optimisation of δ (lib/edit/rome.ts has the maths): the prompts' layout in one padded
 * batch, one pass without δ for what stays fixed (k*, the bare key, v₀, the KL reference), and
 * Adam on δ added to blocks.l.hook_mlp_out at the subject's last token of every row.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import { type BlockHook, blockHook } from "../model/hooks";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike, viewOf } from "./apply";
import { padRows, pickPositions } from "./batch";
import { type CancelSignal, checkLearningCancelled, type WorkWatch } from "./cancel";
import { contextTemplates } from "./context";
import { GradBlocks } from "./grad-blocks";
import { norm } from "./linalg";
import type { ResolvedRomeParams, RomeStep } from "./rome";
import { type FootprintTensors, footprintTensors, type UpdateKey } from "./rome-footprint";
import type { PreservingDirection } from "./rome-preserve";
import { continuationIds, subjectPrompt } from "./tokens";
import { EditError, type RomeInfo } from "./types";
import { rewriteLogProbs } from "./unembed-rows";

/** Every template with the rewrite prompt, then the KL prompts, as one right-padded batch. */
export interface RomeBatch {
  templates: string[];
  /** The new object's ids. */
  target: number[];
  /** Rewrite rows (the first nR) and KL rows. */
  nR: number;
  nT: number;
  /** The subject's last token in every row. */
  subj: number[];
  /** The positions predicting each target token, per rewrite row. */
  tgtPos: number[][];
  padded: ReturnType<typeof padRows>;
}

export async function romeBatch(
  model: ModelLike,
  tok: TextTokenizer,
  p: ResolvedRomeParams,
  watch?: WorkWatch,
): Promise<RomeBatch> {
  const { nCtx } = baseOf(model).config;
  const templates = await contextTemplates(model, tok, p.context, watch);
  const rewrite = templates.map((t) => subjectPrompt(tok, t.replace("{}", p.prompt), p.subject));
  const target = continuationIds(tok, rewrite[0].text, p.target_new);
  const kl = p.kl_prompts.map((t) => subjectPrompt(tok, t, p.subject));
  const nT = target.length;
  const rows = [...rewrite.map((r) => [...r.ids, ...target.slice(0, -1)]), ...kl.map((k) => k.ids)];
  const tooLong = rows.find((r) => r.length > nCtx);
  if (tooLong) {
    throw new EditError(
      "bad_edit",
      `a ROME prompt has ${tooLong.length} tokens, more than the context of ${nCtx}`,
    );
  }
  return {
    templates,
    target,
    nR: rewrite.length,
    nT,
    subj: [...rewrite, ...kl].map((r) => r.subjectLast),
    tgtPos: rewrite.map((r) => Array.from({ length: nT }, (_, i) => r.ids.length - 1 + i)),
    padded: padRows(rows),
  };
}

/** The new object's ids one-hot at every rewrite row's target positions: [R, nT, V]. */
export function targetOneHot(b: RomeBatch, vocabSize: number): tf.Tensor3D {
  return tf.tidy(() =>
    tf.oneHot(
      tf.tensor2d(
        b.tgtPos.map(() => b.target),
        [b.nR, b.nT],
        "int32",
      ),
      vocabSize,
    ),
  ) as tf.Tensor3D;
}

/** What one pass without δ gives: fixed during the optimisation. */
interface FixedPass {
  mid: tf.Tensor3D; // [B, T, D] resid_post − mlp_out of layer l (hook_resid_mid when sequential)
  mlpOut: tf.Tensor3D; // [B, T, D] hook_mlp_out of layer l
  kStar: tf.Tensor1D; // [M] mean key over the templates
  kBare: tf.Tensor1D; // [M] the bare prompt's key
  v0: tf.Tensor1D; // [D] the bare prompt's MLP output
  klOrig: tf.Tensor2D; // [K, V] log-probabilities of the KL prompts
  keys?: tf.Tensor3D; // [B, T, M] mlp.hook_post at every position (kept for ROME's direction)
}

function fixedPass(
  view: Gpt2Model,
  b: RomeBatch,
  layer: number,
  anchor: DeltaAnchor = "mlp_out",
  keepKeys = false,
): FixedPass {
  const L = (hook: BlockHook) => blockHook(layer, hook);
  const B = b.padded.ids.length;
  const { T } = b.padded;
  const { nR, subj } = b;
  // a parallel-residual block (Pythia) has no resid_mid: what its MLP output adds to is
  // resid_pre + attn_out = resid_post − mlp_out
  const { parallel } = view.spec;
  return tf.tidy(() => {
    const { logits, activations } = view.forward({
      inputIds: b.padded.ids,
      record: [
        L("mlp.hook_post"),
        ...(parallel ? [] : [L("hook_resid_mid")]),
        L("hook_mlp_out"),
        L("hook_resid_post"),
      ],
      logitPositions: "all",
    });
    const mlpOut = activations.get(L("hook_mlp_out")) as tf.Tensor3D;
    const allKeys = activations.get(L("mlp.hook_post")) as tf.Tensor3D; // [B, T, M]
    const keys = pickPositions(allKeys, subj).reshape([B, -1]); // [B, M]
    const outs = pickPositions(activations.get(L(`hook_${anchor}`))!, subj).reshape([B, -1]); // [B, D]
    const klLogits = pickPositions(logits.slice([nR, 0, 0], [B - nR, T, -1]), subj.slice(nR)); // [K, 1, V]
    return {
      mid: parallel
        ? (activations.get(L("hook_resid_post"))!.sub(mlpOut) as tf.Tensor3D)
        : (activations.get(L("hook_resid_mid")) as tf.Tensor3D),
      mlpOut,
      kStar: keys.slice([0, 0], [nR, -1]).mean(0) as tf.Tensor1D,
      kBare: keys.slice([0, 0], [1, -1]).reshape([-1]) as tf.Tensor1D,
      v0: outs.slice([0, 0], [1, -1]).reshape([-1]) as tf.Tensor1D,
      klOrig: tf.logSoftmax(klLogits.reshape([B - nR, -1])) as tf.Tensor2D,
      ...(keepKeys ? { keys: allKeys.clone() } : {}),
    };
  });
}

/**
 * What v₀ (the norm reference of the penalty and the clamp, returned as v0) is: ROME's MLP
 * output (hook_mlp_out), or MEMIT's block output h_L (hook_resid_post, memit/compute_z.py's
 * target_init). δ is added at the same place either way: resid_post = resid_mid + mlp_out.
 */
export type DeltaAnchor = "mlp_out" | "resid_post";

export interface DeltaOptions {
  model: ModelLike;
  batch: RomeBatch;
  layer: number;
  p: ResolvedRomeParams;
  /** Default "mlp_out" (ROME). */
  anchor?: DeltaAnchor;
  /**
   * ROME's direction w = C⁻¹k* from k* and the keys at every other prompt position (the
   * subject's last token of no row; rome-preserve.ts), computed after the fixed pass.
   */
  direction?: (keys: {
    kStar: Float64Array;
    kBare: Float64Array;
    others: Float64Array[];
  }) => PreservingDirection;
  /**
   * With a direction: δ is learned where ROME's update with this key will write it, c_t·(δ + e)
   * at every position (lib/edit/rome-footprint.ts), instead of at the subject's last token only.
   */
  footprint?: UpdateKey;
  onStep?: (s: RomeStep) => void;
  shouldStop?: () => boolean;
  signal?: CancelSignal;
}

export interface DeltaResult {
  delta: Float64Array;
  kStar: Float64Array;
  kBare: Float64Array;
  v0: Float64Array;
  /** The direction, when asked for. */
  w?: Float64Array;
  /** The preserve λ the direction used (rome-preserve.ts: lowered by preserve_cost). */
  lambda?: number;
  losses: RomeInfo["losses"];
}

/** The loss of δ: the tensors it reads and a function building it on the tape. */
function lossOf(
  view: Gpt2Model,
  o: DeltaOptions,
  fixed: FixedPass,
  s: { delta: tf.Variable; v0Norm: number; written?: FootprintTensors },
) {
  const { batch: b, layer, p } = o;
  const { delta, v0Norm } = s;
  const B = b.padded.ids.length;
  const { T } = b.padded;
  const { nR, nT, subj, tgtPos } = b;
  const { vocabSize } = view.config;
  const L = (hook: BlockHook) => blockHook(layer, hook);
  // δ at the subject's last token of every row: mask [B, T, 1]
  const maskData = new Float32Array(B * T);
  subj.forEach((t, i) => {
    maskData[i * T + t] = 1;
  });
  const mask = tf.tensor3d(maskData, [B, T, 1]);
  // what the MLP output gets: δ at the subject, or the update's footprint c_t·(δ + e)
  const added = (): tf.Tensor3D =>
    s.written ? s.written.coef.mul(delta.add(s.written.offset)) : mask.mul(delta);
  const tgtOneHot = targetOneHot(b, vocabSize); // [R, nT, V]
  const pos = { targets: tgtPos, kl: subj.slice(nR) }; // KL rows at their subject
  const hooks = view.hooks();
  const blocks = new GradBlocks(view, layer + 1);
  const decayScale = p.weight_decay / (v0Norm * v0Norm);
  const loss = (): { loss: tf.Scalar; parts: tf.Tensor1D } => {
    const out = fixed.mlpOut.add(added()); // hook_mlp_out + δ where it is written
    let r = hooks.apply(L("hook_resid_post"), fixed.mid.add(out), 0, {}) as tf.Tensor3D;
    r = blocks.run(r, hooks); // layers l+1 … last
    const { lpR, lpK } = rewriteLogProbs(view, r, pos, { hooks }); // [R, nT, V], [K, V]
    const nll = lpR.mul(tgtOneHot).sum([1, 2]).div(-nT).mean(); // mean over templates
    const klDiv = lpK!.exp().mul(lpK!.sub(fixed.klOrig)).sum(1).mean(); // KL(new ‖ orig), K ≥ 1
    const decay = delta.square().sum().add(1e-20).sqrt().mul(decayScale); // ‖δ‖ (safe at 0)
    const total = nll.add(klDiv.mul(p.kl_weight)).add(decay) as tf.Scalar;
    return { loss: total, parts: tf.stack([total, nll, klDiv, decay]) as tf.Tensor1D };
  };
  const dispose = () => {
    blocks.dispose();
    tf.dispose([mask, tgtOneHot]);
  };
  return { loss, dispose };
}

/** One step: the loss and its parts reported, then Adam and the clamp; false once the loop stops. */
async function step(
  o: DeltaOptions,
  s: { step: number; delta: tf.Variable; optimizer: tf.Optimizer; maxNorm: number },
  lossFn: () => { loss: tf.Scalar; parts: tf.Tensor1D },
  losses: RomeInfo["losses"],
): Promise<boolean> {
  const { p } = o;
  let parts: tf.Tensor1D | undefined;
  const { grads, value } = tf.variableGrads(() => {
    const r = lossFn();
    parts = tf.keep(r.parts);
    return r.loss;
  }, [s.delta]);
  const [loss, nll, kl, decay] = await parts!.data();
  tf.dispose([parts!, value]);
  const p_new = Math.exp(-nll);
  losses.push({ step: s.step, loss, nll, kl, decay, p_new });
  o.onStep?.({ step: s.step, steps: p.steps, loss, nll, kl, decay, p_new });
  try {
    if (!Number.isFinite(loss)) {
      throw new EditError("bad_edit", `ROME's loss is ${loss} at step ${s.step}`);
    }
    if (loss < p.early_stop || s.step === p.steps - 1 || o.shouldStop?.()) return false;
    s.optimizer.applyGradients([{ name: s.delta.name, tensor: grads[s.delta.name] }]);
  } finally {
    tf.dispose(Object.values(grads));
  }
  // clamp ‖δ‖ ≤ clamp · ‖v₀‖
  tf.tidy(() => {
    const n = s.delta.norm();
    const f = tf.minimum(tf.scalar(1), tf.scalar(s.maxNorm).div(n.add(1e-20)));
    s.delta.assign(s.delta.mul(f));
  });
  return true;
}

/**
 * The keys at every prompt position but each row's subject's last token: the rewrite rows up to
 * their prompt's end (not the new object's tokens), the KL rows whole.
 */
async function otherKeys(keys: tf.Tensor3D, b: RomeBatch): Promise<Float64Array[]> {
  const [, T, M] = keys.shape;
  const all = await keys.data();
  const out: Float64Array[] = [];
  b.padded.lengths.forEach((len, i) => {
    const end = i < b.nR ? b.tgtPos[i][0] + 1 : len;
    for (let t = 0; t < end; t++) {
      if (t !== b.subj[i])
        out.push(Float64Array.from(all.subarray((i * T + t) * M, (i * T + t + 1) * M)));
    }
  });
  return out;
}

/** Learns δ with Adam; returns it with the fixed pass's keys and v₀ on the host. */
export async function optimiseDelta(o: DeltaOptions): Promise<DeltaResult> {
  const view = viewOf(o.model, o.batch.padded.lengths);
  const fixed = fixedPass(view, o.batch, o.layer, o.anchor, o.direction !== undefined);
  const [kStarH, kBareH, v0H] = (
    await Promise.all([fixed.kStar.data(), fixed.kBare.data(), fixed.v0.data()])
  ).map((x) => Float64Array.from(x));
  const v0Norm = norm(v0H);
  let written: FootprintTensors | undefined;
  let w: Float64Array | undefined;
  let lambda: number | undefined;
  try {
    if (o.direction) {
      const others = await otherKeys(fixed.keys!, o.batch);
      ({ w, lambda } = o.direction({ kStar: kStarH, kBare: kBareH, others }));
    }
    if (w && o.footprint) {
      written = footprintTensors({
        view,
        layer: o.layer,
        keys: fixed.keys!,
        lengths: o.batch.padded.lengths,
        kStar: kStarH,
        kBare: kBareH,
        v0: v0H,
        w,
        key: o.footprint,
      });
    }
  } catch (e) {
    tf.dispose(Object.values(fixed));
    throw e;
  }
  const init = tf.zeros([view.config.dModel]);
  const delta = tf.variable(init, true);
  init.dispose();
  const optimizer = tf.train.adam(o.p.lr);
  const lossFn = lossOf(view, o, fixed, { delta, v0Norm, written });
  const losses: RomeInfo["losses"] = [];
  try {
    const s = { step: 0, delta, optimizer, maxNorm: o.p.clamp * v0Norm };
    for (; s.step < o.p.steps; s.step++) {
      await checkLearningCancelled(o.signal);
      if (!(await step(o, s, lossFn.loss, losses))) break;
    }
    return {
      delta: Float64Array.from(await delta.data()),
      kStar: kStarH,
      kBare: kBareH,
      v0: v0H,
      w,
      lambda,
      losses,
    };
  } finally {
    optimizer.dispose();
    lossFn.dispose();
    tf.dispose([delta, ...Object.values(fixed), ...(written ? Object.values(written) : [])]);
  }
}
