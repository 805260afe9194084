/**
 * The model cache (lib/load/model-cache.ts) over an in-memory CacheStorage with the Cache API's
 * semantics (Node has no Cache API), and the File-object source (lib/load/file-source.ts).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { fileSource } from "../lib/load/file-source";
import { hubSource, parseHubRef } from "../lib/load/hub-source";
import { memorySource } from "../lib/load/memory-source";
import {
  type CacheLike,
  type CacheStorageLike,
  cachedSource,
  clearCachedModel,
  clearModelCache,
  listCachedModels,
  MODEL_CACHE_NAME,
} from "../lib/load/model-cache";
import { loadModelFiles } from "../lib/load/model-files";

class MemoryCache implements CacheLike {
  readonly store = new Map<string, { body: ArrayBuffer; headers: Headers }>();
  async match(url: string) {
    const e = this.store.get(url);
    return e ? new Response(e.body.slice(0), { headers: e.headers }) : undefined;
  }
  async put(url: string, res: Response) {
    this.store.set(url, { body: await res.arrayBuffer(), headers: res.headers });
  }
  async keys() {
    return [...this.store.keys()].map((url) => ({ url }));
  }
  async delete(url: string) {
    return this.store.delete(url);
  }
}
class MemoryCaches implements CacheStorageLike {
  readonly caches = new Map<string, MemoryCache>();
  async open(name: string) {
    const c = this.caches.get(name) ?? new MemoryCache();
    this.caches.set(name, c);
    return c;
  }
  async delete(name: string) {
    return this.caches.delete(name);
  }
}

/** A source that counts reads, so a cache hit is visible as "no read". */
function counting(files: Record<string, string>) {
  const inner = memorySource(files, "counting");
  const reads: string[] = [];
  return {
    reads,
    source: {
      label: inner.label,
      read: (n: string, cb?: (l: number, t: number | undefined) => void) => {
        reads.push(n);
        return inner.read(n, cb);
      },
      has: inner.has,
    },
  };
}

describe("cachedSource", () => {
  it("stores a miss under its URL and serves the next read from storage", async () => {
    const storage = new MemoryCaches();
    const { reads, source } = counting({ "a.bin": "hello", "dir/b.json": "{}" });
    const base = "https://hub.test/org/m/resolve/main";
    const c1 = cachedSource(source, base, storage);
    expect(new TextDecoder().decode(await c1.read("a.bin"))).toBe("hello");
    expect(reads).toEqual(["a.bin"]);
    const cache = storage.caches.get(MODEL_CACHE_NAME)!;
    expect([...cache.store.keys()]).toEqual([`${base}/a.bin`]);

    const c2 = cachedSource(source, base, storage); // e.g. after a page reload
    const seen: [number, number | undefined][] = [];
    expect(new TextDecoder().decode(await c2.read("a.bin", (l, t) => seen.push([l, t])))).toBe(
      "hello",
    );
    expect(reads).toEqual(["a.bin"]);
    expect(seen).toEqual([[5, 5]]);
    expect(await c2.has("a.bin")).toBe(true);
    expect(await c2.has("nope")).toBe(false);
    // Another revision is another key: not served from this one's cache.
    await cachedSource(source, "https://hub.test/org/m/resolve/v2", storage).read("a.bin");
    expect(reads).toEqual(["a.bin", "a.bin"]);
  });

  it("a failing cache never fails the read", async () => {
    const broken: CacheStorageLike = {
      open: () => Promise.reject(new Error("SecurityError")),
      delete: async () => false,
    };
    const { source } = counting({ "a.bin": "x" });
    const warn = console.warn;
    console.warn = () => {};
    try {
      const s = cachedSource(source, "https://h/x", broken);
      expect(await s.read("a.bin")).toEqual(new TextEncoder().encode("x"));
    } finally {
      console.warn = warn;
    }
  });

  it("lists models with sizes, clears one, clears all", async () => {
    const storage = new MemoryCaches();
    const { source } = counting({ "config.json": "{}", "model.safetensors": "0123456789" });
    const a = cachedSource(
      source,
      "https://huggingface.co/openai-community/gpt2/resolve/main",
      storage,
    );
    const b = cachedSource(source, "https://huggingface.co/distilgpt2/resolve/v1.0", storage);
    await a.read("config.json");
    await a.read("model.safetensors");
    await b.read("config.json");
    expect(await listCachedModels(storage)).toEqual([
      {
        baseUrl: "https://huggingface.co/openai-community/gpt2/resolve/main",
        label: "openai-community/gpt2@main",
        files: [
          { name: "config.json", bytes: 2 },
          { name: "model.safetensors", bytes: 10 },
        ],
        bytes: 12,
      },
      {
        baseUrl: "https://huggingface.co/distilgpt2/resolve/v1.0",
        label: "distilgpt2@v1.0",
        files: [{ name: "config.json", bytes: 2 }],
        bytes: 2,
      },
    ]);
    expect(
      await clearCachedModel(storage, "https://huggingface.co/openai-community/gpt2/resolve/main"),
    ).toBe(2);
    expect((await listCachedModels(storage)).map((m) => m.label)).toEqual(["distilgpt2@v1.0"]);
    await clearModelCache(storage);
    expect(await listCachedModels(storage)).toEqual([]);
  });
});

describe("parseHubRef / hubSource", () => {
  it("accepts hub ids with an optional revision", () => {
    expect(parseHubRef("gpt2")).toEqual({ repo: "gpt2" });
    expect(parseHubRef(" openai-community/gpt2-medium@refs/pr/1 ")).toEqual({
      repo: "openai-community/gpt2-medium",
      revision: "refs/pr/1",
    });
  });

  it.each([
    "",
    "a/b/c",
    "../x",
    "org/na..me",
    "-x",
    "org/",
    "x@",
    "x@a..b",
    "https://huggingface.co/gpt2",
  ])("refuses %j", (spec) => {
    expect(() => parseHubRef(spec)).toThrow(LoadError);
  });

  it("fetches <endpoint>/<repo>/resolve/<revision>/<file>", async () => {
    const urls: string[] = [];
    const fake: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response("{}", { status: 200 });
    };
    const s = hubSource(
      { repo: "org/m", revision: "abc" },
      { endpoint: "http://127.0.0.1:9/", fetch: fake },
    );
    await s.read("config.json");
    expect(urls).toEqual(["http://127.0.0.1:9/org/m/resolve/abc/config.json"]);
    expect(s.label).toBe("hub:org/m@abc (http://127.0.0.1:9)");
    expect(() => hubSource({ repo: "m" }, { endpoint: "ftp://x" })).toThrow(/not an http\(s\) URL/);
  });
});

describe("fileSource", () => {
  const file = (name: string, text: string, rel?: string) => {
    const f = new File([text], name);
    if (rel) Object.defineProperty(f, "webkitRelativePath", { value: rel });
    return f;
  };

  it("serves files by base name and names the missing file", async () => {
    const s = fileSource([
      file("config.json", "{}", "gpt2/config.json"),
      file("tokenizer.json", "[]"),
    ]);
    expect(new TextDecoder().decode(await s.read("config.json"))).toBe("{}");
    expect(await s.has("tokenizer.json")).toBe(true);
    await expect(s.read("model.safetensors")).rejects.toThrow(
      "model.safetensors: is not among the chosen files (config.json, tokenizer.json)",
    );
  });

  it("loadModelFiles on chosen files without weights names what is missing", async () => {
    const cfg = JSON.stringify({
      model_type: "gpt2",
      n_layer: 1,
      n_head: 1,
      n_embd: 4,
      n_positions: 8,
      vocab_size: 1303,
    });
    const tok = readFileSync("public/models/tiny-facts/tokenizer.json", "utf8");
    await expect(loadModelFiles(fileSource([file("config.json", cfg)]))).rejects.toThrow(
      /tokenizer\.json: not found in the chosen files \(config\.json\)/,
    );
    const err = await loadModelFiles(
      fileSource([file("config.json", cfg), file("tokenizer.json", tok)]),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect(err.message).toMatch(
      /neither model\.safetensors nor model\.safetensors\.index\.json is in the chosen files/,
    );
  });

  it("refuses two files with the same name", () => {
    expect(() =>
      fileSource([
        file("config.json", "{}", "a/config.json"),
        file("config.json", "{}", "b/config.json"),
      ]),
    ).toThrow("config.json: chosen twice (a/config.json and b/config.json)");
  });
});
