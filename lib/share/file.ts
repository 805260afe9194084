/**
 * A session as a JSON file: {"format": "causeway-session", "version": 1, "session": {…}} where
 * "session" is the link's payload (same keys, same codecs: ./fields.ts), uncompressed. Opened
 * through the same checks as a link; files are capped at MAX_SESSION_FILE_BYTES.
 */
import { ShareError } from "./errors";
import { fromPayload, toPayload } from "./link";
import { LINK_VERSION, migrate, type Payload } from "./migrate";
import type { SharedSession } from "./session";

export const SESSION_FORMAT = "causeway-session";
export const MAX_SESSION_FILE_BYTES = 8 << 20;

export function sessionFile(session: SharedSession): string {
  const out = { format: SESSION_FORMAT, version: LINK_VERSION, session: toPayload(session) };
  return `${JSON.stringify(out, null, 1)}\n`;
}

export function readSessionFile(text: string): SharedSession {
  if (text.length > MAX_SESSION_FILE_BYTES) {
    throw new ShareError(
      "too_long",
      `The session file is over ${MAX_SESSION_FILE_BYTES >> 20} MB.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ShareError("corrupt", "The file is not JSON, so not a Causeway session file.");
  }
  const o = json as { format?: unknown; version?: unknown; session?: unknown };
  if (o === null || typeof o !== "object" || o.format !== SESSION_FORMAT) {
    throw new ShareError(
      "bad_link",
      'This is not a Causeway session file (no "format": "causeway-session").',
    );
  }
  if (typeof o.version !== "number") {
    throw new ShareError("bad_link", "The session file has no version.");
  }
  return fromPayload(migrate(o.version, o.session as Payload, "session file"), "session file");
}
