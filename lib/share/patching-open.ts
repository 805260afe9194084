/**
 * The "By position" and "Path patching" views between the store and a shared session: what a
 * link carries of them (each only while its result is on screen for the current patching
 * prompts) and, on opening, their recompute once the model is ready. A sender outside the model
 * is refused by runPath with a message in the path form, not run.
 */
import type { CausewayState, PatchSettings } from "../store/types";
import type { SharedPatching } from "./patching-codec";
import type { SharedSession } from "./session";

const samePrompts = (a: PatchSettings, b: PatchSettings) =>
  a.clean === b.clean && a.corrupt === b.corrupt && a.target === b.target && a.foil === b.foil;

/** The views' state for a link: null when neither has results of these prompts on screen. */
export function patchingSessionOf(s: CausewayState): SharedPatching | null {
  const pos = s.positions.result;
  const path = s.path.result;
  const out: SharedPatching = {
    positions:
      pos?.values && samePrompts(pos.prompts, s.patch.settings) ? { site: pos.site } : null,
    path:
      path?.values && samePrompts(path.prompts, s.patch.settings)
        ? { sender: { ...path.sender }, inputs: [...path.inputs] }
        : null,
  };
  return out.positions || out.path ? out : null;
}

interface StoreLike {
  getState(): CausewayState;
  subscribe(listener: (s: CausewayState) => void): () => void;
}

/** Puts the session's settings in place (before the model is known). */
export function applyPatching(s: CausewayState, pv: SharedPatching | null): void {
  if (pv?.positions) s.setPositionSite(pv.positions.site);
  if (pv?.path) {
    s.setPathSender(pv.path.sender);
    s.setPathInputs(pv.path.inputs);
  }
}

/**
 * Runs each view the session carries once the model is ready and the link's prompt is in place.
 * Returns a function that stops following.
 */
export function followPatching(store: StoreLike, session: SharedSession): () => void {
  const pv = session.patching;
  if (!pv) return () => {};
  applyPatching(store.getState(), pv);
  let done = false;
  const step = () => {
    const s = store.getState();
    if (done || s.model.status !== "ready" || s.predict.prompt !== session.prompt) return;
    done = true;
    if (pv.positions) store.getState().runPositions();
    if (pv.path) store.getState().runPath();
  };
  const unsubscribe = store.subscribe(step);
  step();
  return unsubscribe;
}
