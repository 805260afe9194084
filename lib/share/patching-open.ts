/**
 * The "By position" and "Path patching" views between the store and a shared session: what a
 * link carries of them (each only while its result is on screen for the current patching
 * prompts) and, on opening, their recompute once the model is ready. A sender outside the model
 * is refused by runPath with a message in the path form, not run.
 */
import type { RunOwner } from "../store/context";
import { isActive, runOf } from "../store/run";
import type { CausewayState, PatchSettings, RunInfo } from "../store/types";
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
        ? {
            sender: { ...path.sender },
            inputs: [...path.inputs],
            // the set whose joint effect is on screen (the grid's selection may have moved on)
            receivers: (path.joint?.receivers ?? []).map((h) => ({ ...h })),
          }
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
    s.setPathReceivers(pv.path.receivers);
  }
}

const OWNERS: readonly RunOwner[] = ["trace", "patch", "dataset", "compare", "positions", "path"];
const over = (r: RunInfo) =>
  r.status === "done" || r.status === "error" || r.status === "cancelled";

/**
 * Runs each view the session carries, one after the other (they share the worker's run lane, and
 * a new run replaces the one in flight), once the model is ready, the link's prompt is in place,
 * `canStart` agrees (lib/share/open.ts: tokens known, no edit learning) and no run is in flight
 * (the link's trace goes first). Stops when the user starts another run. Returns a function that
 * stops following.
 */
export function followPatching(
  store: StoreLike,
  session: SharedSession,
  canStart: (s: CausewayState) => boolean,
): () => void {
  const pv = session.patching;
  if (!pv) return () => {};
  applyPatching(store.getState(), pv);
  const queue: ("positions" | "path")[] = [];
  if (pv.positions) queue.push("positions");
  if (pv.path) queue.push("path");
  let current: { owner: "positions" | "path"; reqId: number } | null = null;
  // runPositions/runPath notify subscribers (this one too) before their run is marked active
  let starting = false;
  const step = () => {
    if (starting) return;
    const s = store.getState();
    if (current) {
      const run = runOf(s, current.owner);
      if (run.reqId !== current.reqId) queue.length = 0; // the user took over
      if (run.reqId !== current.reqId || over(run)) current = null;
      else return;
    }
    if (queue.length === 0 || s.model.status !== "ready" || s.predict.prompt !== session.prompt) {
      return;
    }
    if (!canStart(s) || OWNERS.some((o) => isActive(runOf(s, o)))) return;
    const owner = queue.shift() as "positions" | "path";
    const before = runOf(s, owner).reqId;
    starting = true;
    try {
      if (owner === "positions") s.runPositions();
      else s.runPath();
    } finally {
      starting = false;
    }
    const reqId = runOf(store.getState(), owner).reqId;
    // refused (form error): nothing runs, go on with the next
    if (reqId !== before) current = { owner, reqId };
    else step();
  };
  const unsubscribe = store.subscribe(step);
  step();
  return unsubscribe;
}
