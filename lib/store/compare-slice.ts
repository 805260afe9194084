/**
 * Compare slice: the causal trace of the edited model beside the original one. "Re-trace
 * edited" runs the job of the trace on screen (an original-model trace) with the edit stack
 * applied, and keeps that original result so both heatmaps can be drawn on one colour scale.
 * The edited result carries the fingerprint of the stack it was computed with (stackKey): once
 * the stack changes (undo, toggle, …) it is stale, and the screen says so.
 */
import type { StateCreator } from "zustand/vanilla";
import type { FromWorker } from "../protocol";
import type { Context } from "./context";
import { changesModel, stackKey } from "./edits-slice";
import { fail, modelBlocker, NO_WORKER } from "./errors";
import { applyRunMessage, IDLE_RUN, isActive, startRun } from "./run";
import { reduceTraceResult } from "./trace-slice";
import type { CausewayState, CompareSlice, UiError } from "./types";

export function initialCompare(): CompareSlice["compare"] {
  return { edited: null, original: null, stackKey: null, run: IDLE_RUN, error: null };
}

/** Why the edited model cannot be re-traced now, or null. */
export function checkRetrace(s: CausewayState): UiError | null {
  const notReady = modelBlocker(s.model);
  if (notReady) return notReady;
  const r = s.trace.result;
  if (!r || r.tokens === null) {
    return fail(
      "no_trace",
      "Run the causal trace first: the edited model is traced with its settings.",
    );
  }
  if (isActive(s.trace.run)) return fail("busy", "Wait for the causal trace to finish.");
  if (s.edits.status === "learning") return fail("busy", "Wait until the edits are learned.");
  if (!changesModel(s.edits.stack)) {
    return fail("no_edits", "The edit stack is empty (or every edit is off): nothing to compare.");
  }
  return null;
}

/**
 * True when the edited re-trace on screen was computed with another edit stack than the
 * current one (or is no longer beside the trace on screen).
 */
export function isCompareStale(s: CausewayState): boolean {
  const c = s.compare;
  if (!c.edited) return false;
  return c.original !== s.trace.result || c.stackKey !== stackKey(s.edits.stack);
}

export function reduceCompare(
  compare: CompareSlice["compare"],
  msg: FromWorker,
): CompareSlice["compare"] {
  if (msg.reqId !== compare.run.reqId) return compare;
  const edited = reduceTraceResult(compare.edited, msg);
  if (edited !== compare.edited) return { ...compare, edited };
  const run = applyRunMessage(compare.run, msg);
  return run === compare.run ? compare : { ...compare, run };
}

export function createCompareSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], CompareSlice> {
  return (set, get) => ({
    compare: initialCompare(),
    retraceEdited() {
      const s = get();
      const invalid = checkRetrace(s) ?? (ctx.port ? null : NO_WORKER);
      const original = s.trace.result;
      if (invalid || !original) {
        set((s2) => ({ compare: { ...s2.compare, error: invalid } }));
        return;
      }
      set((s2) => ({
        compare: {
          ...s2.compare,
          error: null,
          original,
          stackKey: stackKey(s.edits.stack),
          edited: { ...original, variant: "edited", tokens: null, subject: null, grids: {} },
        },
      }));
      startRun(ctx, set, "compare", original.job, "edited");
    },
    closeCompare() {
      const s = get();
      if (isActive(s.compare.run)) s.cancelRun();
      set((s2) => ({ compare: { ...s2.compare, edited: null, original: null, error: null } }));
    },
  });
}
