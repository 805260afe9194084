/**
 * Downloaded model files kept in browser storage (the Cache API), so a reload does not fetch
 * hundreds of MB again. One cache, versioned by name (bump it when the stored format changes);
 * each file is stored under its full URL, which already names endpoint, repo, revision and file.
 * Node has no Cache API: callers pass `globalThis.caches` when it exists (tests pass a fake).
 */
import { checkReadSize } from "./limits";
import type { FileSource } from "./types";

export const MODEL_CACHE_NAME = "causeway-models-v1";

/** The parts of the Cache API used here (a real `Cache` has them). */
export interface CacheLike {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  keys(): Promise<readonly { url: string }[]>;
  delete(url: string): Promise<boolean>;
}

export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
  delete(name: string): Promise<boolean>;
}

/** The browser's CacheStorage, or undefined where there is none (Node, insecure contexts). */
export function browserCaches(): CacheStorageLike | undefined {
  const c = (globalThis as { caches?: CacheStorageLike }).caches;
  return c && typeof c.open === "function" ? c : undefined;
}

const urlOf = (base: string, name: string) =>
  `${base.replace(/\/+$/, "")}/${name.split("/").map(encodeURIComponent).join("/")}`;

/**
 * Reads through the cache: a hit is served from storage (reported as fully loaded at once), a
 * miss is read from `inner` and stored. Storage failures (quota, private mode) never fail a load.
 */
export function cachedSource(
  inner: FileSource,
  baseUrl: string,
  storage: CacheStorageLike,
): FileSource {
  let opened: Promise<CacheLike | null> | null = null;
  const cache = () => {
    opened ??= storage.open(MODEL_CACHE_NAME).catch((e) => {
      console.warn(`model cache unavailable: ${e instanceof Error ? e.message : e}`);
      return null;
    });
    return opened;
  };
  const hit = async (name: string) => {
    try {
      return (await (await cache())?.match(urlOf(baseUrl, name))) ?? null;
    } catch {
      return null;
    }
  };
  return {
    label: inner.label,
    async read(name, onBytes, opts) {
      const cached = await hit(name);
      if (cached) {
        const length = Number(cached.headers.get("content-length"));
        if (Number.isFinite(length)) checkReadSize(name, length, opts, "cached size");
        const bytes = new Uint8Array(await cached.arrayBuffer());
        onBytes?.(bytes.byteLength, bytes.byteLength);
        return bytes;
      }
      const bytes = await inner.read(name, onBytes, opts);
      try {
        const headers = {
          "content-type": "application/octet-stream",
          "content-length": String(bytes.byteLength),
          "x-causeway-cached-at": new Date().toISOString(),
        };
        await (await cache())?.put(
          urlOf(baseUrl, name),
          new Response(bytes as Uint8Array<ArrayBuffer>, { headers }),
        );
      } catch (e) {
        console.warn(`could not cache ${name}: ${e instanceof Error ? e.message : e}`);
      }
      return bytes;
    },
    async has(name) {
      return (await hit(name)) !== null || inner.has(name);
    },
  };
}

export interface CachedModel {
  /** The folder URL the files are under (…/resolve/<revision>). */
  baseUrl: string;
  /** "org/name@revision" for hub layouts, else the folder URL. */
  label: string;
  files: { name: string; bytes: number }[];
  bytes: number;
}

/** What the cache holds, one entry per model folder, largest first. */
export async function listCachedModels(storage: CacheStorageLike): Promise<CachedModel[]> {
  const cache = await storage.open(MODEL_CACHE_NAME);
  const byBase = new Map<string, CachedModel>();
  for (const req of await cache.keys()) {
    const cut = req.url.lastIndexOf("/");
    const baseUrl = req.url.slice(0, cut);
    const name = decodeURIComponent(req.url.slice(cut + 1));
    const res = await cache.match(req.url);
    const length = Number(res?.headers.get("content-length"));
    const bytes =
      Number.isFinite(length) && length >= 0
        ? length
        : ((await res?.arrayBuffer())?.byteLength ?? 0);
    let entry = byBase.get(baseUrl);
    if (!entry) {
      entry = { baseUrl, label: labelOf(baseUrl), files: [], bytes: 0 };
      byBase.set(baseUrl, entry);
    }
    entry.files.push({ name, bytes });
    entry.bytes += bytes;
  }
  return [...byBase.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Deletes one model folder's files; returns how many were removed. */
export async function clearCachedModel(
  storage: CacheStorageLike,
  baseUrl: string,
): Promise<number> {
  const cache = await storage.open(MODEL_CACHE_NAME);
  let n = 0;
  for (const req of await cache.keys()) {
    if (req.url.slice(0, req.url.lastIndexOf("/")) === baseUrl && (await cache.delete(req.url)))
      n++;
  }
  return n;
}

/** Deletes every cached model file. */
export async function clearModelCache(storage: CacheStorageLike): Promise<void> {
  await storage.delete(MODEL_CACHE_NAME);
}

function labelOf(baseUrl: string): string {
  try {
    const parts = new URL(baseUrl).pathname.split("/").filter(Boolean);
    const at = parts.lastIndexOf("resolve");
    if (at >= 1 && at === parts.length - 2) {
      return `${parts.slice(0, at).join("/")}@${decodeURIComponent(parts[at + 1])}`;
    }
  } catch {
    // not a URL: show it as it is
  }
  return baseUrl;
}
