/**
 * A FileSource over HTTP(S): `${baseUrl}/${name}`, e.g. the hub's
 * `https://huggingface.co/openai-community/gpt2/resolve/main` or a bundled `/models/tiny-facts`.
 * Works in the browser, in a worker and in Node 20+ (global fetch).
 */
import { LoadError } from "./errors";
import type { FileSource } from "./types";

export interface UrlSourceOptions {
  /** A fetch to use instead of the global one (tests; auth wrappers). */
  fetch?: typeof fetch;
  /** The source's label; defaults to the base URL. */
  label?: string;
  /** Aborts every request of this source; reads then reject with LoadError("cancelled"). */
  signal?: AbortSignal;
}

export function urlSource(baseUrl: string, opts: UrlSourceOptions = {}): FileSource {
  // Call the global through a closure: a bare `window.fetch` stored on an object and invoked as a
  // method throws "Illegal invocation" in browsers.
  const doFetch: typeof fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const base = baseUrl.replace(/\/+$/, "");
  const label = opts.label ?? base;
  const urlOf = (name: string) => `${base}/${name.split("/").map(encodeURIComponent).join("/")}`;

  const signal = opts.signal;
  const cancelled = (name: string) =>
    new LoadError("cancelled", name, `download from ${urlOf(name)} was cancelled`);

  async function request(name: string, method: "GET" | "HEAD"): Promise<Response> {
    if (signal?.aborted) throw cancelled(name);
    try {
      return await doFetch(urlOf(name), { method, signal });
    } catch (e) {
      if (signal?.aborted) throw cancelled(name);
      throw new LoadError(
        "fetch_failed",
        name,
        `could not fetch ${urlOf(name)}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  return {
    label,
    async read(name, onBytes) {
      const res = await request(name, "GET");
      if (res.status === 404) {
        throw new LoadError("file_missing", name, `not found at ${urlOf(name)} (HTTP 404)`);
      }
      if (!res.ok) {
        throw new LoadError(
          "fetch_failed",
          name,
          `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""} from ${urlOf(name)}`,
        );
      }
      try {
        return await readBody(res, onBytes);
      } catch (e) {
        if (signal?.aborted) throw cancelled(name);
        throw new LoadError(
          "fetch_failed",
          name,
          `download from ${urlOf(name)} broke off: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    },
    async has(name) {
      let res = await request(name, "HEAD");
      // Some static servers refuse HEAD; ask with GET and drop the body unread.
      if (res.status === 405 || res.status === 501) {
        res = await request(name, "GET");
        await res.body?.cancel().catch(() => {});
      }
      if (res.status === 404) return false;
      if (res.ok) return true;
      if (res.status === 401 || res.status === 403) {
        // What the hub answers, without a token, for a repository that is absent, private or gated.
        throw new LoadError(
          "file_missing",
          name,
          `HTTP ${res.status} from ${urlOf(name)}: the repository does not exist, or it is private or gated`,
        );
      }
      throw new LoadError("fetch_failed", name, `HTTP ${res.status} from ${urlOf(name)}`);
    },
  };
}

/** Reads a body into one Uint8Array, reporting progress when a stream is available. */
async function readBody(
  res: Response,
  onBytes?: (loaded: number, total: number | undefined) => void,
): Promise<Uint8Array> {
  const lengthHeader = Number(res.headers.get("content-length"));
  // Content-Length counts encoded bytes: only trust it for an unencoded body.
  const total =
    Number.isFinite(lengthHeader) && lengthHeader > 0 && !res.headers.get("content-encoding")
      ? lengthHeader
      : undefined;
  if (!onBytes || !res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onBytes(loaded, total);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(loaded);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}
