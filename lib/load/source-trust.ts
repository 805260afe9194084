/**
 * Which model sources a link or a session file may load without asking, and what the model is
 * called on screen. Links and session files are untrusted input:
 *
 * - bundled models are an allow-list (BUNDLED_MODELS), loaded without asking;
 * - a URL on the page's own origin is the app's own files, loaded without asking;
 * - anything else (another origin, any hub repo) is loaded only after the user confirms, shown
 *   the real origin and repository (components/ModelSourceConfirm.tsx);
 * - an address with a user name or password is refused and never printed;
 * - the name shown is derived from the source, never taken from the link (a link could call a
 *   foreign model "tiny-facts (bundled)").
 */
import type { ModelSource } from "../protocol";
import { LoadError } from "./errors";
import { DEFAULT_HUB_ENDPOINT, DEFAULT_REVISION, normalizeEndpoint } from "./hub-source";
import { refuseCredentials } from "./url-source";

/** The models shipped in public/models/: the only names a "bundled" source may carry. */
export const BUNDLED_MODELS = ["tiny-facts", "tiny-facts-llama"] as const;

export function isBundledModel(name: string): boolean {
  return (BUNDLED_MODELS as readonly string[]).includes(name);
}

/** What a confirmation shows: where the files would come from, and which model. */
export interface ForeignSource {
  /** "https://example.org" (scheme, host and port: what the browser would contact). */
  origin: string;
  /** The hub repository ("org/name@main") or the folder's path on that origin. */
  repo: string;
  kind: "url" | "hub";
}

/**
 * null when `source` may load without asking; else what the user must confirm. Throws
 * LoadError("refused_source") for an unknown bundled name or an address with credentials.
 */
export function foreignSource(source: ModelSource, pageOrigin: string): ForeignSource | null {
  switch (source.kind) {
    case "bundled":
      if (!isBundledModel(source.name)) {
        throw new LoadError(
          "refused_source",
          "model",
          `${JSON.stringify(source.name)} is not a bundled model (bundled: ${BUNDLED_MODELS.join(", ")})`,
        );
      }
      return null;
    case "files":
      return null; // chosen by the user on this computer; a link cannot carry files
    case "url": {
      const url = parseHttp(source.baseUrl, pageOrigin);
      if (url.origin === new URL(pageOrigin).origin) return null;
      return { kind: "url", origin: url.origin, repo: url.pathname };
    }
    case "hub": {
      const endpoint = parseHttp(normalizeEndpoint(source.endpoint), pageOrigin);
      const repo = `${source.repo}@${source.revision ?? DEFAULT_REVISION}`;
      return { kind: "hub", origin: endpoint.origin, repo };
    }
  }
}

function parseHttp(address: string, base: string): URL {
  let url: URL;
  try {
    url = new URL(address, base);
  } catch {
    throw new LoadError("refused_source", "model", "the model's address is not a URL");
  }
  refuseCredentials(url, "model");
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new LoadError("refused_source", "model", `${url.protocol} addresses are not loaded`);
  }
  return url;
}

/**
 * The model's name on screen, from the source alone: the bundled name, the hub repo (with the
 * endpoint's host when it is not huggingface.co), the URL's last folder with its host.
 */
export function modelDisplayName(source: ModelSource, pageOrigin?: string): string {
  switch (source.kind) {
    case "bundled":
    case "files":
      return source.name;
    case "hub": {
      const name = source.revision ? `${source.repo}@${source.revision}` : source.repo;
      const endpoint = source.endpoint?.replace(/\/+$/, "");
      if (!endpoint || endpoint === DEFAULT_HUB_ENDPOINT) return name;
      return `${name} (${hostOf(endpoint)})`;
    }
    case "url": {
      let url: URL;
      try {
        url = new URL(source.baseUrl, pageOrigin);
      } catch {
        return "model from a URL";
      }
      const folder = url.pathname.split("/").filter(Boolean).pop() ?? "model";
      const own = pageOrigin !== undefined && url.origin === new URL(pageOrigin).origin;
      const shown = safeDecode(folder);
      return own ? shown : `${shown} (${url.host})`;
    }
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function hostOf(address: string): string {
  try {
    return new URL(address).host;
  } catch {
    return "another hub";
  }
}
