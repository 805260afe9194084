/**
 * SWEA's "optimizing" step (xpq-tech/SWEA SWEAOS/OS_fusion.py optimizing): offsets δ [P, D] for
 * the subject's P token embeddings, added at the subject's tokens in every row (ROME's rewrite
 * rows: "{}" and the context templates with the prompt and the target's first tokens; and the
 * KL row "{subject} is"), minimising with Adam
 *
 *   nll_loss_factor · mean over rewrite rows of −Σ_t log p(target_t)      (a sum over tokens)
 * + kl_factor · KL(new ‖ first pass) at the subject's last token of the KL row
 * + v_weight_decay · ‖δ‖ / ‖e‖²                  e: the subject's token embeddings [P, D]
 *
 * (means over the rows that hold the spelling being learned), with ‖δ‖ clamped to
 * clamp_norm_factor · ‖e‖ after every step, the loop stopping once the loss is below
 * 0.8 · kl_factor (checked before a step; the last iteration takes no step). The KL reference is
 * the first pass's distribution, with δ at its starting value, as SWEA's code has it.
 *
 * The token embeddings are computed once (hook_embed, the position embeddings and the edited
 * view's own interventions included) and δ enters through a one-hot matMul S [B·T, P] built from
 * the same lookup the edit uses at inference (lib/model/token-match.ts), so the offsets are
 * learned exactly where they will act. The blocks run as lib/edit/grad-blocks.ts (wasm-friendly).
 * What does not depend on δ is left out of the passes: the rows without the spelling, the
 * positions before its first token (their keys/values computed once, lib/edit/prefix-kv.ts) and
 * the last block's output where no loss reads it.
 */
import * as tf from "@tensorflow/tfjs";
import type { KeyValue } from "../model/gpt2-types";
import { matchSpans } from "../model/token-match";
import { type ModelLike, viewOf } from "./apply";
import { padRows } from "./batch";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { GradBlocks } from "./grad-blocks";
import { disposeKv, keysValues } from "./prefix-kv";
import type { RomeBatch } from "./rome-delta";
import type { ResolvedSwea } from "./swea-params";
import { EditError } from "./types";
import { rewriteLogProbs } from "./unembed-rows";

export interface SweaOptimiseOptions {
  /** The model as it is now (an edited model's view is taken for the rows' lengths). */
  model: ModelLike;
  batch: RomeBatch;
  /** The subject's lookup keys (each of P tokens). */
  keys: readonly (readonly number[])[];
  /** The subject's token embeddings e [P·D] (keys[0]'s rows of the embedding). */
  e0: Float32Array;
  hp: ResolvedSwea;
  onStep?: (s: { step: number; steps: number; loss: number }) => void;
  signal?: CancelSignal;
}

export interface SweaOptimiseResult {
  delta: Float32Array;
  losses: number[];
  /** SWEA's reported probability: the mean over rewrite rows of p(target) at the end. */
  p_new: number;
}

/**
 * S [B·(T − from), P]: 1 where position j of the subject sits (every key's occurrence, real
 * tokens only), over positions [from, T) (no key starts before `from`).
 */
export function subjectSelector(
  rows: readonly (readonly number[])[],
  T: number,
  keys: readonly (readonly number[])[],
  from = 0,
): tf.Tensor2D {
  const P = keys[0].length;
  const Tq = T - from;
  const sel = new Float32Array(rows.length * Tq * P);
  for (const s of matchSpans(rows, keys)) {
    for (let j = 0; j < P; j++) sel[(s.row * Tq + s.start - from + j) * P + j] = 1;
  }
  return tf.tensor2d(sel, [rows.length * Tq, P]);
}

/**
 * The batch's rows that hold one of the keys (rewrite rows first, then KL rows, in order): the
 * others' losses do not depend on δ, so they are left out of the passes (a key of a subject at
 * the prompt's start is in the "{}" row and "{subject} is", the other spelling in the context
 * rows). Each row keeps its own tokens; only the padding to the longest kept row changes.
 */
export function rowsHolding(b: RomeBatch, keys: readonly (readonly number[])[]): RomeBatch {
  const rows = b.padded.ids.map((r, i) => r.slice(0, b.padded.lengths[i]));
  const found = new Set(matchSpans(rows, keys).map((s) => s.row));
  const keep = rows.map((_, i) => i).filter((i) => found.has(i));
  const keepR = keep.filter((i) => i < b.nR);
  return {
    ...b,
    nR: keepR.length,
    subj: keep.map((i) => b.subj[i]),
    tgtPos: keepR.map((i) => b.tgtPos[i]),
    padded: padRows(keep.map((i) => rows[i])),
  };
}

export async function optimiseSwea(o: SweaOptimiseOptions): Promise<SweaOptimiseResult> {
  const { hp } = o;
  const b = rowsHolding(o.batch, o.keys);
  const { nR, nT } = b;
  if (nR === 0)
    throw new EditError("bad_edit", "swea: no rewrite prompt holds the subject's tokens");
  const view = viewOf(o.model, b.padded.lengths);
  const { dModel: D, vocabSize: V } = view.config;
  const { T } = b.padded;
  const B = b.padded.ids.length;
  const nK = B - nR;
  const P = o.keys[0].length;
  const rows = b.padded.ids.map((r, i) => r.slice(0, b.padded.lengths[i]));
  // δ changes nothing before the first subject token s0 (its keys/values are computed once),
  // and the losses read nothing before o0 (the last block outputs positions [o0, T) only)
  const s0 = Math.min(...matchSpans(rows, o.keys).map((s) => s.start));
  const o0 = Math.min(...b.tgtPos.map((t) => t[0]), ...b.subj.slice(nR));
  const Tq = T - s0;
  const sel = subjectSelector(rows, T, o.keys, s0); // [B·Tq, P]
  const wR = tf.fill([nR], 1 / nR); // [R]
  const wK = tf.fill([nK], 1 / nK); // [K] (no KL row holds a key that starts mid-prompt)
  const hooks = view.hooks();
  const all = view.embed(b.padded.ids, { hooks }).resid; // [B, T, D]
  let past: KeyValue[] | undefined;
  if (s0 > 0) {
    const head = all.slice([0, 0, 0], [B, s0, D]);
    const fixed = keysValues(view, head, hooks);
    tf.dispose([head, fixed.out]);
    past = fixed.kv; // [B, Hkv, s0, E] per layer
  }
  const resid0 = s0 > 0 ? all.slice([0, s0, 0], [B, Tq, D]) : all; // [B, Tq, D], fixed
  if (resid0 !== all) all.dispose();
  const tgtOneHot = tf.tidy(() =>
    tf.oneHot(
      tf.tensor2d(
        b.tgtPos.map(() => b.target),
        [nR, nT],
        "int32",
      ),
      V,
    ),
  ); // [R, nT, V]
  const blocks = new GradBlocks(view, 0);
  const e0Norm = Math.hypot(...o.e0);
  const init = hp.v_init === "zero" ? tf.zeros([P, D]) : tf.tensor2d(o.e0, [P, D]);
  const delta = tf.variable(init, true);
  init.dispose();
  const optimizer = tf.train.adam(hp.v_lr);

  /** Log-probabilities of the rewrite rows' targets [R, nT, V] and of the KL rows [K, V]. */
  const pass = () => {
    const resid = resid0.add(tf.matMul(sel, delta).reshape([B, Tq, D])) as tf.Tensor3D;
    const r = blocks.run(resid, hooks, view, { past, outFrom: o0 - s0 }); // [B, T − o0, D]
    const at = (p: number) => p - o0;
    const pos = { targets: b.tgtPos.map((t) => t.map(at)), kl: b.subj.slice(nR).map(at) };
    return rewriteLogProbs(view, r, pos, { hooks, posOffset: o0 }); // [R, nT, V], [K, V]
  };
  const klRef = nK > 0 ? tf.tidy(() => pass().lpK!) : undefined; // [K, V], the first pass's
  const lossFn = () => {
    const { lpR, lpK } = pass();
    const nllEach = lpR.mul(tgtOneHot).sum([1, 2]).neg(); // [R]
    const nll = nllEach.mul(wR).sum().mul(hp.nll_loss_factor);
    const decay = delta
      .square()
      .sum()
      .add(1e-20)
      .sqrt()
      .mul(hp.v_weight_decay / (e0Norm * e0Norm));
    let total = nll;
    if (lpK && klRef) {
      const klEach = lpK.exp().mul(lpK.sub(klRef)).sum(1); // [K]
      total = total.add(klEach.mul(wK).sum().mul(hp.kl_factor));
    }
    total = total.add(decay);
    const prob = nllEach.neg().exp().mul(wR).sum();
    return { total: total as tf.Scalar, parts: tf.stack([total, prob]) };
  };
  const losses: number[] = [];
  let pNew = 0;
  const maxNorm = hp.clamp_norm_factor * e0Norm;
  try {
    for (let step = 0; step < hp.v_num_grad_steps; step++) {
      await checkLearningCancelled(o.signal);
      let parts: tf.Tensor | undefined;
      const { grads, value } = tf.variableGrads(() => {
        const r = lossFn();
        parts = tf.keep(r.parts);
        return r.total;
      }, [delta]);
      const [loss, prob] = await parts!.data();
      tf.dispose([parts!, value]);
      losses.push(loss);
      pNew = prob;
      o.onStep?.({ step, steps: hp.v_num_grad_steps, loss });
      try {
        if (!Number.isFinite(loss)) {
          throw new EditError("bad_edit", `swea: the loss is ${loss} at step ${step}`);
        }
        if (loss < hp.kl_factor * 0.8 || step === hp.v_num_grad_steps - 1) break;
        optimizer.applyGradients([{ name: delta.name, tensor: grads[delta.name] }]);
      } finally {
        tf.dispose(Object.values(grads));
      }
      tf.tidy(() => {
        const n = delta.norm();
        const f = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(n.add(1e-20)));
        delta.assign(delta.mul(f));
      });
    }
    return { delta: Float32Array.from(await delta.data()), losses, p_new: pNew };
  } finally {
    optimizer.dispose();
    blocks.dispose();
    disposeKv(past);
    tf.dispose([delta, sel, resid0, tgtOneHot, wR, wK, ...(klRef ? [klRef] : [])]);
  }
}
