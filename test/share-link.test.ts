/**
 * Session links (lib/share): every field of the table round-trips (property-based), damaged,
 * cut, oversized and future-version links fail with a clear ShareError, and the committed v1
 * fixture keeps decoding to the session it was made from.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { romeParams } from "../lib/edit/rome";
import { ROME_V1_PARAMS } from "../lib/edit/rome-legacy";
import { type Edit, isLearned, type RomeEdit } from "../lib/edit/types";
import { RECEIVER_INPUTS } from "../lib/interp/path-patch";
import { TRACE_KINDS } from "../lib/interp/spec";
import { DEFAULT_GENERATION, GENERATE_PARAMS } from "../lib/params/table";
import { toBase64url } from "../lib/share/base64url";
import { deflate } from "../lib/share/compress";
import { ShareError } from "../lib/share/errors";
import { roundF16 } from "../lib/share/f16";
import { FIELDS } from "../lib/share/fields";
import { readSessionFile } from "../lib/share/file";
import {
  decodeSession,
  encodeSession,
  MAX_LINK_CHARS,
  MAX_PAYLOAD_BYTES,
  toPayload,
} from "../lib/share/link";
import { LINK_VERSION, MIGRATIONS } from "../lib/share/migrate";
import { DEFAULT_SESSION, type SharedSession } from "../lib/share/session";
import { HEAD_SORT_KEYS } from "../lib/store/heads-slice";
import { POSITION_SITES } from "../lib/store/positions-slice";
import { ROOT } from "../scripts/reference/golden";

// +0: JSON has no −0 (as every JSON format)
const f16 = fc.double({ min: -4, max: 4, noNaN: true }).map((x) => roundF16(x) + 0);
const prob = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => roundF16(x) + 0);
const txt = fc.string({ maxLength: 40, unit: "grapheme" });

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant("head_scale" as const),
    site: fc.record({ layer: fc.nat(11), head: fc.nat(11) }),
    params: fc.record({ scale: fc.double({ min: -4, max: 4, noNaN: true }).map((x) => x + 0) }),
    enabled: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("rome" as const),
    site: fc.record({ layer: fc.nat(5) }),
    params: fc.record({
      prompt: fc.constant("{} lives in the city of"),
      subject: txt,
      target_new: txt,
    }),
    // f16-exact values: the round trip must then be exact (tolerance: test/share-f16.test.ts)
    learned: fc.record({
      u: fc.array(f16, { minLength: 8, maxLength: 32 }),
      v: fc.array(f16, { minLength: 8, maxLength: 16 }),
    }),
  }),
) as fc.Arbitrary<Edit>;

const sessionArb: fc.Arbitrary<SharedSession> = fc
  .record({
    model: fc.oneof(
      fc.constant({ kind: "bundled" as const, name: "tiny-facts" }),
      fc.record({ kind: fc.constant("url" as const), baseUrl: fc.webUrl() }),
      fc.record({
        kind: fc.constant("url" as const),
        baseUrl: fc.webUrl(),
        name: fc.string({ minLength: 1, maxLength: 20 }),
      }),
      fc.record(
        {
          kind: fc.constant("hub" as const),
          repo: fc.constantFrom("gpt2", "openai-community/gpt2-medium", "org/tiny.model-v2"),
          revision: fc.constantFrom("main", "a1b2c3d"),
          endpoint: fc.webUrl(),
        },
        { requiredKeys: ["kind", "repo"] },
      ),
    ),
    prompt: txt,
    subject: txt,
    subjectRange: fc.option(
      fc
        .tuple(fc.nat(30), fc.integer({ min: 1, max: 30 }))
        .map(([b, n]) => [b, b + n] as [number, number]),
      { nil: null },
    ),
    target: txt,
    corruption: fc.constantFrom("noise" as const, "prompt" as const),
    noise: fc.double({ min: 0, max: 1000, noNaN: true }).map((x) => x + 0),
    samples: fc.integer({ min: 1, max: 1000 }),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    counterfactual: txt,
    window: fc.option(fc.integer({ min: 1, max: 48 }), { nil: null }),
    kinds: fc.shuffledSubarray([...TRACE_KINDS], { minLength: 1 }),
    strategy: fc.constantFrom("fast" as const, "naive" as const),
    patch: fc.record({ clean: txt, corrupt: txt, target: txt, foil: txt }),
    selectedHead: fc.option(fc.record({ layer: fc.nat(47), head: fc.nat(24) }), { nil: null }),
    // every value the settings table allows (lib/params/table.ts)
    generation: fc.record({
      maxNew: fc.integer({ min: GENERATE_PARAMS.maxNew.min, max: GENERATE_PARAMS.maxNew.max }),
      sample: fc.boolean(),
      seed: fc.integer({ min: GENERATE_PARAMS.seed.min, max: GENERATE_PARAMS.seed.max }),
      temperature: fc.double({
        min: GENERATE_PARAMS.temperature.min,
        max: GENERATE_PARAMS.temperature.max,
        noNaN: true,
      }),
      topK: fc.integer({ min: GENERATE_PARAMS.topK.min, max: GENERATE_PARAMS.topK.max }),
    }),
    edits: fc.array(editArb, { maxLength: 3 }),
    trace: fc.option(
      fc.integer({ min: 2, max: 12 }).chain((T) =>
        fc
          .record({
            tokens: fc.array(txt, { minLength: T, maxLength: T }),
            subject: fc.constant([0, 1] as [number, number]),
            answer: txt,
            low: prob,
            high: prob,
            window: fc.integer({ min: 1, max: 10 }),
            grids: fc.constant(null),
          })
          .chain((t) =>
            fc
              .shuffledSubarray([...TRACE_KINDS], { minLength: 1 })
              .chain((kinds) =>
                fc.tuple(
                  ...kinds.map((kind) =>
                    fc
                      .array(fc.oneof(prob, fc.constant(Number.NaN)), {
                        minLength: T * 6,
                        maxLength: T * 6,
                      })
                      .map((values) => ({ kind, rows: T, cols: 6, values })),
                  ),
                ),
              )
              .map((grids) => ({ ...t, grids })),
          ),
      ),
      { nil: null },
    ),
    view: fc.constantFrom("trace", "patch", "positions", "path", "dataset", "lens-2"),
    heads: fc.option(
      fc.record({
        pinned: fc.array(fc.record({ layer: fc.nat(47), head: fc.nat(24) }), { maxLength: 2 }),
        sort: fc.constantFrom(...HEAD_SORT_KEYS),
        desc: fc.boolean(),
      }),
      { nil: null },
    ),
    readouts: fc.option(
      fc.record({
        lens: fc.option(
          fc.record({
            target: fc.string({ maxLength: 20 }),
            topK: fc.integer({ min: 1, max: 50 }),
          }),
          { nil: null },
        ),
        dla: fc.option(
          fc.record({
            target: fc.string({ maxLength: 20 }),
            foil: fc.string({ maxLength: 20 }),
            position: fc.option(fc.nat(4096), { nil: null }),
          }),
          { nil: null },
        ),
        attrib: fc.option(fc.record({ exact: fc.boolean() }), { nil: null }),
      }),
      { nil: null },
    ),
    patching: fc.option(
      fc.record({
        positions: fc.option(fc.record({ site: fc.constantFrom(...POSITION_SITES) }), {
          nil: null,
        }),
        path: fc.option(
          fc.record({
            sender: fc.record({ layer: fc.nat(47), head: fc.nat(24) }),
            inputs: fc.subarray([...RECEIVER_INPUTS], { minLength: 1 }),
            receivers: fc.uniqueArray(fc.record({ layer: fc.nat(47), head: fc.nat(24) }), {
              maxLength: 4,
              selector: (h) => `${h.layer}.${h.head}`,
            }),
          }),
          { nil: null },
        ),
      }),
      { nil: null },
    ),
  })
  .map((s) => s as SharedSession);

const sample: SharedSession = {
  ...DEFAULT_SESSION,
  prompt: "Ralkrok Stennos lives in the city of",
  subject: "Ralkrok Stennos",
};

async function shareError(p: Promise<unknown>): Promise<ShareError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ShareError) return e;
    throw e;
  }
  throw new Error("expected a ShareError");
}

describe("session link", () => {
  it("round-trips every field (property)", async () => {
    await fc.assert(
      fc.asyncProperty(sessionArb, async (s) => {
        const { hash, dropped } = await encodeSession(s);
        expect(hash.startsWith(`#v${LINK_VERSION}.`)).toBe(true);
        expect(dropped).toEqual([]);
        // structuredClone: fast-check may build null-prototype objects
        const expected = structuredClone(s);
        // a url source's display name is never carried: names derive from the address (10.1)
        if (expected.model.kind === "url") delete expected.model.name;
        expect(await decodeSession(hash)).toStrictEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it("covers every field of SharedSession with a distinct key", () => {
    expect(FIELDS.map((f) => f.name).sort()).toEqual(Object.keys(DEFAULT_SESSION).sort());
    expect(new Set(FIELDS.map((f) => f.key)).size).toBe(FIELDS.length);
  });

  it("leaves defaults out: the default session is an empty payload", async () => {
    expect(toPayload(DEFAULT_SESSION)).toEqual({});
    expect(await decodeSession((await encodeSession(DEFAULT_SESSION)).hash)).toEqual(
      DEFAULT_SESSION,
    );
  });

  it("refuses a model opened from local files", async () => {
    const s = {
      ...DEFAULT_SESSION,
      model: { kind: "files", name: "my-model" },
    } as unknown as SharedSession;
    expect((await shareError(encodeSession(s))).code).toBe("not_shareable");
  });

  it("detects altered links (every single-character change of the payload)", async () => {
    const { hash } = await encodeSession(sample);
    const codes = new Set<string>();
    let decodedToOther = 0;
    for (let i = 4; i < hash.length; i++) {
      const c = hash[i] === "A" ? "B" : "A";
      const bad = hash.slice(0, i) + c + hash.slice(i + 1);
      try {
        const s = await decodeSession(bad);
        // the last character's spare bits are checked; anything else must fail the checksum
        decodedToOther += JSON.stringify(s) === JSON.stringify(sample) ? 0 : 1;
      } catch (e) {
        expect(e).toBeInstanceOf(ShareError);
        codes.add((e as ShareError).code);
      }
    }
    expect(decodedToOther).toBe(0);
    expect([...codes].every((c) => ["corrupt", "bad_link", "bad_field"].includes(c))).toBe(true);
  });

  it("detects truncated links", async () => {
    const { hash } = await encodeSession(sample);
    for (const n of [4, 6, 10, hash.length - 3, hash.length - 1]) {
      const e = await shareError(decodeSession(hash.slice(0, n)));
      expect(["corrupt", "bad_link"]).toContain(e.code);
      expect(e.message.length).toBeGreaterThan(10);
    }
  });

  it("refuses other formats, unknown versions and oversized links", async () => {
    expect((await shareError(decodeSession("#hello"))).code).toBe("bad_link");
    expect((await shareError(decodeSession("#v1.a*b"))).code).toBe("bad_link");
    const next = await shareError(decodeSession(`#v${LINK_VERSION + 1}.AAAA`));
    expect(next.code).toBe("unknown_version");
    expect(next.message).toContain(`v${LINK_VERSION + 1}`);
    const long = `#v1.${"A".repeat(MAX_LINK_CHARS)}`;
    expect((await shareError(decodeSession(long))).code).toBe("too_long");
  });

  it("stops inflating a small link that would unpack past the cap", async () => {
    const bomb = new Uint8Array(MAX_PAYLOAD_BYTES + 10).fill(32);
    const hash = `#v1.${toBase64url(await deflate(bomb))}`;
    expect(hash.length).toBeLessThan(MAX_LINK_CHARS);
    expect((await shareError(decodeSession(hash))).code).toBe("too_long");
  });

  it("names the field that is out of range or unknown", async () => {
    const link = async (payload: unknown) =>
      `#v1.${toBase64url(await deflate(new TextEncoder().encode(JSON.stringify(payload))))}`;
    const cases: [unknown, RegExp][] = [
      [{ ns: 0 }, /samples/],
      [{ sd: -1 }, /seed/],
      [{ k: ["hidden", "hidden"] }, /kinds/],
      [{ m: { kind: "url", baseUrl: "javascript:alert(1)" } }, /model/],
      [{ m: { kind: "hub", repo: "gpt2", endpoint: "javascript:alert(1)" } }, /endpoint/],
      [{ m: { kind: "hub", repo: "../etc" } }, /repo id/],
      [{ m: { kind: "hub", repo: "gpt2", revision: "../../x" } }, /revision/],
      [{ zz: 1 }, /unknown field "zz"/],
      [{ e: [{ kind: "nope" }] }, /edits/],
      [{ v: "<script>" }, /view/],
      [{ v: "x".repeat(41) }, /view/],
      [{ pv: { positions: { site: "head_out" }, path: null } }, /patching\.positions\.site/],
      [
        { pv: { positions: null, path: { sender: { layer: -1, head: 0 }, inputs: ["q"] } } },
        /patching\.path\.sender\.layer/,
      ],
      [
        { pv: { positions: null, path: { sender: { layer: 0, head: 1e9 }, inputs: ["q"] } } },
        /sender\.head/,
      ],
      [
        { pv: { positions: null, path: { sender: { layer: 0.5, head: 0 }, inputs: ["q"] } } },
        /sender\.layer/,
      ],
      [{ pv: { positions: null, path: { sender: { layer: 0, head: 0 }, inputs: [] } } }, /inputs/],
      [
        { pv: { positions: null, path: { sender: { layer: 0, head: 0 }, inputs: ["q", "q"] } } },
        /inputs/,
      ],
      [
        { pv: { positions: null, path: { sender: { layer: 0, head: 0 }, inputs: ["o"] } } },
        /inputs/,
      ],
      [{ pv: { positions: null, path: null, x: 1 } }, /unknown part "x"/],
      [[1, 2], /not a session/],
    ];
    for (const [payload, msg] of cases) {
      const e = await shareError(decodeSession(await link(payload)));
      expect(e.code).toBe("bad_field");
      expect(e.message).toMatch(msg);
    }
  });

  it("drops the carried grids, then learned parameters, to fit the cap", async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => Math.sin(i * 1.37) * 0.01 + i * 1e-7);
    const edit = {
      kind: "rome",
      site: { layer: 0 },
      params: { prompt: "{} is", subject: "x", target_new: " y" },
      learned: { u: big, v: big },
    } as Edit;
    const { hash, dropped } = await encodeSession({ ...sample, edits: [edit] });
    expect(dropped).toContain("learned");
    const back = await decodeSession(hash);
    expect(back.edits[0]).toEqual({ ...edit, learned: undefined });
  });
});

describe("v1 fixture", () => {
  const dir = path.join(ROOT, "test/fixtures/share");
  it("decodes forever to the session it was made from", async () => {
    const hash = readFileSync(path.join(dir, "v1-session.txt"), "utf8").trim();
    const want = JSON.parse(readFileSync(path.join(dir, "v1-session.json"), "utf8"));
    expect(hash.startsWith("#v1.")).toBe(true);
    const got = JSON.parse(
      JSON.stringify(await decodeSession(hash), (_k, v) => (Number.isNaN(v) ? "NaN" : v)),
    );
    // fields added since (the generation settings, the results tab) read as their defaults;
    // the ROME edit of v1 without preserve / preserve_cost meant ROME's C (v2 migration)
    want.edits[1].params = { ...want.edits[1].params, ...ROME_V1_PARAMS };
    expect(got).toEqual({
      ...want,
      generation: DEFAULT_GENERATION,
      view: DEFAULT_SESSION.view,
      heads: null,
      readouts: null,
      patching: null,
    });
  });
});

describe("ROME's preserve defaults: v1 links and session files keep their meaning", () => {
  const dir = path.join(ROOT, "test/fixtures/share");
  const fixture = (name: string) => readFileSync(path.join(dir, name), "utf8");
  const romeOf = (s: SharedSession) => s.edits.filter((e): e is RomeEdit => e.kind === "rome");
  const resolved = (e: RomeEdit) => {
    const p = romeParams(e.params);
    return { preserve: p.preserve, preserve_cost: p.preserve_cost };
  };

  it("a v1 link's ROME edits read preserve 0 where absent; a chosen value and learned u, v stay", async () => {
    const hash = fixture("v1-rome.txt").trim();
    expect(hash.startsWith("#v1.")).toBe(true);
    const want = JSON.parse(fixture("v1-rome.json")) as SharedSession;
    const got = await decodeSession(hash);
    const [recipe, chosen, learned] = romeOf(got);
    expect(recipe.params).toEqual({ ...romeOf(want)[0].params, preserve: 0, preserve_cost: 0 });
    expect(resolved(recipe)).toEqual({ preserve: 0, preserve_cost: 0 });
    expect(chosen.params.preserve).toBe(3); // as written, not the v1 default
    expect(chosen.params.preserve_cost).toBe(0);
    expect(learned.learned).toEqual(romeOf(want)[2].learned); // not relearned: still learned
    expect(isLearned(learned)).toBe(true);
    // everything but the ROME params as the session was made
    const strip = (s: SharedSession) => ({
      ...s,
      edits: s.edits.map((e) => (e.kind === "rome" ? { ...e, params: {} } : e)),
    });
    expect(strip(got)).toEqual(strip({ ...DEFAULT_SESSION, ...want }));
  });

  it("a v1 session file reads the same", () => {
    const s = readSessionFile(fixture("v1-rome-session.json"));
    expect(romeOf(s).map(resolved)).toEqual([
      { preserve: 0, preserve_cost: 0 },
      { preserve: 3, preserve_cost: 0 },
      { preserve: 0, preserve_cost: 0 },
    ]);
  });

  it("a v2 link (and a new edit) means the tuned default, preserve 10 bounded by 2", async () => {
    const hash = fixture("v2-rome.txt").trim();
    expect(hash.startsWith(`#v${LINK_VERSION}.`)).toBe(true);
    const got = await decodeSession(hash);
    expect(got).toEqual(JSON.parse(fixture("v2-rome.json")));
    expect(romeOf(got).map(resolved)).toEqual([
      { preserve: 10, preserve_cost: 2 },
      { preserve: 3, preserve_cost: 2 },
      { preserve: 10, preserve_cost: 2 },
    ]);
    expect(readSessionFile(fixture("v2-rome-session.json"))).toEqual(got);
    // a ROME edit made now travels without the params and still means 10 / 2
    const made = {
      kind: "rome",
      site: {},
      params: { prompt: "{} is", subject: "a", target_new: "b" },
    };
    const back = romeOf(
      await decodeSession((await encodeSession({ ...sample, edits: [made as Edit] })).hash),
    );
    expect(back[0].params).toEqual(made.params);
    expect(resolved(back[0])).toEqual({ preserve: 10, preserve_cost: 2 });
  });

  it("the v1 → v2 step leaves what is not a ROME edit, or not a session, to the readers", async () => {
    const step = MIGRATIONS[1];
    const odd = [null, 3, "x", [], { kind: "rome" }, { kind: "rome", params: [1] }];
    expect(step({ e: odd })).toEqual({ e: odd });
    expect(step({ p: "x" })).toEqual({ p: "x" });
    const v1 = async (payload: unknown) =>
      decodeSession(
        `#v1.${toBase64url(await deflate(new TextEncoder().encode(JSON.stringify(payload))))}`,
      );
    await expect(v1({ e: "not a list" })).rejects.toMatchObject({ code: "bad_field" });
    await expect(v1([{ e: [] }])).rejects.toMatchObject({ code: "bad_field" });
    await expect(v1(5)).rejects.toMatchObject({ code: "bad_field" });
  });
});

describe("link length", () => {
  it("a plain trace of a bundled fact (no grids) stays short", async () => {
    const { hash } = await encodeSession(sample);
    console.log(`plain-trace link: ${hash.length} characters`);
    expect(hash.length).toBeLessThan(120);
  });
});
