/**
 * Time limits for the slow tier, scaled to the work a test does (issue 10.18): a correctness
 * test must not fail because the machine is busy. Work is bounded by steps and cases in the
 * tests themselves; the wall-clock limit only catches a hang, so it is
 *
 *   (fixedMs + units × perUnitMs) × CAUSEWAY_TEST_TIME_SCALE
 *
 * where perUnitMs is a generous bound for one unit (an optimisation step, a CounterFact case, a
 * CLI run): 20–40 times what it takes on an idle 2-core machine (at a load of 15–20 on 2 cores,
 * seven suites at once, a CLI LoReFT run took 420 s against ~15 s idle), so a test fails on time
 * only when it hangs or the machine is far slower than that. CAUSEWAY_TEST_TIME_SCALE (default 1)
 * stretches every limit on a slower or more loaded machine; vitest.config.ts scales its global
 * test and hook timeouts by the same factor.
 */

export const TIME_SCALE = (() => {
  const s = Number(process.env.CAUSEWAY_TEST_TIME_SCALE ?? "1");
  return Number.isFinite(s) && s > 0 ? s : 1;
})();

export interface Work {
  /** Units of work: optimisation steps, cases, CLI runs. */
  units: number;
  /** A generous bound for one unit, in ms (20–40× an idle 2-core machine). */
  perUnitMs: number;
  /** Start-up that does not grow with the work (loading a model, a dataset), in ms. */
  fixedMs?: number;
}

/** The time limit (ms) for this much work. */
export function workLimit(w: Work): number {
  return Math.ceil(((w.fixedMs ?? 0) + w.units * w.perUnitMs) * TIME_SCALE);
}
