/**
 * One table of settings (lib/params/table.ts) read by every layer: a value the CLI accepts is
 * accepted by the engine's spec check and the store, and a link carries it and gives it back;
 * a value past the bound is refused by all of them (issue 9.4: `--noise 2000` ran in the CLI
 * but no link could carry it; samples ≤ 10,000 in the spec, ≤ 1,000 in links).
 */
import { describe, expect, it } from "vitest";
import { paramFlag, UsageError } from "../lib/cli/args";
import { resolveTraceOptions, TRACE_DEFAULTS } from "../lib/interp/spec";
import { inRange } from "../lib/params/schema";
import { GENERATE_PARAMS, TRACE_PARAMS } from "../lib/params/table";
import { ShareError } from "../lib/share/errors";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION, type SharedSession } from "../lib/share/session";
import { checkTrace, DEFAULT_TRACE_SETTINGS } from "../lib/store/trace-slice";
import type { CausewayState } from "../lib/store/types";

const SHARED = ["samples", "noise", "seed", "window"] as const;
const N_LAYER = 6;

/** Just what checkTrace reads: a ready model, a prompt, a subject, the settings. */
function stateWith(patch: Partial<typeof DEFAULT_TRACE_SETTINGS>): CausewayState {
  return {
    model: { status: "ready", info: { config: { nLayer: N_LAYER } } },
    predict: { prompt: "The Eiffel Tower is in", status: "done", error: null },
    trace: {
      settings: { ...DEFAULT_TRACE_SETTINGS, subjectText: "Eiffel Tower", ...patch },
      subjectError: null,
    },
  } as unknown as CausewayState;
}

const shareError = async (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a ShareError");
    },
    (e) => e as ShareError,
  );

describe("one settings table for the CLI, the engine, the store and links", () => {
  it("every layer's default is the table's", () => {
    for (const k of ["samples", "noise", "seed"] as const) {
      expect(TRACE_DEFAULTS[k]).toBe(TRACE_PARAMS[k].default);
      expect(DEFAULT_SESSION[k]).toBe(TRACE_PARAMS[k].default);
      expect(DEFAULT_TRACE_SETTINGS[k]).toBe(TRACE_PARAMS[k].default);
    }
  });

  for (const name of SHARED) {
    const p = TRACE_PARAMS[name];
    // the window's own bound is the model's depth once a model is known
    const max = name === "window" ? N_LAYER : p.max;

    it(`${name}: the CLI's maximum is accepted everywhere and a link gives it back`, async () => {
      const cliMax = paramFlag({ [name]: String(p.max) }, name, p);
      expect(cliMax).toBe(p.max);
      const session: SharedSession = { ...DEFAULT_SESSION, [name]: p.max };
      const back = await decodeSession((await encodeSession(session)).hash);
      expect(back[name]).toBe(p.max);
      expect(() =>
        resolveTraceOptions({ prompt: "a b", subject: "a", [name]: max }, N_LAYER),
      ).not.toThrow();
      expect(checkTrace(stateWith({ [name]: max }))).toBeNull();
    });

    it(`${name}: past the bound, the CLI, the engine, the store and a link all refuse`, async () => {
      const over = p.max + (p.integer ? 1 : p.max);
      expect(() => paramFlag({ [name]: String(over) }, name, p)).toThrow(UsageError);
      const e = await shareError(
        encodeSession({ ...DEFAULT_SESSION, [name]: over }).then((l) => decodeSession(l.hash)),
      );
      expect(e).toBeInstanceOf(ShareError);
      expect(e.message).toContain(name);
      expect(() =>
        resolveTraceOptions({ prompt: "a b", subject: "a", [name]: max + 1 }, N_LAYER),
      ).toThrow(new RegExp(name));
      expect(checkTrace(stateWith({ [name]: max + 1 }))?.code).toBe("bad_spec");
    });
  }

  it("refuses a window wider than the model before any work (issue 10.16)", () => {
    expect(() =>
      resolveTraceOptions({ prompt: "a b", subject: "a", kind: "mlp", window: 10_000 }, 6),
    ).toThrow("window must be a whole number from 1 to 6, got 10000");
    expect(checkTrace(stateWith({ window: 7 }))?.message).toBe(
      "The window must be a whole number from 1 to 6.",
    );
  });

  it("generation: what the CLI and a link accept, the panel runs (up to the context)", async () => {
    const { settingsError } = await import("../components/GenerationPanel");
    const P = GENERATE_PARAMS;
    const most = {
      maxNew: paramFlag({ "max-new": String(P.maxNew.max) }, "max-new", P.maxNew) as number,
      sample: true,
      seed: P.seed.max,
      temperature: P.temperature.max,
      topK: P.topK.max,
    };
    const back = await decodeSession(
      (await encodeSession({ ...DEFAULT_SESSION, generation: most })).hash,
    );
    expect(back.generation).toEqual(most);
    expect(settingsError(most, P.maxNew.max)).toBeNull();
    expect(settingsError({ ...most, maxNew: 65 }, 64)).toBe(
      "Max new tokens must be a whole number from 1 to 64",
    );
    expect(() => paramFlag({ "max-new": "0" }, "max-new", P.maxNew)).toThrow(UsageError);
    expect(settingsError({ ...most, maxNew: 0 }, 64)).not.toBeNull();
    expect(settingsError({ ...most, temperature: 0 }, P.maxNew.max)).toMatch(
      /^The temperature must be/,
    );
  });

  it("the generation defaults are the table's", async () => {
    const { GENERATE_DEFAULTS } = await import("../lib/edit/generate");
    for (const k of ["maxNew", "temperature", "topK", "seed"] as const) {
      expect(GENERATE_DEFAULTS[k]).toBe(GENERATE_PARAMS[k].default);
      expect(inRange(GENERATE_PARAMS[k], GENERATE_DEFAULTS[k])).toBe(true);
    }
  });
});
