/**
 * The read-out views between the store and a shared session: what a link carries of them (each
 * one only while its result is on screen for the session's own prompts) and, on opening, their
 * recompute once the model is ready and the prompt's tokens are known.
 */
import type { ReadoutType } from "../lens-jobs";
import { currentTokens } from "../store/trace-slice";
import type { CausewayState } from "../store/types";
import type { SharedReadouts } from "./lens-codec";
import type { SharedSession } from "./session";

/** The views' state for a link: null when no read-out of these prompts is on screen. */
export function readoutsSessionOf(s: CausewayState): SharedReadouts | null {
  const r = s.readouts;
  const p = s.patch.settings;
  const lens = r.lens.result && r.lens.job?.prompt === s.predict.prompt ? r.lens.job : null;
  const dla = r.dla.result && r.dla.job?.prompt === s.predict.prompt ? r.dla.job : null;
  const a = r.attrib.job;
  const samePair =
    a !== null &&
    a.clean === p.clean &&
    a.corrupt === p.corrupt &&
    (a.target ?? "") === p.target.trim() &&
    (a.foil ?? "") === p.foil.trim();
  const out: SharedReadouts = {
    lens: lens ? { target: lens.target ?? "", topK: lens.topK ?? 5 } : null,
    dla: dla
      ? { target: dla.target ?? "", foil: dla.foil ?? "", position: dla.position ?? null }
      : null,
    attrib: r.attrib.result && samePair ? { exact: a.exact.length > 0 } : null,
  };
  return out.lens || out.dla || out.attrib ? out : null;
}

interface StoreLike {
  getState(): CausewayState;
  subscribe(listener: (s: CausewayState) => void): () => void;
}

/**
 * Puts the session's read-out settings in place and runs each read-out it carries once the
 * model is ready and the prompt's tokens are on screen. Returns a function that stops following.
 */
export function followReadouts(store: StoreLike, session: SharedSession): () => void {
  const ro = session.readouts;
  if (!ro) return () => {};
  const { lens, dla, attrib } = ro;
  store.getState().setReadoutSettings({
    ...(lens ? { lensTarget: lens.target, topK: lens.topK } : {}),
    ...(dla ? { dlaTarget: dla.target, dlaFoil: dla.foil, dlaPosition: dla.position } : {}),
    ...(attrib ? { exact: attrib.exact } : {}),
  });
  const pending = (["lens", "dla", "attrib"] as ReadoutType[]).filter((t) => ro[t] !== null);
  let done = false;
  const step = () => {
    const s = store.getState();
    if (done || s.model.status !== "ready" || s.predict.prompt !== session.prompt) return;
    if (currentTokens(s) === null) return;
    done = true;
    for (const t of pending) store.getState().runReadout(t);
  };
  const unsubscribe = store.subscribe(step);
  step();
  return unsubscribe;
}
