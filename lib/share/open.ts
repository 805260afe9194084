/**
 * Opening a shared session in a live store: put its settings in, wait until the model is ready
 * and the prompt's tokens are known (and the edit stack learned, when the store has an edits
 * slice), then run the trace when the link carried one, and compare the recomputed grids with
 * the carried ones when the run is done.
 */
import { currentTokens } from "../store/trace-slice";
import type { CausewayState } from "../store/types";
import { type Comparison, compareGrids } from "./compare";
import { followHeads } from "./heads-open";
import { followReadouts } from "./lens-open";
import { gateSessionModel, type ModelGateOptions } from "./model-gate";
import { followPatching } from "./patching-open";
import type { SharedSession } from "./session";
import { applySession } from "./store";

interface StoreLike {
  getState(): CausewayState;
  subscribe(listener: (s: CausewayState) => void): () => void;
}

export type OpenPhase =
  | { phase: "waiting" }
  | { phase: "recomputing" }
  | { phase: "compared"; comparison: Comparison }
  | { phase: "applied" }
  | { phase: "failed"; message: string };

/** The store's refusal of this prompt, once the model is ready to answer for it. */
const promptRefused = (s: CausewayState, prompt: string) =>
  s.model.status === "ready" && s.predict.prompt === prompt && s.predict.status === "error"
    ? s.predict.error
    : null;

const editsBusy = (s: CausewayState) => {
  const e = (s as CausewayState & { edits?: { status?: string } }).edits;
  return e?.status === "learning";
};

/**
 * Applies `session` and drives the recompute; returns a function that stops following. The
 * session's model goes through lib/share/model-gate.ts first: a model from another origin waits
 * for `gate.confirmModel` (nothing is applied meanwhile) and is replaced by the current one when
 * refused or declined.
 */
export function openSession(
  store: StoreLike,
  session: SharedSession,
  onPhase: (p: OpenPhase) => void,
  gate: ModelGateOptions = {},
): () => void {
  let stop: (() => void) | null = null;
  let stopped = false;
  const begin = (s: SharedSession) => {
    if (!stopped) stop = followSession(store, s, onPhase);
  };
  const gated = gateSessionModel(session, store.getState().model.source, gate);
  if (gated instanceof Promise) {
    onPhase({ phase: "waiting" });
    void gated.then(begin);
  } else begin(gated);
  return () => {
    stopped = true;
    stop?.();
  };
}

function followSession(
  store: StoreLike,
  session: SharedSession,
  onPhase: (p: OpenPhase) => void,
): () => void {
  applySession(() => store.getState(), session);
  onPhase({ phase: "waiting" });
  // "starting": runTrace() notifies subscribers (this one too) before it returns its reqId
  let stage: "wait" | "starting" | "run" | "over" = "wait";
  let reqId = 0;
  const step = (s: CausewayState) => {
    if (stage === "wait") {
      if (s.model.status === "error") {
        stage = "over";
        onPhase({ phase: "failed", message: s.model.error?.message ?? "The model did not load." });
        return;
      }
      // the prompt was refused (longer than the context, …): its tokens will never come
      const refused = promptRefused(s, session.prompt);
      if (refused && (refused.code !== "empty_prompt" || session.trace)) {
        stage = "over";
        onPhase({ phase: "failed", message: refused.message });
        return;
      }
      if (refused) {
        stage = "over";
        onPhase({ phase: "applied" }); // an empty prompt and nothing to recompute
        return;
      }
      if (s.model.status !== "ready" || currentTokens(s) === null || editsBusy(s)) return;
      stage = "starting";
      s.syncSubject();
      if (!session.trace) {
        stage = "over";
        onPhase({ phase: "applied" });
        return;
      }
      stage = "starting";
      store.getState().runTrace();
      stage = "run";
      const after = store.getState();
      if (after.trace.formError) {
        stage = "over";
        onPhase({ phase: "failed", message: after.trace.formError.message });
        return;
      }
      reqId = after.trace.run.reqId;
      onPhase({ phase: "recomputing" });
      return;
    }
    if (stage === "run") {
      const run = s.trace.run;
      if (run.reqId !== reqId) {
        stage = "over"; // another run replaced it: the user took over
        return;
      }
      if (run.status === "error" || run.status === "cancelled") {
        stage = "over";
        onPhase({ phase: "failed", message: run.error?.message ?? "The recompute was stopped." });
      } else if (run.status === "done" && s.trace.result && session.trace) {
        stage = "over";
        onPhase({
          phase: "compared",
          comparison: compareGrids(session.trace.grids, s.trace.result.grids),
        });
      }
    }
  };
  // the selected head: re-selected once a patching grid is on screen (patching is not rerun)
  let headPending = session.selectedHead !== null;
  const head = (s: CausewayState) => {
    const h = session.selectedHead;
    if (!headPending || !h || !s.patch.result?.baseline) return;
    headPending = false;
    if (!s.patch.selected) s.selectHead(h.layer, h.head);
  };
  const unsubscribe = store.subscribe(step);
  const unsubscribeHead = store.subscribe(head);
  step(store.getState());
  // the all-heads view: recomputed once the model and the prompt's tokens are ready
  const unsubscribeHeads = followHeads(store, session);
  const unsubscribeReadouts = followReadouts(store, session);
  const unsubscribePatching = followPatching(
    store,
    session,
    (s) => currentTokens(s) !== null && !editsBusy(s),
  );
  return () => {
    unsubscribe();
    unsubscribeHead();
    unsubscribeHeads();
    unsubscribeReadouts();
    unsubscribePatching();
  };
}
