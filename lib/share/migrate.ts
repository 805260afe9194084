/**
 * Link versions. A link is "#v<version>.<payload>"; the payload of an old version is migrated,
 * one version at a time, up to the current one before the fields are read (session files carry
 * the same version: ./file.ts). When a version changes a key or a meaning, add
 * MIGRATIONS[v] = (v payload) → v+1 payload, bump LINK_VERSION, and keep
 * test/fixtures/share/v*-*.txt decoding (test/share-link.test.ts).
 *
 *   v1 → v2  ROME's preserve / preserve_cost defaults changed from 0, 0 to 10, 2: a v1 ROME edit
 *            without them gets 0, 0 (lib/edit/rome-legacy.ts). Edits live only in the edit
 *            stack, "e" (./fields.ts); their params are plain JSON there (./packed.ts packs
 *            only number arrays).
 */
import { isObj } from "../edit/parse-checker";
import { editsFromV1 } from "../edit/rome-legacy";
import { ShareError } from "./errors";

export const LINK_VERSION = 2;

export type Payload = Record<string, unknown>;

/** Where a payload came from, as its messages name it ("The session file's prompt …"). */
export type SessionOrigin = "link" | "session file";

/** MIGRATIONS[v] turns a version-v payload into a version-(v+1) payload. */
export const MIGRATIONS: Record<number, (p: Payload) => Payload> = {
  // anything but an object with "e" passes unchanged: fromPayload refuses what is not a session
  1: (p) => (isObj(p) && Object.hasOwn(p, "e") ? { ...p, e: editsFromV1(p.e) } : p),
};

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
