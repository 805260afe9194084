/**
 * Text generation from a plain or edited model, one token at a time:
 *
 *   greedy    the argmax of the last position's logits (ties: the lower id)
 *   sampled   softmax(logits / temperature) over the top-k ids (k = 0: all; ties in the
 *             ranking: the lower id), one uniform u from the seeded xoshiro128** stream
 *             (lib/interp/rng.ts nextUniform) per token: the first id, in descending-logit
 *             order, whose cumulative weight exceeds u · Σ weights
 *   stops     after maxNew tokens, at the tokenizer's end of text (not kept in the output) or
 *             when the sequence fills the context
 *
 * Every step runs the whole sequence again (no key/value cache) through the model's view for
 * that length (lib/edit/apply.ts view(T)), so an intervention edit at the "last" position acts
 * on every newly generated token, as ITI does, and weight edits act everywhere. The weights of
 * the softmax are float64 on the host, from the float32 logits.
 * scripts/reference/generate_ref.py reproduces the token ids in numpy.
 */
import * as tf from "@tensorflow/tfjs";
import { GaussianRng } from "../interp/rng";
import { baseOf, type ModelLike, viewOf } from "./apply";
import type { EditTokenizer } from "./tokens";
import { EditError } from "./types";

export interface GenerateOptions {
  /** New tokens at most (default 20). */
  maxNew?: number;
  /** Sample instead of greedy decoding. */
  sample?: boolean;
  temperature?: number;
  /** Keep the k most likely ids (0 = all; default 0). */
  topK?: number;
  seed?: number;
  /** The end-of-text id (stop there); none: never stop early. */
  eosId?: number;
  /** Called after each new token. */
  onToken?: (id: number, index: number) => void;
  shouldStop?: () => boolean;
}

export interface Generation {
  promptIds: number[];
  /** The new tokens (without the end-of-text token). */
  ids: number[];
  text: string;
  stop: "max_new" | "eos" | "context" | "cancelled";
}

export const GENERATE_DEFAULTS = { maxNew: 20, temperature: 1, topK: 0, seed: 0 };

/** The argmax (lowest id among ties). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** One sampled id from logits with temperature and top-k, drawing one uniform from rng. */
export function sampleLogits(
  logits: ArrayLike<number>,
  temperature: number,
  topK: number,
  rng: GaussianRng,
): number {
  const order = Array.from({ length: logits.length }, (_, i) => i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  const keep = topK > 0 ? order.slice(0, topK) : order;
  const mx = logits[keep[0]];
  const w = keep.map((i) => Math.exp((logits[i] - mx) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.nextUniform() * total;
  for (let j = 0; j < keep.length; j++) {
    u -= w[j];
    if (u < 0) return keep[j];
  }
  return keep[keep.length - 1];
}

function checkOptions(
  o: Required<Pick<GenerateOptions, "maxNew" | "temperature" | "topK" | "seed">>,
) {
  if (!Number.isInteger(o.maxNew) || o.maxNew < 0)
    throw new EditError("bad_edit", `max new tokens must be an integer ≥ 0, got ${o.maxNew}`);
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature))
    throw new EditError("bad_edit", `temperature must be > 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0)
    throw new EditError("bad_edit", `top-k must be an integer ≥ 0, got ${o.topK}`);
  if (!Number.isInteger(o.seed)) throw new EditError("bad_edit", `seed must be an integer`);
}

export async function generate(
  model: ModelLike,
  tok: EditTokenizer,
  prompt: string | number[],
  opts: GenerateOptions = {},
): Promise<Generation> {
  const o = { ...GENERATE_DEFAULTS, ...opts };
  checkOptions(o);
  const { nCtx } = baseOf(model).config;
  const promptIds = typeof prompt === "string" ? tok.encode(prompt) : [...prompt];
  if (promptIds.length === 0) throw new EditError("bad_edit", "the prompt has no tokens");
  if (promptIds.length > nCtx) {
    throw new EditError(
      "bad_edit",
      `the prompt has ${promptIds.length} tokens, more than the context of ${nCtx}`,
    );
  }
  const rng = new GaussianRng(o.seed);
  const seq = [...promptIds];
  const ids: number[] = [];
  let stop: Generation["stop"] = "max_new";
  while (ids.length < o.maxNew) {
    if (seq.length >= nCtx) {
      stop = "context";
      break;
    }
    if (o.shouldStop?.()) {
      stop = "cancelled";
      break;
    }
    const m = viewOf(model, seq.length);
    const last = tf.tidy(() => m.forward({ inputIds: [seq], logitPositions: "last" }).logits); // [1, 1, V]
    const logits = await last.data();
    last.dispose();
    const id = o.sample ? sampleLogits(logits, o.temperature, o.topK, rng) : argmax(logits);
    if (o.eosId !== undefined && id === o.eosId) {
      stop = "eos";
      break;
    }
    seq.push(id);
    ids.push(id);
    o.onToken?.(id, ids.length - 1);
  }
  return { promptIds, ids, text: tok.decode(ids), stop };
}
