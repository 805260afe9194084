/**
 * C kept in browser storage (lib/edit/cov-cache.ts) through an injected store (a Map standing
 * in for IndexedDB): the key names the model (a fingerprint of its weights), the layer and the
 * corpus; a miss computes C and stores it, a hit on a freshly loaded copy of the same model
 * computes nothing and gives identical values; a stored value of the wrong shape or with NaN is
 * ignored and overwritten; a storage that fails only costs the caching.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { momentCache, secondMoment } from "../lib/edit/cov";
import {
  cachedMoment,
  corpusHash,
  type MomentStore,
  modelStatsId,
  type StoredMoment,
  statsKey,
} from "../lib/edit/cov-cache";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { randomWeights, SMALL, charTokenizer as tok } from "./fixtures/edit/random-model";

const TEXTS = ["the cat sat on the mat.", "a dog ran far away, fast!", "rain falls on hills"];

class MapStore implements MomentStore {
  readonly map = new Map<string, unknown>();
  gets = 0;
  sets = 0;
  async get(key: string) {
    this.gets++;
    return this.map.get(key);
  }
  async set(key: string, value: StoredMoment) {
    this.sets++;
    // IndexedDB stores a structured clone, not the object itself
    this.map.set(key, structuredClone(value));
  }
}

const models: Gpt2Model[] = [];
const load = (seed = 7) => {
  const m = Gpt2Model.fromWeights(SMALL, randomWeights(SMALL, seed));
  models.push(m);
  return m;
};

beforeAll(async () => {
  await selectBackend(["wasm"]);
});
afterAll(() => {
  for (const m of models) m.dispose();
});

describe("the key of a cached C", () => {
  it("differs by model, layer and corpus; a model loaded twice has one id", async () => {
    const [a, a2, b] = [load(7), load(7), load(8)];
    const [ia, ia2, ib] = await Promise.all([
      modelStatsId(a, "m"),
      modelStatsId(a2, "m"),
      modelStatsId(b, "m"),
    ]);
    expect(ia).toBe(ia2);
    expect(ia).not.toBe(ib); // same name, other weights
    expect(await modelStatsId(a, "other")).not.toBe(ia);
    const h = await corpusHash(TEXTS);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await corpusHash(["ab", "c"])).not.toBe(await corpusHash(["a", "bc"]));
    expect(await corpusHash(TEXTS.slice(0, 2))).not.toBe(h);
    const k = statsKey({ model: ia, layer: 1, corpus: h });
    expect(statsKey({ model: ia, layer: 0, corpus: h })).not.toBe(k);
    expect(statsKey({ model: ib, layer: 1, corpus: h })).not.toBe(k);
  });
});

describe("the storage path", () => {
  it("a miss computes and stores; a hit on a fresh copy of the model computes nothing", async () => {
    const store = new MapStore();
    const first = load(11);
    const id = await modelStatsId(first, "tiny");
    const c0 = momentCache.computed;
    const miss = await cachedMoment({
      model: first,
      tok,
      texts: TEXTS,
      layer: 1,
      modelId: id,
      store,
    });
    expect(miss.source).toBe("computed");
    expect(momentCache.computed).toBe(c0 + 1);
    expect(store.sets).toBe(1);
    expect([...store.map.keys()]).toEqual([
      statsKey({ model: id, layer: 1, corpus: await corpusHash(TEXTS) }),
    ]);

    // a reload: a new root model with no C in memory
    const again = load(11);
    expect(await modelStatsId(again, "tiny")).toBe(id);
    const c1 = momentCache.computed;
    const hit = await cachedMoment({
      model: again,
      tok,
      texts: TEXTS,
      layer: 1,
      modelId: id,
      store,
    });
    expect(hit.source).toBe("storage");
    expect(Array.from(hit.moment.C)).toEqual(Array.from(miss.moment.C));
    expect(hit.moment.tokens).toBe(miss.moment.tokens);
    // ROME/MEMIT's next secondMoment finds it in memory: nothing is computed
    const used = await secondMoment(again, tok, TEXTS, 1);
    expect(used).toBe(hit.moment);
    expect(momentCache.computed).toBe(c1 + 1); // the priming only, no pass over the corpus
    expect(store.sets).toBe(1);

    // another layer is a miss
    const other = await cachedMoment({
      model: again,
      tok,
      texts: TEXTS,
      layer: 0,
      modelId: id,
      store,
    });
    expect(other.source).toBe("computed");
    expect(store.sets).toBe(2);
  });

  it("reports progress in texts while computing; a cancelled C is neither kept nor stored", async () => {
    const m = load(13);
    const id = await modelStatsId(m, "tiny");
    const store = new MapStore();
    const seen: [number, number][] = [];
    const run = (signal: { cancelled: boolean }) =>
      cachedMoment({
        model: m,
        tok,
        texts: TEXTS,
        layer: 1,
        modelId: id,
        store,
        watch: { signal, onProgress: (done, total) => seen.push([done, total]) },
      });
    await expect(run({ cancelled: true })).rejects.toThrow(/cancelled/);
    expect(store.sets).toBe(0);
    expect(seen.at(-1)).toEqual([3, 3]);
    // nothing half-made was kept in memory either: the next call computes and stores
    const r = await run({ cancelled: false });
    expect(r.source).toBe("computed");
    expect(store.sets).toBe(1);
  });

  it("ignores a stored value of the wrong shape or with NaN, and survives a failing store", async () => {
    const m = load(12);
    const id = await modelStatsId(m, "tiny");
    const key = statsKey({ model: id, layer: 0, corpus: await corpusHash(TEXTS) });
    const n = SMALL.dMlp;
    for (const bad of [
      { C: new Float64Array(4), n: 2, tokens: 3 },
      { C: new Float64Array(n * n).fill(Number.NaN), n, tokens: 3 },
      { C: Array(n * n).fill(0), n, tokens: 3 },
      "C",
    ]) {
      const store = new MapStore();
      store.map.set(key, bad);
      const r = await cachedMoment({ model: m, tok, texts: TEXTS, layer: 0, modelId: id, store });
      expect(r.source).not.toBe("storage");
      const kept = store.map.get(key) as StoredMoment;
      expect(kept.C).toBeInstanceOf(Float64Array);
      expect(kept.n).toBe(n);
    }
    const broken: MomentStore = {
      get: () => Promise.reject(new Error("quota")),
      set: () => Promise.reject(new Error("QuotaExceededError")),
    };
    const r = await cachedMoment({
      model: m,
      tok,
      texts: TEXTS,
      layer: 0,
      modelId: id,
      store: broken,
    });
    expect(r.moment.n).toBe(n);
    expect(r.note).toMatch(/not stored.*QuotaExceededError/);
  });
});
