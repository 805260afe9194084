/**
 * Attribution patching (Nanda 2023; Syed, Rager & Conmy 2023): the first-order estimate of
 * activation patching, for every site at once, from one clean forward, one corrupted forward and
 * one backward pass of the corrupted run.
 *
 *   const r = await attributionPatching(engine, { clean, corrupt, target: " Paris", foil: " Rome" });
 *   r.scores.resid_pre[l][t]       // also attn_out, mlp_out: [L][T]
 *   r.scores.head_out[l][h]        // hook_z of head h at every position: [L][H]
 *   r.scores.head_out_pos[l][t][h] // [L][T][H]
 *
 * A cell's estimate is (a_clean − a_corrupt) · ∂LD/∂a, the gradient taken on the corrupted run
 * and the dot product over the cell's entries, divided by LD_clean − LD_corrupt: the first-order
 * Taylor expansion of patch.ts's logit_diff_normalized (LD = logit[target] − logit[foil] at the
 * last position), which scores the clean run 1 and the corrupted run 0.
 *
 * The gradients are tf.grads with respect to zero tensors added at every site's hook (an "add"
 * intervention changes nothing at zero but puts the hook's value on the tape), through
 * lib/edit/grad-blocks.ts, whose backward pass is fast on wasm.
 */

import * as tf from "@tensorflow/tfjs";
import { GradBlocks } from "../edit/grad-blocks";
import type { ModelIntervention } from "../model/gpt2";
import { type BlockHook, blockHook } from "../model/hooks";
import { now } from "../util/clock";
import { unembedColumns } from "./dla";
import { type PatchOptions, patchPair, runPatch } from "./patch";
import { type PatchSite, type PatchSpec, TraceError } from "./spec";
import { type TraceHost, tokenText, tokenTexts } from "./tokens";

export type AttributionSpec = Pick<PatchSpec, "clean" | "corrupt" | "target" | "foil">;

export interface AttributionScores {
  resid_pre: number[][];
  attn_out: number[][];
  mlp_out: number[][];
  head_out: number[][];
  head_out_pos: number[][][];
}

export interface AttributionResult {
  clean_ids: number[];
  corrupt_ids: number[];
  clean_tokens: string[];
  corrupt_tokens: string[];
  target: { id: number; token: string };
  foil: { id: number; token: string };
  clean_logit_diff: number;
  corrupt_logit_diff: number;
  scores: AttributionScores;
  n_layer: number;
  n_head: number;
  /** Wall time of the estimate (both forwards and the backward pass). */
  ms: number;
}

const BTF_SITES: Record<string, BlockHook> = {
  resid_pre: "hook_resid_pre",
  attn_out: "hook_attn_out",
  mlp_out: "hook_mlp_out",
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The hooks whose gradients are taken: every site of every layer, z last. */
function siteHooks(L: number): string[] {
  const hooks: BlockHook[] = [...Object.values(BTF_SITES), "attn.hook_z"];
  return hooks.flatMap((h) => range(L).map((l) => blockHook(l, h)));
}

/**
 * ∂LD/∂(every site hook) on the corrupted run, from one forward and one backward pass, in
 * siteHooks order, each [1, T, D] ([1, T, H, E] for hook_z).
 *
 * Each resid_pre / attn_out / mlp_out gets one zero [D] "add" per position: a [D] value is
 * applied by a mask product, whereas a whole-hook value is scattered by gather, whose gradient
 * kernel (UnsortedSegmentSum) the wasm backend lacks. hook_z needs no input of its own:
 * attn_out = z·W_O + b_O is linear in z alone, so ∂LD/∂z = ∂LD/∂attn_out · W_Oᵀ.
 */
function siteGradients(
  host: TraceHost,
  ids: number[],
  hooks: string[],
  /** W_U[:, target] − W_U[:, foil] [D]: LD = LN_f(x_last) · dw, no [T, V] logits on the tape. */
  dw: tf.Tensor1D,
): tf.Tensor[] {
  const { model } = host;
  const { nLayer: L, dModel: D } = model.config;
  const { H, E } = model.spec;
  const T = ids.length;
  const btf = hooks.slice(0, 3 * L);
  const cells = btf.flatMap((hook) => range(T).map((t) => ({ hook, t })));
  const zeros = cells.map(() => tf.zeros([D]));
  const blocks = new GradBlocks(model, 0);
  try {
    const f = (...deltas: tf.Tensor[]) => {
      const interventions: ModelIntervention[] = deltas.map((d, i) => ({
        hook: cells[i].hook,
        op: "add",
        positions: [cells[i].t],
        value: d,
      }));
      const normed = "ln_final.hook_normalized";
      const plan = model.hooks({ interventions, record: [normed] });
      const e = model.embed([ids], { hooks: plan });
      const resid = blocks.run(e.resid, plan); // [1, T, D]
      const u = model.unembed(resid, [T - 1], { hooks: plan }); // its logits are off the tape
      const x = u.activations
        .get(normed)!
        .slice([0, T - 1, 0], [1, 1, D])
        .reshape([D]); // [D]
      return x.dot(dw) as tf.Scalar;
    };
    const g = tf.grads(f)(zeros); // one [D] per cell
    return tf.tidy(() => {
      const perHook = btf.map((_, i) => tf.stack(g.slice(i * T, (i + 1) * T)).reshape([1, T, D]));
      const attnOut = perHook.slice(L, 2 * L); // [1, T, D] each
      const z = attnOut.map(
        (a, l) =>
          tf
            .matMul(a.reshape([T, D]), model.blockWeight(l, "wO") as tf.Tensor2D, false, true)
            .reshape([1, T, H, E]), // [T, D] @ W_Oᵀ [D, H·E]
      );
      tf.dispose(g);
      return [...perHook, ...z];
    });
  } finally {
    blocks.dispose();
    tf.dispose(zeros);
  }
}

export async function attributionPatching(
  host: TraceHost,
  spec: AttributionSpec,
): Promise<AttributionResult> {
  const started = now();
  const { model } = host;
  const { nLayer: L, nHead: H } = model.config;
  const { clean, corrupt, target, foil } = patchPair(host, spec);
  const T = clean.length;
  const hooks = siteHooks(L);
  const [wT, wF] = await unembedColumns(model, [target, foil]);
  const run = (ids: number[]) =>
    model.forward({ inputIds: [ids], record: hooks, logitPositions: "last" });
  const c = run(clean);
  const k = run(corrupt);
  const grads = tf.tidy(() =>
    siteGradients(host, corrupt, hooks, tf.tensor1d(wT.map((v, i) => v - wF[i]))),
  );
  try {
    const [ldc, ldk] = await Promise.all(
      [c.logits, k.logits].map(async (lg) => {
        const d = await lg.data();
        return d[target] - d[foil];
      }),
    );
    const denom = ldc - ldk;
    if (denom === 0) {
      throw new TraceError(
        "bad_target",
        "the clean and corrupted runs give the same logit difference, so the normalised estimate is undefined",
      );
    }
    // (clean − corrupt) · grad summed over each hook's last axis: [T] or [T, H] per hook
    const cells = tf.tidy(() =>
      hooks.map((h, i) => {
        const diff = c.activations.get(h)!.sub(k.activations.get(h)!);
        return diff.mul(grads[i]).sum(-1).div(denom).reshape([-1]); // [T] or [T·H]
      }),
    );
    const values = await Promise.all(cells.map((t) => t.data())).finally(() => tf.dispose(cells));
    const byLayer = (site: number) => range(L).map((l) => Array.from(values[site * L + l]));
    const z = byLayer(3); // [L][T·H]
    return {
      clean_ids: clean,
      corrupt_ids: corrupt,
      clean_tokens: tokenTexts(host, clean),
      corrupt_tokens: tokenTexts(host, corrupt),
      target: { id: target, token: tokenText(host, target) },
      foil: { id: foil, token: tokenText(host, foil) },
      clean_logit_diff: ldc,
      corrupt_logit_diff: ldk,
      scores: {
        resid_pre: byLayer(0),
        attn_out: byLayer(1),
        mlp_out: byLayer(2),
        head_out: z.map((row) =>
          range(H).map((h) => range(T).reduce((s, t) => s + row[t * H + h], 0)),
        ),
        head_out_pos: z.map((row) => range(T).map((t) => row.slice(t * H, (t + 1) * H))),
      },
      n_layer: L,
      n_head: H,
      ms: now() - started,
    };
  } finally {
    tf.dispose([
      c.logits,
      k.logits,
      ...c.activations.values(),
      ...k.activations.values(),
      ...grads,
    ]);
  }
}

/** Pearson's r of two equally long lists (NaN when either is constant). */
export function pearson(a: number[], b: number[]): number {
  const n = a.length;
  if (n !== b.length || n === 0) throw new Error("pearson needs two non-empty lists of one length");
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

export interface AttributionComparison {
  site: PatchSite;
  /** Pearson r between the estimate and exact patching over the site's grid. */
  correlation: number;
  exact: number[][] | number[][][];
  /** Forward passes exact patching spent (patch.ts's evaluations). */
  evaluations: number;
  /** Wall time of exact patching. */
  ms: number;
}

/**
 * Exact patching (patch.ts, normalised logit difference) of each site beside the estimate.
 * `options` (signal, onProgress) go to each site's runPatch.
 */
export async function compareWithPatching(
  host: TraceHost,
  spec: AttributionSpec,
  estimate: AttributionResult,
  sites: readonly PatchSite[],
  options: Pick<PatchOptions, "signal" | "onProgress"> = {},
): Promise<AttributionComparison[]> {
  const out: AttributionComparison[] = [];
  for (const site of sites) {
    const r = await runPatch(host, { ...spec, site, metric: "logit_diff_normalized" }, options);
    out.push({
      site,
      correlation: pearson(flat(estimate.scores[site]), flat(r.scores)),
      exact: r.scores,
      evaluations: r.evaluations,
      ms: r.ms,
    });
  }
  return out;
}
