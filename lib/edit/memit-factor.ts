/**
 * One layer's update factor of a batch edit (lib/edit/memit.ts): C from the corpus (cached by
 * lib/edit/cov.ts), then MEMIT's or AlphaEdit's closed form (lib/edit/memit-solve.ts), with the
 * errors that name the layer and the corpus.
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { secondMoment } from "./cov";
import { previousGram } from "./memit-keys";
import type { ResolvedHparams } from "./memit-params";
import { alphaEditFactor, memitFactor, NotPositiveDefinite, nullProjector } from "./memit-solve";
import { type BatchEdit, type Edit, EditError } from "./types";

/** ‖a b‖_F for a [M, n], b [n, D] without forming it: sqrt(tr((aᵀa)(b bᵀ))). */
export function factorNorm(
  a: Float64Array,
  b: Float64Array,
  M: number,
  n: number,
  D: number,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let ata = 0;
      for (let m = 0; m < M; m++) ata += a[m * n + i] * a[m * n + j];
      let bbt = 0;
      for (let d = 0; d < D; d++) bbt += b[i * D + d] * b[j * D + d];
      s += ata * bbt;
    }
  }
  return Math.sqrt(Math.max(0, s));
}

export function notPositiveDefinite(
  layer: number,
  what: string,
  tokens: number,
  hp: ResolvedHparams,
  M: number,
  e: Error,
): EditError {
  return new EditError(
    "bad_edit",
    `memit layer ${layer}: ${what} is not positive definite (C from ${tokens} tokens of ${hp.mom2_dataset}, d_mlp ${M}): give a larger corpus or params.mom2_shrinkage > 0 (${e.message})`,
  );
}

const projectorCache = new WeakMap<object, Map<number, { P: Float64Array; dim: number }>>();

/** The layer's factor a (MEMIT or AlphaEdit) from K and C. */
export async function layerFactor(x: {
  edit: BatchEdit;
  hp: ResolvedHparams;
  base: Gpt2Model;
  tok: TextTokenizer;
  corpus: string[];
  layer: number;
  K: Float64Array;
  M: number;
  n: number;
  stack: readonly Edit[];
}): Promise<{ a: Float64Array; tokens: number; nullDim?: number }> {
  const { hp, M, n, K, layer } = x;
  let C: Float64Array;
  let tokens = 0;
  if (hp.mom2_dataset === "identity") {
    C = new Float64Array(M * M);
    for (let i = 0; i < M; i++) C[i * M + i] = 1;
  } else {
    const mom = await secondMoment(x.base, x.tok, x.corpus, layer);
    C = mom.C;
    tokens = mom.tokens;
  }
  if (x.edit.kind !== "alphaedit") {
    // MEMIT's closed form (PMET uses it too)
    try {
      return {
        a: memitFactor({ C, K, M, n, lambda: hp.mom2_update_weight, shrinkage: hp.mom2_shrinkage }),
        tokens,
      };
    } catch (e) {
      if (!(e instanceof NotPositiveDefinite)) throw e;
      throw notPositiveDefinite(layer, "λC + K Kᵀ", tokens, hp, M, e);
    }
  }
  let byThreshold = projectorCache.get(C);
  if (!byThreshold) {
    byThreshold = new Map();
    projectorCache.set(C, byThreshold);
  }
  let proj = byThreshold.get(hp.nullspace_threshold);
  if (!proj) {
    const { P, dim } = nullProjector(C, M, hp.nullspace_threshold);
    proj = { P, dim };
    byThreshold.set(hp.nullspace_threshold, proj);
  }
  if (proj.dim === 0) {
    throw new EditError(
      "bad_edit",
      `alphaedit layer ${layer}: no eigenvalue of C is below nullspace_threshold ${hp.nullspace_threshold}, so the null space is empty and nothing can be edited: raise it`,
    );
  }
  const Cp = previousGram(x.stack, layer, M);
  const a = alphaEditFactor({ P: proj.P, K, Cp, M, n, L2: hp.L2 });
  return { a, tokens, nullDim: proj.dim };
}

/** Refuses a C (λC + shrinkage) without a Cholesky factor at any of `layers`, before any work. */
export async function checkCov(x: {
  base: Gpt2Model;
  tok: TextTokenizer;
  corpus: string[];
  layers: readonly number[];
  hp: ResolvedHparams;
  M: number;
}): Promise<void> {
  for (const layer of x.layers) {
    const mom = await secondMoment(x.base, x.tok, x.corpus, layer);
    try {
      memitFactor({
        C: mom.C,
        K: new Float64Array(0),
        M: x.M,
        n: 0,
        lambda: 1,
        shrinkage: x.hp.mom2_shrinkage,
      });
    } catch (e) {
      if (!(e instanceof NotPositiveDefinite)) throw e;
      throw notPositiveDefinite(layer, "C", mom.tokens, x.hp, x.M, e);
    }
  }
}
