/**
 * The requests' keys and block outputs on a model (MEMIT's compute_ks and
 * get_module_input_output_at_words), and AlphaEdit's Σ K Kᵀ of the batches already in a stack.
 */

import { blockHook } from "../model/hooks";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike } from "./apply";
import { activationsAt } from "./batch";
import { gram } from "./memit-solve";
import { subjectPrompt } from "./tokens";
import { type Edit, EditError, type RewriteRequest } from "./types";

/** The requests' prompts with every template, tokenized, and each subject's last token. */
function promptRows(
  tok: TextTokenizer,
  requests: readonly RewriteRequest[],
  templates: readonly string[],
): { ids: number[][]; pos: number[][] } {
  const ids: number[][] = [];
  const pos: number[][] = [];
  requests.forEach((r, i) => {
    for (const t of templates) {
      let sp: ReturnType<typeof subjectPrompt>;
      try {
        sp = subjectPrompt(tok, t.replace("{}", r.prompt), r.subject);
      } catch (e) {
        throw new EditError(
          "bad_edit",
          `request ${i} (${JSON.stringify(r.subject)}): ${(e as Error).message}`,
        );
      }
      ids.push(sp.ids);
      pos.push([sp.subjectLast]);
    }
  });
  return { ids, pos };
}

/**
 * K [M, n] at `layer` (MEMIT's compute_ks: per request the mean over template groups — "{}",
 * then each group of per_length generated texts — of the group's mean key) and h [n][D], the
 * block output at `zLayer` in the bare prompt.
 */
export async function keysAndOutputs(
  model: ModelLike,
  tok: TextTokenizer,
  requests: readonly RewriteRequest[],
  templates: readonly string[],
  per: number,
  at: { layer: number; zLayer: number },
): Promise<{ K: Float64Array; h: Float64Array[] }> {
  const { dMlp: M } = baseOf(model).config;
  const n = requests.length;
  const T = templates.length;
  const rows = promptRows(tok, requests, templates);
  const kHook = blockHook(at.layer, "mlp.hook_post");
  const zHook = blockHook(at.zLayer, "hook_resid_post");
  const acts = await activationsAt(model, rows.ids, [kHook, zHook], rows.pos);
  const keys = acts.get(kHook)!;
  const outs = acts.get(zHook)!;
  const groups: number[][] = [[0]];
  for (let s = 1; s < T; s += per)
    groups.push(Array.from({ length: Math.min(per, T - s) }, (_, j) => s + j));
  const K = new Float64Array(M * n);
  for (let i = 0; i < n; i++) {
    for (const g of groups) {
      for (const t of g) {
        const k = keys[i * T + t];
        for (let m = 0; m < M; m++) K[m * n + i] += k[m] / g.length / groups.length;
      }
    }
  }
  const h = requests.map((_, i) => Float64Array.from(outs[i * T]));
  return { K, h };
}

/** Σ K Kᵀ at `layer` of the AlphaEdit edits already in the stack (AlphaEdit's cache_c). */
export function previousGram(
  stack: readonly Edit[],
  layer: number,
  M: number,
): Float64Array | null {
  let acc: Float64Array | null = null;
  for (const e of stack) {
    if (e.kind !== "alphaedit") continue;
    for (const l of e.learned?.layers ?? []) {
      if (l.layer !== layer || !l.keys) continue;
      const n = l.keys.length / M;
      const g = gram(Float64Array.from(l.keys), M, n);
      if (!acc) acc = g;
      else for (let i = 0; i < g.length; i++) acc[i] += g[i];
    }
  }
  return acc;
}
