/**
 * Status-line words for long work: the ETA says it is an estimate until enough of the work is
 * timed, elapsed time reads in seconds and minutes, and a run line always names its phase and
 * counts (and the time so far) instead of a bare percentage.
 */
import { describe, expect, it } from "vitest";
import { elapsedText, etaIsGuess, etaText, learningText } from "../components/progress-text";
import { statusText } from "../components/RunLine";
import { IDLE_RUN } from "../lib/store/run";

describe("ETA", () => {
  it("is an estimate until 3 passes and 10% of the work are done", () => {
    expect(etaIsGuess(0, 120)).toBe(true);
    expect(etaIsGuess(2, 10)).toBe(true); // 20% but only 2 passes
    expect(etaIsGuess(11, 120)).toBe(true); // 9%
    expect(etaIsGuess(12, 120)).toBe(false);
    expect(etaText(130_000, 2, 120)).toBe("≈ 2 min 10 s left (estimate)");
    expect(etaText(40_000, 60, 120)).toBe("about 40 s left");
    expect(etaText(200, 119, 120)).toBe("almost done");
    expect(etaText(undefined, 1, 2)).toBe("");
    expect(etaText(Number.NaN, 1, 2)).toBe("");
  });

  it("elapsed time: nothing under a second, then seconds and minutes", () => {
    expect(elapsedText(400)).toBe("");
    expect(elapsedText(28_000)).toBe("28 s");
    expect(elapsedText(125_000)).toBe("2 min 5 s");
    expect(elapsedText(null)).toBe("");
  });
});

describe("run line", () => {
  const running = { ...IDLE_RUN, status: "running" as const, reqId: 1, startedAt: 0 };

  it("before the first progress: starting, with the time so far", () => {
    expect(statusText(running, "trace", 61_000)).toBe("Starting trace… · 1 min 1 s");
  });

  it("names the phase, the run's counts, the time so far and the ETA (estimate early)", () => {
    const early = {
      ...running,
      progress: { phase: "clean", kind: "hidden", done: 0, total: 0, etaMs: null },
    };
    expect(statusText(early, "trace", 5000)).toBe("hidden · clean run · 5 s so far");
    const sweep = {
      ...running,
      progress: { phase: "sweep", kind: "mlp", done: 2, total: 60, etaMs: 240_000 },
    };
    expect(statusText(sweep, "trace", 20_000)).toBe(
      "mlp · restoring · 2 / 60 evaluations (3%) · 20 s so far · ≈ 4 min 0 s left (estimate)",
    );
    const later = { ...sweep, progress: { ...sweep.progress, done: 30, etaMs: 60_000 } };
    expect(statusText(later, "trace", 60_000)).toBe(
      "mlp · restoring · 30 / 60 evaluations (50%) · 1 min 0 s so far · about 1 min 0 s left",
    );
  });
});

describe("learning line", () => {
  it("names the phase before the first step and after the last, with the time so far", () => {
    expect(learningText(null, 3000)).toBe("Learning… · 3 s so far");
    expect(learningText({ index: 0, phase: "prepare", step: 0, total: 40 }, 120_000)).toBe(
      "Learning edit 1: preparing (prompts, the fixed pass) · 2 min 0 s so far",
    );
    expect(
      learningText({ index: 1, phase: "learn", step: 12, total: 40, loss: 0.4123 }, 45_000),
    ).toBe("Learning edit 2: step 12/40 · loss 0.412 · 45 s so far");
    expect(learningText({ index: 0, phase: "apply", step: 40, total: 40 }, 0)).toBe(
      "Learning edit 1: applying the update",
    );
    // ROME's preparation, when not cached: C over its texts, then the context templates
    expect(learningText({ index: 0, phase: "statistics", step: 137, total: 274 }, 5000)).toBe(
      "Learning edit 1: key statistics C 50% · 5 s so far",
    );
    expect(learningText({ index: 0, phase: "templates", step: 40, total: 40 }, 0)).toBe(
      "Learning edit 1: context templates 100%",
    );
  });
});
