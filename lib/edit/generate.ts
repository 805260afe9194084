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
 * A plain model, or one whose edits are all weight edits, keeps every layer's keys and values
 * (a K/V cache): the prompt runs once, then each step runs the new token alone.
 *
 * generateBatch continues several prompts of one token length at once, one row each, every row
 * with its own seeded stream (as generate would seed it alone): no padding, so each row sees
 * exactly what it would alone and the rows give generate's tokens (a float difference between
 * the batched and the single matMul could change a sample only at an exact tie). With intervention
 * edits every step runs the whole sequence again through the model's view for that length
 * (lib/edit/apply.ts view(T)), so an edit at the "last" position acts on every newly generated
 * token, as ITI does, but not on the earlier ones' keys and values. The weights of the softmax
 * are float64 on the host, from the float32 logits.
 * scripts/reference/generate_ref.py reproduces the token ids in numpy.
 */
import * as tf from "@tensorflow/tfjs";
import { GaussianRng } from "../interp/rng";
import type { Gpt2Model, KeyValue } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, isEdited, type ModelLike, viewOf } from "./apply";
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
  tok: TextTokenizer,
  prompt: string | number[],
  opts: GenerateOptions = {},
): Promise<Generation> {
  const { seed, onToken, ...rest } = opts;
  const promptIds = typeof prompt === "string" ? tok.encode(prompt) : [...prompt];
  const [g] = await generateBatch(model, tok, [promptIds], {
    ...rest,
    seeds: [seed ?? GENERATE_DEFAULTS.seed],
    ...(onToken ? { onToken: (_row: number, id: number, i: number) => onToken(id, i) } : {}),
  });
  return g;
}

export interface BatchGenerateOptions extends Omit<GenerateOptions, "seed" | "onToken"> {
  /** One seed per row (the seed generate would take for that prompt alone). */
  seeds: readonly number[];
  /** Called after each row's new token. */
  onToken?: (row: number, id: number, index: number) => void;
}

/**
 * Continues prompts of one token length together (one row each, no padding): the same tokens
 * as generate on each prompt alone with its row's seed. A row stops on its own at the end of
 * text; the others go on (the stopped row's place is filled but never read).
 */
export async function generateBatch(
  model: ModelLike,
  tok: TextTokenizer,
  prompts: readonly (readonly number[])[],
  opts: BatchGenerateOptions,
): Promise<Generation[]> {
  const o = { ...GENERATE_DEFAULTS, ...opts };
  checkOptions({ ...o, seed: o.seeds.find((s) => !Number.isInteger(s)) ?? 0 });
  const { nCtx, vocabSize: V } = baseOf(model).config;
  const B = prompts.length;
  if (o.seeds.length !== B) {
    throw new EditError("bad_edit", `give one seed per prompt: ${o.seeds.length} for ${B}`);
  }
  if (B === 0) return [];
  const L = prompts[0].length;
  if (L === 0) throw new EditError("bad_edit", "the prompt has no tokens");
  if (prompts.some((p) => p.length !== L)) {
    throw new EditError("bad_edit", "a batch's prompts must have one token length");
  }
  if (L > nCtx) {
    throw new EditError("bad_edit", `the prompt has ${L} tokens, more than the context of ${nCtx}`);
  }
  const rngs = o.seeds.map((s) => new GaussianRng(s));
  const seqs = prompts.map((p) => [...p]); // [B][T]: every row one length
  const ids: number[][] = prompts.map(() => []);
  const stops: (Generation["stop"] | null)[] = prompts.map(() => null);
  // the same model at every length: keys/values of earlier positions never change
  const cache =
    !isEdited(model) || model.plan.maps.length === 0 ? new KvCache(viewOf(model, 1)) : null;
  const stopLive = (why: Generation["stop"]) => {
    for (let r = 0; r < B; r++) stops[r] ??= why;
  };
  try {
    for (let step = 0; stops.some((s) => s === null); step++) {
      if (step >= o.maxNew) stopLive("max_new");
      else if (seqs[0].length >= nCtx) stopLive("context");
      else if (o.shouldStop?.()) stopLive("cancelled");
      else await next(step);
    }
  } finally {
    cache?.dispose();
  }
  return prompts.map((p, r) => ({
    promptIds: [...p],
    ids: ids[r],
    text: tok.decode(ids[r]),
    stop: stops[r] as Generation["stop"],
  }));

  async function next(step: number): Promise<void> {
    const last = cache
      ? cache.next(seqs)
      : tf.tidy(
          () =>
            viewOf(model, seqs[0].length).forward({ inputIds: seqs, logitPositions: "last" })
              .logits,
        ); // [B, 1, V]
    const logits = await last.data();
    last.dispose();
    for (let r = 0; r < B; r++) {
      if (stops[r] !== null) {
        seqs[r].push(seqs[r][seqs[r].length - 1]); // a stopped row's place: never read
        continue;
      }
      const row = logits.subarray(r * V, (r + 1) * V);
      const id = o.sample ? sampleLogits(row, o.temperature, o.topK, rngs[r]) : argmax(row);
      if (o.eosId !== undefined && id === o.eosId) {
        stops[r] = "eos";
        seqs[r].push(id);
        continue;
      }
      seqs[r].push(id);
      ids[r].push(id);
      o.onToken?.(r, id, step);
    }
  }
}

/** Keys and values of every layer for the positions run so far ([B, H, T, E] each). */
class KvCache {
  private past: KeyValue[] | null = null;

  constructor(private readonly m: Gpt2Model) {}

  /** Logits [B, 1, V] after the rows: all of them the first time, then their last token alone. */
  next(seqs: readonly (readonly number[])[]): tf.Tensor3D {
    const off = this.past ? seqs[0].length - 1 : 0;
    const past = this.past;
    const out = tf.tidy(() => {
      let resid = this.m.embed(
        seqs.map((s) => s.slice(off)),
        { posOffset: off },
      ).resid; // [B, T′, D]
      const k: tf.Tensor4D[] = [];
      const v: tf.Tensor4D[] = [];
      for (let l = 0; l < this.m.config.nLayer; l++) {
        const b = this.m.block(l, resid, { past: past?.[l] });
        const p = past?.[l];
        k.push(p ? tf.concat4d([p.k, b.kv.k], 2) : b.kv.k); // [B, H, T, E]
        v.push(p ? tf.concat4d([p.v, b.kv.v], 2) : b.kv.v);
        resid = b.resid;
      }
      const { logits } = this.m.unembed(resid, "last", { posOffset: off }); // [B, 1, V]
      return { logits, k, v };
    });
    this.dispose();
    this.past = out.k.map((k, l) => ({ k, v: out.v[l] }));
    return out.logits;
  }

  dispose(): void {
    for (const kv of this.past ?? []) tf.dispose([kv.k, kv.v]);
    this.past = null;
  }
}
