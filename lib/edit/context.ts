/**
 * ROME's context templates: "{}" plus short texts the model itself writes, each followed by
 * ". {}" (rome/compute_v.py get_context_templates: 10 texts of 5 tokens and 10 of 10 tokens,
 * started from "The", "Therefore", "Because", "I", "You", top-5 sampling). The key k* and the
 * value v* are averaged / optimised over all of them so the edit holds in many contexts.
 *
 * Sampling is seeded (lib/interp/rng.ts), so the same model and seed give the same templates.
 * As in ROME and MEMIT they are sampled once from the unedited model (the root of an edited view,
 * lib/edit/root-cache.ts) and reused by every later edit of a stack.
 * Lengths count tokens including the starter, as ROME's max_out_len does.
 */
import * as tf from "@tensorflow/tfjs";
import { GaussianRng } from "../interp/rng";
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { padRows, pickPositions } from "./batch";
import { type WorkWatch, workDone } from "./cancel";
import { RootCache } from "./root-cache";

export const CONTEXT_STARTERS = ["The", "Therefore", "Because", "I", "You"];

export interface ContextOptions {
  /** Token lengths of the generated texts (ROME [5, 10]). */
  lengths?: number[];
  /** Texts per length (ROME 10; default 5 here). */
  per_length?: number;
  seed?: number;
  top_k?: number;
}

export const CONTEXT_DEFAULTS = { lengths: [5, 10], per_length: 5, seed: 0, top_k: 5 };

/** Templates per root model and options (exported so tests can count computations). */
export const templateCache = new RootCache<string[]>();

/** The templates of the unedited root of `model`, "{}" first; cached per root and options. */
export function contextTemplates(
  model: ModelLike,
  tok: TextTokenizer,
  opts: ContextOptions = {},
  watch?: WorkWatch,
): Promise<string[]> {
  const o = { ...CONTEXT_DEFAULTS, ...opts };
  return templateCache.get(model, JSON.stringify(o), (root) => generate(root, tok, o, watch));
}

async function generate(
  model: Gpt2Model,
  tok: TextTokenizer,
  o: typeof CONTEXT_DEFAULTS,
  watch?: WorkWatch,
): Promise<string[]> {
  const rng = new GaussianRng(o.seed);
  const { vocabSize: V, nCtx } = model.config;
  // never sample special tokens (<|endoftext|>) or ids past the tokenizer's vocabulary
  const banned = new Uint8Array(V);
  for (let id = 0; id < V; id++) {
    let t: string;
    try {
      t = tok.tokenText ? tok.tokenText(id) : tok.decode([id]);
    } catch {
      t = "<|x|>";
    }
    if (/^<\|.*\|>$/.test(t) || t.startsWith("<id ") || tok.isSpecial?.(id)) banned[id] = 1;
  }
  const templates = ["{}"];
  // tokens to sample, for progress: each text grows from its starter to its length
  const starts = Array.from(
    { length: o.per_length },
    (_, i) => tok.encode(CONTEXT_STARTERS[i % CONTEXT_STARTERS.length]).length,
  );
  const totalTokens = o.lengths.reduce(
    (a, n) => a + starts.reduce((b, s) => b + Math.max(0, Math.min(n, nCtx - 1) - s), 0),
    0,
  );
  let sampled = 0;
  watch?.onProgress?.(0, totalTokens);
  for (const length of o.lengths) {
    const rows = Array.from({ length: o.per_length }, (_, i) =>
      tok.encode(CONTEXT_STARTERS[i % CONTEXT_STARTERS.length]),
    );
    const target = Math.min(length, nCtx - 1);
    while (rows.some((r) => r.length < target)) {
      const live = rows.map((r, i) => (r.length < target ? i : -1)).filter((i) => i >= 0);
      const part = padRows(live.map((i) => rows[i]));
      const last = tf.tidy(() => {
        const { logits } = model.forward({ inputIds: part.ids, logitPositions: "all" });
        return pickPositions(
          logits,
          part.lengths.map((n) => n - 1),
        ); // [B, 1, V]
      });
      const data = await last.data();
      last.dispose();
      live.forEach((row, b) => {
        rows[row].push(sampleTopK(data.subarray(b * V, (b + 1) * V), o.top_k, banned, rng));
      });
      // progress in sampled tokens of every length's texts
      sampled += live.length;
      await workDone(watch, sampled, totalTokens);
    }
    for (const r of rows) {
      // without the BOS a Llama tokenizer put first (encoding the template adds it again)
      const text = tok.decode(r.filter((id) => !tok.isSpecial?.(id))).replace(/[{}]/g, " ");
      templates.push(`${text}. {}`);
    }
  }
  return templates;
}

/** Samples from the softmax of the top-k logits (ties broken by lower id). */
function sampleTopK(
  logits: ArrayLike<number>,
  k: number,
  banned: Uint8Array,
  rng: GaussianRng,
): number {
  const top: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (banned[i]) continue;
    if (top.length < k) {
      top.push(i);
      top.sort((a, b) => logits[b] - logits[a] || a - b);
    } else if (logits[i] > logits[top[k - 1]]) {
      top[k - 1] = i;
      top.sort((a, b) => logits[b] - logits[a] || a - b);
    }
  }
  const mx = logits[top[0]];
  const w = top.map((i) => Math.exp(logits[i] - mx));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.nextUniform() * total;
  for (let j = 0; j < top.length; j++) {
    u -= w[j];
    if (u < 0) return top[j];
  }
  return top[top.length - 1];
}
