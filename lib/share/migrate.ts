/**
 * Link versions. A link is "#v<version>.<payload>"; the payload of an old version is migrated,
 * one version at a time, up to the current one before the fields are read. Only v1 exists: when
 * v2 changes a key or a meaning, add MIGRATIONS[1] = (v1 payload) → v2 payload, bump
 * LINK_VERSION, and keep test/fixtures/share/v1-*.txt decoding (test/share-link.test.ts).
 */
import { ShareError } from "./errors";

export const LINK_VERSION = 1;

export type Payload = Record<string, unknown>;

/** Where a payload came from, as its messages name it ("The session file's prompt …"). */
export type SessionOrigin = "link" | "session file";

/** MIGRATIONS[v] turns a version-v payload into a version-(v+1) payload. */
export const MIGRATIONS: Record<number, (p: Payload) => Payload> = {};

export function migrate(version: number, payload: Payload, from: SessionOrigin = "link"): Payload {
  if (!Number.isInteger(version) || version < 1) {
    throw new ShareError("bad_link", `The ${from}'s version "${version}" is not a version.`);
  }
  if (version > LINK_VERSION) {
    throw new ShareError(
      "unknown_version",
      `The ${from} is format v${version}, newer than this Causeway (v${LINK_VERSION}). Open it in a newer version.`,
    );
  }
  let p = payload;
  for (let v = version; v < LINK_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new ShareError("unknown_version", `No migration from ${from} v${v}.`);
    p = step(p);
  }
  return p;
}
