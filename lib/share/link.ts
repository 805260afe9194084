/**
 * A session as a URL fragment:  #v<version>.<base64url(zlib(JSON payload))> (./migrate.ts)
 * The payload is {key: value} for each field of ./fields.ts that differs from its default.
 *
 * Caps: a link longer than MAX_LINK_CHARS is refused on both sides (encoding first drops the
 * carried grids, then learned edit parameters — the opener relearns them — before giving up);
 * the payload may unpack to at most MAX_PAYLOAD_BYTES.
 */
import { fromBase64url, toBase64url } from "./base64url";
import { editForLink, type Json } from "./codecs";
import { deflate, inflate } from "./compress";
import { ShareError } from "./errors";
import { FIELD_KEYS, FIELDS } from "./fields";
import { LINK_VERSION, migrate, type Payload, type SessionOrigin } from "./migrate";
import { DEFAULT_SESSION, type SharedSession } from "./session";

export const MAX_LINK_CHARS = 32_768;
export const MAX_PAYLOAD_BYTES = 1 << 20;

const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);

/** The payload object of a session (fields at their default left out). */
export function toPayload(session: SharedSession): Payload {
  const out: Payload = {};
  for (const field of FIELDS) {
    const codec = field.codec as { write(v: unknown): Json };
    const v = codec.write(session[field.name]);
    if (!same(v, codec.write(field.default))) out[field.key] = v;
  }
  return out;
}

/** The session of a (current-version) payload; every field checked. */
export function fromPayload(payload: Payload, from: SessionOrigin = "link"): SharedSession {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new ShareError("bad_field", `The ${from}'s contents are not a session.`);
  }
  const unknown = Object.keys(payload).find((k) => !FIELD_KEYS.has(k));
  if (unknown !== undefined) {
    throw new ShareError(
      "bad_field",
      `The ${from} has an unknown field "${unknown.slice(0, 40)}".`,
    );
  }
  const out: Record<string, unknown> = { ...DEFAULT_SESSION };
  for (const field of FIELDS) {
    if (field.key in payload) {
      out[field.name] = field.codec.read(payload[field.key], `${from}'s ${field.name}`);
    }
  }
  return out as unknown as SharedSession;
}

async function encodePayload(payload: Payload): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  return `#v${LINK_VERSION}.${toBase64url(await deflate(bytes))}`;
}

export interface EncodedLink {
  hash: string;
  /** What was left out to fit the cap. */
  dropped: ("trace" | "learned")[];
}

/** The fragment ("#v2.…") of a session, within MAX_LINK_CHARS. */
export async function encodeSession(session: SharedSession): Promise<EncodedLink> {
  const payload = toPayload(session);
  let hash = await encodePayload(payload);
  const dropped: EncodedLink["dropped"] = [];
  if (hash.length > MAX_LINK_CHARS && "g" in payload) {
    delete payload.g;
    dropped.push("trace");
    hash = await encodePayload(payload);
  }
  if (hash.length > MAX_LINK_CHARS && "e" in payload) {
    payload.e = session.edits.map((e) => editForLink(e, true));
    dropped.push("learned");
    hash = await encodePayload(payload);
  }
  if (hash.length > MAX_LINK_CHARS) {
    throw new ShareError(
      "too_long",
      `The session needs a ${hash.length.toLocaleString("en-US")}-character link; the limit is ${MAX_LINK_CHARS.toLocaleString("en-US")}. Export it as a session file instead.`,
    );
  }
  return { hash, dropped };
}

/** The session of a fragment (with or without "#"); ShareError with a message for the user. */
export async function decodeSession(fragment: string): Promise<SharedSession> {
  const h = fragment.startsWith("#") ? fragment.slice(1) : fragment;
  if (h.length + 1 > MAX_LINK_CHARS) {
    throw new ShareError(
      "too_long",
      `The link is ${h.length.toLocaleString("en-US")} characters; the limit is ${MAX_LINK_CHARS.toLocaleString("en-US")}.`,
    );
  }
  const m = /^v(\d{1,6})\.(.*)$/s.exec(h);
  if (!m)
    throw new ShareError("bad_link", `This is not a Causeway session link (#v${LINK_VERSION}.…).`);
  const version = Number(m[1]);
  if (version > LINK_VERSION) migrate(version, {}); // throws unknown_version
  const bytes = fromBase64url(m[2]);
  if (!bytes || bytes.length === 0) {
    throw new ShareError("bad_link", "The link's contents are not base64url text (altered?).");
  }
  const raw = await inflate(bytes, MAX_PAYLOAD_BYTES);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new ShareError("corrupt", "The link's contents are not a session (altered?).");
  }
  return fromPayload(migrate(version, payload as Payload));
}

/** True when a fragment looks like a session link (decoding may still fail). */
export function isSessionFragment(fragment: string): boolean {
  return /^#?v\d+\./.test(fragment);
}
