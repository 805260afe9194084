/**
 * Models on the Hugging Face hub (or anything with its URL layout):
 * `${endpoint}/${repo}/resolve/${revision}/${file}`. The real hub answers LFS files (weights) with
 * a 302 to its CDN, which fetch follows; without a token it answers 401 for a repository that is
 * absent, private or gated (url-source turns that into a clear message).
 */
import { LoadError } from "./errors";
import { type CacheStorageLike, cachedSource } from "./model-cache";
import type { FileSource } from "./types";
import { hideCredentials, refuseCredentials, urlSource } from "./url-source";

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";
export const DEFAULT_REVISION = "main";

export interface HubRef {
  /** "gpt2" or "org/name". */
  repo: string;
  /** Branch, tag or commit; "main" when absent. */
  revision?: string;
}

// Hub repo names: letters, digits, "-", "_", "." (no "--" / ".." tricks), one optional org.
const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9._/-]{1,200}$/;

/**
 * Parses what a user types: "gpt2", "openai-community/gpt2-medium", "org/name@revision".
 * Throws LoadError("bad_config") with what is wrong.
 */
export function parseHubRef(spec: string): HubRef {
  const text = spec.trim();
  const at = text.indexOf("@");
  const repo = at >= 0 ? text.slice(0, at) : text;
  const revision = at >= 0 ? text.slice(at + 1) : undefined;
  const parts = repo.split("/");
  if (
    repo === "" ||
    parts.length > 2 ||
    parts.some((p) => !PART.test(p) || p.includes("..") || p.includes("--"))
  ) {
    throw new LoadError(
      "bad_config",
      repo || "(empty)",
      'is not a hub repository id (expected "name" or "org/name", e.g. "gpt2" or "openai-community/gpt2-medium")',
    );
  }
  if (revision !== undefined && (!REVISION.test(revision) || revision.includes(".."))) {
    throw new LoadError("bad_config", repo, `revision ${JSON.stringify(revision)} is not valid`);
  }
  return revision ? { repo, revision } : { repo };
}

/** The endpoint without trailing slashes; only http(s) URLs are accepted. */
export function normalizeEndpoint(endpoint: string | undefined): string {
  const e = (endpoint ?? DEFAULT_HUB_ENDPOINT).trim().replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(e);
  } catch {
    const shown = JSON.stringify(hideCredentials(e));
    throw new LoadError("bad_config", "hub endpoint", `${shown} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new LoadError(
      "bad_config",
      "hub endpoint",
      `${hideCredentials(e)} is not an http(s) URL`,
    );
  }
  refuseCredentials(url, "hub endpoint");
  return e;
}

/** `${endpoint}/${repo}/resolve/${revision}`: the folder every file of the model is under. */
export function hubBaseUrl(ref: HubRef, endpoint?: string): string {
  const rev = encodeURIComponent(ref.revision ?? DEFAULT_REVISION);
  return `${normalizeEndpoint(endpoint)}/${ref.repo}/resolve/${rev}`;
}

export interface HubSourceOptions {
  endpoint?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Keep downloaded files here (the browser's `caches`); absent in Node. */
  cache?: CacheStorageLike;
  /** Stop a transfer that receives nothing for this long (url-source; default 30 s). */
  stallMs?: number;
}

/** A FileSource over one hub repository at one revision, cached when `cache` is given. */
export function hubSource(ref: HubRef, opts: HubSourceOptions = {}): FileSource {
  const parsed = parseHubRef(ref.revision ? `${ref.repo}@${ref.revision}` : ref.repo);
  const base = hubBaseUrl(parsed, opts.endpoint);
  const label = `hub:${parsed.repo}@${parsed.revision ?? DEFAULT_REVISION} (${normalizeEndpoint(opts.endpoint)})`;
  const { fetch, signal, stallMs } = opts;
  const inner = urlSource(base, { fetch, signal, stallMs, label });
  return opts.cache ? cachedSource(inner, base, opts.cache) : inner;
}
