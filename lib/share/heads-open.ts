/**
 * The all-heads view between the store and a shared session: what a link carries of it (only
 * when its results are on screen) and, on opening, its recompute once the model is ready and the
 * prompt's tokens (hence the subject's range) are known.
 */
import { headsCurrent } from "../store/heads-slice";
import { currentTokens } from "../store/trace-slice";
import type { CausewayState } from "../store/types";
import type { SharedSession } from "./session";

/** The view's state for a link: null unless its scores for this prompt are on screen. */
export function headsSessionOf(s: CausewayState): SharedSession["heads"] {
  const h = s.heads;
  if (!h.scores || !headsCurrent(s) || h.request?.prompt !== s.predict.prompt) return null;
  return { pinned: h.view.pinned.map((p) => ({ ...p })), sort: h.view.sort, desc: h.view.desc };
}

interface StoreLike {
  getState(): CausewayState;
  subscribe(listener: (s: CausewayState) => void): () => void;
}

/**
 * Puts the session's view in place and runs the heads request once the model is ready and the
 * prompt's tokens are on screen (lib/share/open.ts has synced the subject by then: it subscribed
 * first). Returns a function that stops following.
 */
export function followHeads(store: StoreLike, session: SharedSession): () => void {
  const view = session.heads;
  if (!view) return () => {};
  store.getState().setHeadsView(view);
  let pending = true;
  const step = () => {
    const s = store.getState();
    if (!pending || s.model.status !== "ready" || s.predict.prompt !== session.prompt) return;
    if (currentTokens(s) === null) return;
    pending = false;
    s.runHeads();
  };
  const unsubscribe = store.subscribe(step);
  step();
  return unsubscribe;
}
