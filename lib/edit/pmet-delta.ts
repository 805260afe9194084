/**
 * PMET's optimisation of the hidden states (xpq-tech/PMET pmet/compute_zs.py): two vectors,
 * δ_attn added to blocks.l.hook_attn_out and δ_mlp added to blocks.l.hook_mlp_out at the
 * subject's last token of every row, learned together with one Adam on
 *
 *   nll_loss_factor · NLL(target | rewrite rows) + kl_factor · KL(new ‖ orig on "{} is a")
 *     + v_weight_decay · (‖δ_mlp‖ / ‖h_mlp‖² + ‖δ_attn‖ / ‖h_attn‖²)
 *
 * with h_attn, h_mlp the two modules' outputs in the bare prompt, each δ clamped to
 * clamp_norm_factor · ‖h‖ after every step. Unlike ROME's δ (lib/edit/rome-delta.ts), δ_attn
 * changes the MLP's input, so block l is recomputed in every step. PMET's schedule of the NLL
 * weight: while the target is already the top token at every target position, the NLL weight
 * drops to a tenth, and the loop stops once the KL term is ≤ 0.01 as well; it stops at a total
 * loss below 0.05 too (compute_zs's `max_prob == prob` and `loss < 5e-2`).
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelIntervention } from "../model/hook-plan";
import { blockHook } from "../model/hooks";
import { type ModelLike, viewOf } from "./apply";
import { pickPositions } from "./batch";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { GradBlocks } from "./grad-blocks";
import { norm } from "./linalg";
import type { ResolvedPmetHparams } from "./pmet-params";
import type { RomeStep } from "./rome";
import { type RomeBatch, targetOneHot } from "./rome-delta";
import { EditError } from "./types";
import { rewriteLogProbs } from "./unembed-rows";

/** One step's report, as ROME's (kl: already times kl_factor; nll: before nll_loss_factor). */
export type PmetStep = RomeStep;

export interface PmetDeltaOptions {
  model: ModelLike;
  batch: RomeBatch;
  layer: number;
  hp: ResolvedPmetHparams;
  /** The total loss below which the loop stops (ROME's early_stop, PMET's 5e-2). */
  earlyStop: number;
  onStep?: (s: PmetStep) => void;
  signal?: CancelSignal;
}

export interface PmetDeltaResult {
  deltaAttn: Float64Array;
  deltaMlp: Float64Array;
  /** The bare prompt's hook_attn_out / hook_mlp_out at the subject's last token. */
  hAttn: Float64Array;
  hMlp: Float64Array;
  losses: PmetStep[];
}

/** What stays fixed: block l's input, the modules' outputs there, the KL reference. */
interface Fixed {
  resid: tf.Tensor3D; // [B, T, D] the input of block l
  hAttn: tf.Tensor1D; // [D]
  hMlp: tf.Tensor1D; // [D]
  klOrig: tf.Tensor2D; // [K, V]
}

function fixedPass(view: ReturnType<typeof viewOf>, b: RomeBatch, layer: number): Fixed {
  const B = b.padded.ids.length;
  const { T } = b.padded;
  const { nR, subj } = b;
  const attnHook = blockHook(layer, "hook_attn_out");
  const mlpHook = blockHook(layer, "hook_mlp_out");
  const inHook = layer > 0 ? blockHook(layer - 1, "hook_resid_post") : null;
  return tf.tidy(() => {
    const { logits, activations } = view.forward({
      inputIds: b.padded.ids,
      record: [attnHook, mlpHook, ...(inHook ? [inHook] : [])],
      logitPositions: "all",
    });
    const at = (h: string) =>
      pickPositions(activations.get(h)!, [subj[0]])
        .slice([0, 0, 0], [1, 1, -1])
        .reshape([-1]) as tf.Tensor1D; // [D]
    const klLogits = pickPositions(logits.slice([nR, 0, 0], [B - nR, T, -1]), subj.slice(nR)); // [K, 1, V]
    return {
      resid: (inHook ? activations.get(inHook) : view.embed(b.padded.ids).resid) as tf.Tensor3D,
      hAttn: at(attnHook),
      hMlp: at(mlpHook),
      klOrig: tf.logSoftmax(klLogits.reshape([B - nR, -1])) as tf.Tensor2D,
    };
  });
}

/** "add δ at the subject's last token": one intervention per distinct position (rows differ). */
function addAtSubjects(hook: string, subj: readonly number[], v: tf.Variable): ModelIntervention[] {
  const rows = new Map<number, number[]>();
  subj.forEach((p, r) => {
    rows.set(p, [...(rows.get(p) ?? []), r]);
  });
  return [...rows].map(([p, rs]) => ({
    hook,
    op: "add" as const,
    batchIndex: rs,
    positions: [p],
    value: v,
  }));
}

/** Learns δ_attn and δ_mlp at `layer` with Adam; returns them with h_attn, h_mlp on the host. */
export async function optimisePmet(o: PmetDeltaOptions): Promise<PmetDeltaResult> {
  const { batch: b, layer, hp } = o;
  const view = viewOf(o.model, b.padded.lengths);
  const fixed = fixedPass(view, b, layer);
  const [hAttnH, hMlpH] = await Promise.all([fixed.hAttn.data(), fixed.hMlp.data()]);
  const nA = norm(hAttnH);
  const nM = norm(hMlpH);
  const { dModel: D, vocabSize } = view.config;
  const zero = tf.zeros([D]);
  const dAttn = tf.variable(zero, true);
  const dMlp = tf.variable(zero, true);
  zero.dispose();
  const optimizer = tf.train.adam(hp.v_lr);
  const hooks = view.hooks({
    interventions: [
      ...addAtSubjects(blockHook(layer, "hook_attn_out"), b.subj, dAttn),
      ...addAtSubjects(blockHook(layer, "hook_mlp_out"), b.subj, dMlp),
    ],
  });
  const blocks = new GradBlocks(view, layer);
  const { nR, nT, subj, tgtPos } = b;
  const tgtOneHot = targetOneHot(b, vocabSize); // [R, nT, V]
  const pos = { targets: tgtPos, kl: subj.slice(nR) }; // KL rows at their subject
  let nllFactor = hp.nll_loss_factor;
  /** The loss and its parts [total, nll, kl, decay, gap]; gap ≤ 0: the target is top-1 everywhere. */
  const lossFn = () => {
    const r = blocks.run(fixed.resid, hooks); // blocks l … last with δ_attn, δ_mlp
    const { lpR, lpK } = rewriteLogProbs(view, r, pos, { hooks }); // [R, nT, V], [K, V]
    const tgtLp = lpR.mul(tgtOneHot).sum(2); // [R, nT]
    const nll = tgtLp.sum(1).div(-nT).mean(); // mean over rows of the per-token NLL
    const gap = lpR.max(2).sub(tgtLp).max();
    const kl = lpK!.exp().mul(lpK!.sub(fixed.klOrig)).sum(1).mean().mul(hp.kl_factor); // KL(new ‖ orig)
    const len = (v: tf.Tensor) => v.square().sum().add(1e-20).sqrt(); // ‖v‖ (safe at 0)
    const decay = len(dMlp)
      .div(nM * nM)
      .add(len(dAttn).div(nA * nA))
      .mul(hp.v_weight_decay);
    const total = nll.mul(nllFactor).add(kl).add(decay) as tf.Scalar;
    return { total, parts: tf.stack([total, nll, kl, decay, gap]) as tf.Tensor1D };
  };
  const clamp = (d: tf.Variable, h: number) =>
    tf.tidy(() => {
      const n = d.norm();
      d.assign(
        d.mul(tf.minimum(tf.scalar(1), tf.scalar(hp.clamp_norm_factor * h).div(n.add(1e-20)))),
      );
    });
  const losses: PmetStep[] = [];
  const steps = hp.v_num_grad_steps;
  try {
    for (let step = 0; step < steps; step++) {
      await checkLearningCancelled(o.signal);
      let parts: tf.Tensor1D | undefined;
      const { grads, value } = tf.variableGrads(() => {
        const r = lossFn();
        parts = tf.keep(r.parts);
        return r.total;
      }, [dAttn, dMlp]);
      try {
        const [loss, nll, kl, decay, gap] = await parts!.data();
        tf.dispose([parts!, value]);
        const s = { step, steps, loss, nll, kl, decay, p_new: Math.exp(-nll) };
        losses.push(s);
        o.onStep?.(s);
        if (!Number.isFinite(loss))
          throw new EditError("bad_edit", `PMET's loss is ${loss} at step ${step}`);
        if (loss < o.earlyStop) break;
        if (gap <= 0) {
          nllFactor = 0.1 * hp.nll_loss_factor;
          if (kl <= 0.01) break;
        } else nllFactor = hp.nll_loss_factor;
        if (step === steps - 1) break;
        optimizer.applyGradients([
          { name: dAttn.name, tensor: grads[dAttn.name] },
          { name: dMlp.name, tensor: grads[dMlp.name] },
        ]);
      } finally {
        tf.dispose(Object.values(grads));
      }
      clamp(dMlp, nM);
      clamp(dAttn, nA);
    }
    return {
      deltaAttn: Float64Array.from(await dAttn.data()),
      deltaMlp: Float64Array.from(await dMlp.data()),
      hAttn: Float64Array.from(hAttnH),
      hMlp: Float64Array.from(hMlpH),
      losses,
    };
  } finally {
    optimizer.dispose();
    blocks.dispose();
    tf.dispose([dAttn, dMlp, tgtOneHot, ...Object.values(fixed)]);
  }
}
