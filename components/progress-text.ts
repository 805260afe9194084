/**
 * Words for long work, shared by the status lines: elapsed time, and the ETA marked as an
 * estimate until enough of the work is timed (the worker's ETA extrapolates the passes done so
 * far, which early on still include the clean and corrupted runs and the GPU's kernel compiles:
 * 3–4× too high at first).
 */
import type { EditProgress } from "@/lib/store";
import { fmtDuration, fmtValue } from "@/lib/viz/format";

/** Passes that must be done, and the share of the total, before an ETA is more than a guess. */
export const ETA_MIN_DONE = 3;
export const ETA_MIN_FRACTION = 0.1;

/** True while an ETA after `done` of `total` is a guess. */
export function etaIsGuess(done: number, total: number): boolean {
  return done < ETA_MIN_DONE || total <= 0 || done / total < ETA_MIN_FRACTION;
}

/** "≈ 2 min 10 s left (estimate)" early, "about 40 s left" once timed; "" when unknown. */
export function etaText(etaMs: number | null | undefined, done: number, total: number): string {
  if (etaMs === null || etaMs === undefined || !Number.isFinite(etaMs) || etaMs < 0) return "";
  if (etaMs < 500) return "almost done";
  return etaIsGuess(done, total)
    ? `≈ ${fmtDuration(etaMs)} left (estimate)`
    : `about ${fmtDuration(etaMs)} left`;
}

/** "12 s", "1 min 4 s" of work so far; "" under a second. */
export function elapsedText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 1000) return "";
  return fmtDuration(ms);
}

/** Names of the phases the worker reports (lib/protocol.ts SweepPhase, LearnPhase). */
export const SWEEP_PHASE: Record<string, string> = {
  clean: "clean run",
  corrupted: "corrupted run",
  sweep: "restoring",
  dataset: "tracing facts",
  done: "finishing",
};

export const LEARN_PHASE: Record<string, string> = {
  prepare: "preparing (prompts, the fixed pass)",
  statistics: "key statistics C",
  templates: "context templates",
  learn: "step",
  apply: "applying the update",
};

/** "Learning edit 1: step 12/40 · loss 0.412 · p(new) 83% · 45 s so far", or the phase. */
export function learningText(progress: EditProgress | null, elapsedMs: number | null): string {
  const elapsed = elapsedText(elapsedMs);
  const tail = elapsed ? ` · ${elapsed} so far` : "";
  if (!progress) return `Learning…${tail}`;
  const { index, phase, step, total, loss, pNew } = progress;
  // before the first step and after the last the counts say nothing: the phase's name does
  const name = LEARN_PHASE[phase] ?? phase;
  const what =
    phase === "learn"
      ? `step ${step}/${total}`
      : phase === "statistics" || phase === "templates"
        ? `${name} ${Math.floor((100 * step) / Math.max(1, total))}%`
        : name;
  return `Learning edit ${index + 1}: ${what}${loss !== undefined ? ` · loss ${loss.toFixed(3)}` : ""}${pNew !== undefined ? ` · p(new) ${fmtValue(pNew)}` : ""}${tail}`;
}
