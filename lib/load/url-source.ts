/**
 * A FileSource over HTTP(S): `${baseUrl}/${name}`, e.g. the hub's
 * `https://huggingface.co/openai-community/gpt2/resolve/main` or a bundled `/models/tiny-facts`.
 * Works in the browser, in a worker and in Node 20+ (global fetch).
 *
 * Every read is bounded: `opts.maxBytes` is checked against Content-Length before the body is
 * read and against the bytes received while it streams, and a transfer that receives nothing for
 * `stallMs` is stopped (lib/load/limits.ts).
 */
import { LoadError } from "./errors";
import { fetchFailure } from "./fetch-errors";
import { checkReadSize, defaultStallMs } from "./limits";
import type { FileSource, ReadOptions } from "./types";

export interface UrlSourceOptions {
  /** A fetch to use instead of the global one (tests; auth wrappers). */
  fetch?: typeof fetch;
  /** The source's label; defaults to the base URL. */
  label?: string;
  /** Aborts every request of this source; reads then reject with LoadError("cancelled"). */
  signal?: AbortSignal;
  /** Stop a request or download that receives nothing for this long (limits.ts defaultStallMs). */
  stallMs?: number;
}

/** The text with any "user:password@" of an address replaced by "…@", for messages. */
export function hideCredentials(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/g, "//…@");
}

/** Refuses URLs that carry a user name or password; never echoes them. */
export function refuseCredentials(url: URL, what: string): void {
  if (url.username || url.password) {
    throw new LoadError(
      "refused_source",
      what,
      `an address with a user name or password in it (${url.protocol}//…@${url.host}) is refused`,
    );
  }
}

export function urlSource(baseUrl: string, opts: UrlSourceOptions = {}): FileSource {
  // Call the global through a closure: a bare `window.fetch` stored on an object and invoked as a
  // method throws "Illegal invocation" in browsers.
  const doFetch: typeof fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const base = baseUrl.replace(/\/+$/, "");
  try {
    refuseCredentials(new URL(base), "model address");
  } catch (e) {
    if (e instanceof LoadError) throw e; // a relative or odd base fails at fetch, with its cause
  }
  const label = opts.label ?? base;
  const urlOf = (name: string) => `${base}/${name.split("/").map(encodeURIComponent).join("/")}`;
  const stallMs = opts.stallMs ?? defaultStallMs();

  const signal = opts.signal;
  const cancelled = (name: string) =>
    new LoadError("cancelled", name, `download from ${urlOf(name)} was cancelled`);
  const stalled = (name: string) =>
    new LoadError(
      "stalled",
      name,
      `no data from ${urlOf(name)} for ${stallMs / 1000} s: the server stalled, so the download was stopped`,
    );

  /** One request with its watchdog: `kick()` after each sign of life, `end()` when done. */
  async function request(name: string, method: "GET" | "HEAD") {
    if (signal?.aborted) throw cancelled(name);
    const dog = watchdog(stallMs, signal);
    const fail = (e: unknown, during: "request" | "body"): LoadError => {
      dog.end();
      if (dog.fired) return stalled(name);
      if (signal?.aborted) return cancelled(name);
      if (e instanceof LoadError) return e;
      return during === "request"
        ? new LoadError("fetch_failed", name, `could not fetch ${urlOf(name)}: ${fetchFailure(e)}`)
        : new LoadError(
            "fetch_failed",
            name,
            `download from ${urlOf(name)} broke off: ${fetchFailure(e)}`,
          );
    };
    try {
      const res = await doFetch(urlOf(name), { method, signal: dog.signal });
      dog.kick();
      return { res, dog, fail };
    } catch (e) {
      throw fail(e, "request");
    }
  }

  return {
    label,
    async read(name, onBytes, readOpts) {
      const { res, dog, fail } = await request(name, "GET");
      try {
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
        return await readBody(res, { name, onBytes, readOpts, kick: dog.kick });
      } catch (e) {
        const err = fail(e, "body");
        dog.abort(); // close the connection: an endless body must not keep arriving
        throw err;
      } finally {
        dog.end();
      }
    },
    async has(name) {
      let { res, dog } = await request(name, "HEAD");
      dog.end();
      // Some static servers refuse HEAD; ask with GET and drop the body unread.
      if (res.status === 405 || res.status === 501) {
        ({ res, dog } = await request(name, "GET"));
        dog.end();
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

/**
 * An AbortSignal that fires when `kick()` has not been called for `ms` (or when `outer` aborts).
 * `fired` tells a stall from a cancel.
 */
function watchdog(ms: number, outer?: AbortSignal) {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const state = {
    fired: false,
    signal: controller.signal,
    kick() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.fired = true;
        controller.abort(new Error("stalled"));
      }, ms);
    },
    end() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
    abort() {
      state.end();
      controller.abort(new Error("stopped"));
    },
  };
  const onOuter = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onOuter, { once: true });
  state.kick();
  return state;
}

interface BodyRead {
  name: string;
  onBytes?: (loaded: number, total: number | undefined) => void;
  readOpts?: ReadOptions;
  kick: () => void;
}

/** Reads a body into one Uint8Array, within the size cap, reporting progress as it arrives. */
async function readBody(res: Response, { name, onBytes, readOpts, kick }: BodyRead) {
  const lengthHeader = Number(res.headers.get("content-length"));
  // Content-Length counts encoded bytes: only trust it for an unencoded body.
  const total =
    Number.isFinite(lengthHeader) && lengthHeader > 0 && !res.headers.get("content-encoding")
      ? lengthHeader
      : undefined;
  if (total !== undefined) checkReadSize(name, total, readOpts, "Content-Length");
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    checkReadSize(name, bytes.byteLength, readOpts, "received");
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      kick();
      loaded += value.byteLength;
      checkReadSize(name, loaded, readOpts, "received");
      chunks.push(value);
      onBytes?.(loaded, total);
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
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

/**
 * fetch(url) for a JSON side file (a model folder's dataset.json), within `maxBytes` and the stall
 * limit: the body is read through urlSource, so an endless or silent server is stopped. A 404
 * comes back as a 404 Response; other failures reject with their LoadError.
 */
export async function fetchCapped(
  url: string,
  opts: { maxBytes: number } & Pick<UrlSourceOptions, "fetch" | "stallMs" | "signal">,
): Promise<Response> {
  const cut = url.lastIndexOf("/");
  const name = decodeURIComponent(url.slice(cut + 1));
  const { maxBytes, ...rest } = opts;
  try {
    const bytes = await urlSource(url.slice(0, cut), rest).read(name, undefined, { maxBytes });
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  } catch (e) {
    if (e instanceof LoadError && e.code === "file_missing")
      return new Response(null, { status: 404 });
    throw e;
  }
}
