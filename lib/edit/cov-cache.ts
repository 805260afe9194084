/**
 * C (lib/edit/cov.ts, E[k kᵀ] of one layer's MLP keys over a corpus) kept in browser storage,
 * so that the second edit on a layer does not recompute it, even after a reload. A value is
 * keyed by the model (its displayed source and a fingerprint of its weights), the layer and the
 * corpus (SHA-256 of its texts):
 *
 *   C|<model id>|<layer>|<corpus sha-256>
 *
 * Storage is untrusted: a stored value of the wrong shape or with a non-finite entry is ignored
 * (and overwritten). A storage that fails (quota, private mode) only costs the caching: the run
 * goes on with the computed C and a note. The storage itself is an interface so that tests use
 * a Map; the app's is IndexedDB (./cov-cache-idb.ts).
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { baseOf } from "./apply";
import type { WorkWatch } from "./cancel";
import { momentCache, primeMoment, type SecondMoment, secondMoment } from "./cov";

/** What a store holds per key. */
export interface StoredMoment {
  C: Float64Array;
  n: number;
  tokens: number;
}

/** Key-value storage of C (IndexedDB in the app, a Map in tests). */
export interface MomentStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: StoredMoment): Promise<void>;
}

export type MomentSource = "storage" | "computed" | "memory";

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

async function sha256(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** SHA-256 of a corpus: its texts in order, each with its length (no two corpora collide). */
export function corpusHash(texts: readonly string[]): Promise<string> {
  return sha256(texts.map((t) => `${t.length}:${t}`).join("\u0000"));
}

export function statsKey(o: { model: string; layer: number; corpus: string }): string {
  return `C|${o.model}|${o.layer}|${o.corpus}`;
}

/**
 * The model's id for the cache: its name (source) and a SHA-256 of its config and of its
 * logits on a fixed token sequence, rounded to 3 significant digits (a fingerprint of every
 * weight without reading them all: a retrained checkpoint under the same name is another model).
 */
export async function modelStatsId(model: Gpt2Model, name: string): Promise<string> {
  const { vocabSize, nCtx } = model.config;
  const ids = Array.from({ length: Math.min(8, nCtx) }, (_, i) => (i * 7919) % vocabSize);
  const { logits, activations } = model.forward({ inputIds: [ids], logitPositions: "last" });
  for (const t of activations.values()) t.dispose();
  let values: Float32Array | Int32Array | Uint8Array;
  try {
    values = await logits.data(); // [1, 1, V]
  } finally {
    logits.dispose();
  }
  const head = Array.from(values.slice(0, 256), (v) => Number(v).toPrecision(3)).join(",");
  const digest = await sha256(`${JSON.stringify(model.config)}|${head}`);
  return `${name}#${digest.slice(0, 16)}`;
}

/** A stored value if it is a C of this model's size with finite entries, else null. */
export function validMoment(x: unknown, n: number): SecondMoment | null {
  if (typeof x !== "object" || x === null) return null;
  const v = x as Partial<StoredMoment>;
  if (!(v.C instanceof Float64Array) || v.n !== n || v.C.length !== n * n) return null;
  if (!(typeof v.tokens === "number" && Number.isInteger(v.tokens) && v.tokens > 0)) return null;
  for (const c of v.C) if (!Number.isFinite(c)) return null;
  return { C: v.C, n, tokens: v.tokens };
}

export interface CachedMomentOptions {
  model: ModelLike;
  tok: TextTokenizer;
  texts: readonly string[];
  layer: number;
  /** modelStatsId of the loaded (root) model. */
  modelId: string;
  /** null: memory only (the in-memory cache of lib/edit/cov.ts). */
  store: MomentStore | null;
  /** Progress in texts and a cancel, while C is computed. */
  watch?: WorkWatch;
}

/**
 * C of a layer for the corpus, from browser storage when it holds it (put into the in-memory
 * cache, where the next ROME/MEMIT edit finds it), else computed on the device and stored.
 */
export async function cachedMoment(
  o: CachedMomentOptions,
): Promise<{ moment: SecondMoment; source: MomentSource; note?: string }> {
  const key = statsKey({ model: o.modelId, layer: o.layer, corpus: await corpusHash(o.texts) });
  const n = baseOf(o.model).config.dMlp;
  let note: string | undefined;
  if (o.store) {
    const stored = await o.store.get(key).catch((e: unknown) => {
      note = `cached statistics could not be read (${(e as Error).message})`;
      return undefined;
    });
    const m = validMoment(stored, n);
    if (m) return { moment: await primeMoment(o.model, o.layer, o.texts, m), source: "storage" };
  }
  const before = momentCache.computed;
  const moment = await secondMoment(o.model, o.tok, o.texts, o.layer, o.watch);
  const source: MomentSource = momentCache.computed > before ? "computed" : "memory";
  if (o.store) {
    await o.store.set(key, { C: moment.C, n: moment.n, tokens: moment.tokens }).catch((e) => {
      note = `C of layer ${o.layer} was not stored in the browser (${(e as Error).message})`;
    });
  }
  return { moment, source, ...(note ? { note } : {}) };
}
