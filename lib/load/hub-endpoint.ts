/**
 * Which hub the app fetches from: https://huggingface.co unless overridden, like HF_ENDPOINT.
 * `?hub=<url>` in the page address sets it (and remembers it in localStorage, so a reload keeps
 * it); `?hub=default` forgets it. Tests point it at the stand-in (scripts/hub-standin).
 */
import { DEFAULT_HUB_ENDPOINT, normalizeEndpoint } from "./hub-source";

export const HUB_ENDPOINT_KEY = "causeway:hub-endpoint";

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The endpoint to use, from the query string first, then storage; invalid values are ignored. */
export function hubEndpointSetting(search: string, storage: StorageLike | null): string {
  const asked = new URLSearchParams(search).get("hub");
  if (asked === "default") {
    storage?.removeItem(HUB_ENDPOINT_KEY);
    return DEFAULT_HUB_ENDPOINT;
  }
  for (const candidate of [asked, safeGet(storage)]) {
    if (!candidate) continue;
    try {
      const e = normalizeEndpoint(candidate);
      if (candidate === asked) storage?.setItem(HUB_ENDPOINT_KEY, e);
      return e;
    } catch {
      // not a URL: fall through to the next candidate
    }
  }
  return DEFAULT_HUB_ENDPOINT;
}

export function saveHubEndpoint(endpoint: string, storage: StorageLike | null): string {
  const e = normalizeEndpoint(endpoint);
  if (e === DEFAULT_HUB_ENDPOINT) storage?.removeItem(HUB_ENDPOINT_KEY);
  else storage?.setItem(HUB_ENDPOINT_KEY, e);
  return e;
}

function safeGet(storage: StorageLike | null): string | null {
  try {
    return storage?.getItem(HUB_ENDPOINT_KEY) ?? null;
  } catch {
    return null;
  }
}
