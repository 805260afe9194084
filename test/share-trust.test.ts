/**
 * Links and session files are untrusted (issue 10.4, 10.1, 10.16): a bundled model name is one of
 * the bundled models, a url source's display name is never taken from a link, and a session
 * file's errors name the file, not "the link".
 */
import { describe, expect, it } from "vitest";
import { LIMITS } from "../lib/params/table";
import { toBase64url } from "../lib/share/base64url";
import { deflate } from "../lib/share/compress";
import { ShareError } from "../lib/share/errors";
import { readSessionFile, sessionFile } from "../lib/share/file";
import { decodeSession, encodeSession, toPayload } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";

const link = async (payload: unknown) =>
  `#v1.${toBase64url(await deflate(new TextEncoder().encode(JSON.stringify(payload))))}`;

async function shareError(p: Promise<unknown> | (() => unknown)): Promise<ShareError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (e instanceof ShareError) return e;
    throw e;
  }
  throw new Error("expected a ShareError");
}

describe("a link's model source", () => {
  it("names only a bundled model: '..' and a typo are refused", async () => {
    for (const name of ["..", "tiny-fact", ".", "tiny-facts/.."]) {
      const e = await shareError(decodeSession(await link({ m: { kind: "bundled", name } })));
      expect(e.code).toBe("bad_field");
      expect(e.message).toBe(
        "The link's model names no bundled model (bundled: tiny-facts, tiny-facts-llama).",
      );
    }
    const ok = await decodeSession(await link({ m: { kind: "bundled", name: "tiny-facts" } }));
    expect(ok.model).toEqual({ kind: "bundled", name: "tiny-facts" });
  });

  it("never carries a display name: not written, and an old link's name is dropped", async () => {
    const model = {
      kind: "url" as const,
      baseUrl: "https://x.test/m/",
      name: "tiny-facts (bundled)",
    };
    expect(toPayload({ ...DEFAULT_SESSION, model }).m).toEqual({
      kind: "url",
      baseUrl: "https://x.test/m/",
    });
    const old = await decodeSession(await link({ m: model }));
    expect(old.model).toEqual({ kind: "url", baseUrl: "https://x.test/m/" });
    const back = await decodeSession((await encodeSession({ ...DEFAULT_SESSION, model })).hash);
    expect(back.model).not.toHaveProperty("name");
  });
});

describe("a link cannot ask for unbounded work (issue 10.14)", () => {
  it("ROME with 1e9 steps and more than the edit cap are refused before anything starts", async () => {
    const rome = {
      kind: "rome",
      site: { layer: 0 },
      params: { prompt: "{} is in", subject: "Paris", target_new: " Rome", steps: 1e9 },
    };
    const steps = await shareError(decodeSession(await link({ e: [rome] })));
    expect(steps.message).toMatch(/^The link's edits are not valid: .*steps/);
    const ok = { ...rome, params: { ...rome.params, steps: 40 } };
    const many = Array.from({ length: LIMITS.edits + 1 }, () => ok);
    const count = await shareError(decodeSession(await link({ e: many })));
    expect(count.message).toBe(`The link's edits hold more than ${LIMITS.edits} edits.`);
    expect((await decodeSession(await link({ e: [ok] }))).edits).toHaveLength(1);
  });
});

describe("the generation panel's decoding", () => {
  it("a sampled mode with its seed, temperature and top-k travels in a link (issue 10.10)", async () => {
    const generation = { maxNew: 33, sample: true, seed: 42, temperature: 0.7, topK: 5 };
    const back = await decodeSession(
      (await encodeSession({ ...DEFAULT_SESSION, generation })).hash,
    );
    expect(back.generation).toEqual(generation);
    const bad = await shareError(
      decodeSession(await link({ gn: { ...generation, temperature: 0 } })),
    );
    expect(bad.message).toMatch(/^The link's generation\.temperature must be a number from/);
  });
});

describe("session file messages", () => {
  const file = (session: unknown, version: unknown = 1) =>
    JSON.stringify({ format: "causeway-session", version, session });

  it("name the session file, not the link", async () => {
    const cases: [string, RegExp][] = [
      [file({ ns: 0 }), /^The session file's samples must be a whole number from 1 to 1000\.$/],
      [file({ m: { kind: "bundled", name: ".." } }), /^The session file's model names no bundled/],
      [file({ zz: 1 }), /^The session file has an unknown field "zz"\.$/],
      [file([1]), /^The session file's contents are not a session\.$/],
      [file({}, 9), /^The session file is format v9, newer than this Causeway/],
      [file({}, 0), /^The session file's version "0" is not a version\.$/],
    ];
    for (const [text, msg] of cases) {
      const e = await shareError(() => readSessionFile(text));
      expect(e.message).toMatch(msg);
      expect(e.message).not.toMatch(/link/);
    }
  });

  it("a good session file still opens", () => {
    const s = { ...DEFAULT_SESSION, prompt: "Paris is in", samples: 7 };
    expect(readSessionFile(sessionFile(s))).toEqual(s);
  });
});
