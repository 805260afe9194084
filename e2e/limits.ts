/**
 * Every e2e time limit, by what it bounds. A limit only catches a hang: a passing step takes as
 * long as its work, whatever its limit, so these never slow a run that passes.
 *
 * The values are those the tests had on an idle 2-core machine (the largest of each kind), and
 * stretch with the machine's load when a limit starts (`slowdown`): up to 3× at a load of 12 on
 * 2 cores, where the fixed 60–240 s limits ran out on a shared CI machine. On an idle machine a
 * hung test still ends within the budget it had before (`budget`: its test.setTimeout, or the
 * config's 60 s), whichever step hung; a step that shared its kind's limit with longer steps may
 * now wait for that longer limit before it fails.
 *
 *   await expect(status).toHaveAttribute("data-status", "done", { timeout: limit("sweep") });
 *   test.setTimeout(budget(240_000)); // this test's whole run
 */
import os from "node:os";

/** Base limits in ms, each for one kind of step (on tiny-facts unless named). */
export const LIMITS = {
  /** A short step: one forward pass and its bars, a progress line, a message, a closed form. */
  short: 60_000,
  /** A bundled or hub model of tiny-facts' size loads (and predicts its prompt). */
  modelLoad: 120_000,
  /** A run of many forward passes: a causal trace, a re-trace, patching, path and position
   * sweeps, heads, read-outs, generation, a consistency run, a shared link's recompute. */
  sweep: 240_000,
  /** An edit learns or is undone mid-learning (ROME, LoReFT, SWEA, steering, probes, ABSC,
   * a batch run). */
  learn: 240_000,
  /** The CLI run as a user runs it (node bin/causeway.mjs): start-up, model, its job. */
  cli: 240_000,
  /** The 6-layer llama stand-in loads (bundled or from the hub). */
  llamaLoad: 180_000,
  /** A trace or re-trace of the llama stand-in. */
  llamaSweep: 300_000,
  /** A ROME edit of the llama stand-in learns (also inside a shared link's recompute). */
  llamaLearn: 480_000,
} as const;

export type LimitName = keyof typeof LIMITS;

/**
 * How much slower than idle the machine is now, from the 1-minute load average per core: 1 up
 * to 2 runnable tasks a core (an e2e run alone: Chromium's SwiftShader, the worker, the server),
 * then in proportion, at most 3.
 */
export function slowdown(): number {
  const perCore = os.loadavg()[0] / os.availableParallelism();
  return Math.min(3, Math.max(1, perCore / 2));
}

/** The limit of one step of kind `name`, stretched for the load now. */
export function limit(name: LimitName): number {
  return Math.round(LIMITS[name] * slowdown());
}

/** A whole test's (or hook's) budget: the `ms` it had on an idle machine, stretched likewise. */
export function budget(ms: number): number {
  return Math.round(ms * slowdown());
}
