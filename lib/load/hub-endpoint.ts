/**
 * Which hub the app fetches from: https://huggingface.co unless overridden, like HF_ENDPOINT.
 * `?hub=<url>` in the page address sets it for this visit only; it is remembered (localStorage)
 * only when the user asks (the hub form's "Remember" button), so a one-off link never changes
 * where later sessions fetch from. Tests point it at the stand-in (scripts/hub-standin).
 */
import { DEFAULT_HUB_ENDPOINT, normalizeEndpoint } from "./hub-source";

export const HUB_ENDPOINT_KEY = "causeway:hub-endpoint";

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface HubEndpointChoice {
  /** The endpoint to use now. */
  endpoint: string;
  /** The endpoint remembered from an earlier visit (the default when none). */
  remembered: string;
  /** True when `endpoint` comes from this page's `?hub=` and is not remembered. */
  fromAddress: boolean;
}

/** The endpoint to use: `?hub=` for this visit, else the remembered one; never writes storage. */
export function hubEndpointSetting(search: string, storage: StorageLike | null): HubEndpointChoice {
  const remembered = valid(safeGet(storage)) ?? DEFAULT_HUB_ENDPOINT;
  const asked = new URLSearchParams(search).get("hub");
  const fromQuery = asked === "default" ? DEFAULT_HUB_ENDPOINT : valid(asked);
  if (fromQuery === null) return { endpoint: remembered, remembered, fromAddress: false };
  return { endpoint: fromQuery, remembered, fromAddress: fromQuery !== remembered };
}

/** Remembers `endpoint` for later visits (the default one is remembered by forgetting). */
export function saveHubEndpoint(endpoint: string, storage: StorageLike | null): string {
  const e = normalizeEndpoint(endpoint);
  if (e === DEFAULT_HUB_ENDPOINT) storage?.removeItem(HUB_ENDPOINT_KEY);
  else storage?.setItem(HUB_ENDPOINT_KEY, e);
  return e;
}

function valid(candidate: string | null): string | null {
  if (!candidate) return null;
  try {
    return normalizeEndpoint(candidate);
  } catch {
    return null; // not an http(s) URL (or one with credentials): ignored
  }
}

function safeGet(storage: StorageLike | null): string | null {
  try {
    return storage?.getItem(HUB_ENDPOINT_KEY) ?? null;
  } catch {
    return null;
  }
}
