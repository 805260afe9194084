/**
 * Edits slice: the edit stack the user builds (ROME, head and representation edits, …), its
 * undo / redo history, and the worker's learning of what is missing.
 *
 * Every change sends the whole stack to the worker (`setEdits`, the latest wins); the worker
 * learns recipes in stack order, streaming progress, and answers with the complete stack, whose
 * learned edits then replace the recipes here (and in the undo and redo histories, so neither
 * relearns: a learned edit is data, restored exactly).
 * Until that answer the previous stack stays applied in the worker. A failed stack is rolled
 * back to the last applied one, with the error shown; a cancelled learning is rolled back the
 * same way, without an error.
 */
import type { StateCreator } from "zustand/vanilla";
import { type Edit, isEnabled, isLearned } from "../edit/types";
import { type FromWorker, isProgressOf } from "../protocol";
import type { Context } from "./context";
import type { CausewayState, EditsBeforeLoad, EditsSlice, UiError } from "./types";

export function initialEdits(): EditsSlice["edits"] {
  return {
    stack: [],
    history: [],
    future: [],
    status: "idle",
    progress: null,
    curve: [],
    error: null,
  };
}

let idCounter = 0;

/** A fresh id unlike any in `taken`. */
function newId(taken: Set<string>): string {
  for (;;) {
    idCounter += 1;
    const id = `e${Date.now().toString(36)}${idCounter.toString(36)}`;
    if (!taken.has(id)) return id;
  }
}

/** The stack with an id on every edit (kept when present and unique, assigned otherwise). */
export function withIds(edits: readonly Edit[]): Edit[] {
  const taken = new Set<string>();
  return edits.map((e) => {
    if (typeof e.id === "string" && e.id !== "" && !taken.has(e.id)) {
      taken.add(e.id);
      return e;
    }
    const id = newId(taken);
    taken.add(id);
    return { ...e, id };
  });
}

/** True when some enabled edit needs learning (the worker will stream progress). */
export const needsLearning = (edits: readonly Edit[]): boolean =>
  edits.some((e) => isEnabled(e) && !isLearned(e));

/** True when the stack changes the model (some edit is enabled). */
export const changesModel = (edits: readonly Edit[]): boolean => edits.some(isEnabled);

const digests = new WeakMap<object, string>();

/** A digest of learned values (FNV-1a, two seeds), computed once per object. */
function digestOf(learned: object): string {
  let d = digests.get(learned);
  if (d === undefined) {
    const text = JSON.stringify(learned);
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x811c9dc5);
    }
    d = `${text.length.toString(36)}.${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}`;
    digests.set(learned, d);
  }
  return d;
}

/**
 * A fingerprint of the model a stack makes: its enabled edits in order, each by kind, site,
 * params and a digest of its learned values (a relearned edit may differ). Results computed
 * with the edited model carry it; a result whose key differs from the current stack's was
 * computed with another stack. "" for the original model.
 */
export function stackKey(edits: readonly Edit[]): string {
  return edits
    .filter(isEnabled)
    .map((e) => {
      // id, label and eval do not change the model
      const {
        id: _id,
        enabled: _on,
        label: _label,
        eval: _eval,
        learned,
        ...rest
      } = e as Edit & {
        learned?: object;
      };
      return `${JSON.stringify(rest)}#${learned ? digestOf(learned) : "recipe"}`;
    })
    .join("|");
}

const MAX_HISTORY = 50;

type SetState = (fn: (s: CausewayState) => Partial<CausewayState>) => void;
type Get = () => CausewayState;

/**
 * Makes `next` the stack and sends it. A new change pushes the current stack on the undo history
 * and drops the redo history; undo and redo move stacks between the two themselves.
 */
function change(ctx: Context, set: SetState, get: Get, next: Edit[], pushHistory = true): void {
  const stack = withIds(next);
  set((s) => ({
    edits: {
      ...s.edits,
      stack,
      history: pushHistory
        ? [...s.edits.history, s.edits.stack].slice(-MAX_HISTORY)
        : s.edits.history,
      future: pushHistory ? [] : s.edits.future,
      error: null,
    },
  }));
  send(ctx, set, get, stack);
}

/** Sends the stack to the worker (when one is attached and a model is ready). */
export function send(ctx: Context, set: SetState, get: Get, stack: Edit[]): void {
  if (!ctx.port || get().model.status !== "ready") {
    // Sent when the model is ready (connection-slice).
    set((s) => ({ edits: { ...s.edits, status: "idle", progress: null } }));
    return;
  }
  const reqId = ctx.port.setEdits(stack);
  ctx.edits = { ...ctx.edits, reqId, sent: stack };
  set((s) => ({
    edits: {
      ...s.edits,
      // "ready" again only once the worker has applied this stack
      status: needsLearning(stack) ? "learning" : "idle",
      progress: null,
      curve: [],
    },
  }));
}

/** Folds an answer to the latest setEdits request into the slice. */
export function reduceEdits(ctx: Context, set: SetState, get: Get, msg: FromWorker): void {
  if (msg.reqId !== ctx.edits.reqId) return;
  if (isProgressOf(msg, "setEdits")) {
    const p = {
      index: msg.index,
      phase: msg.phase,
      step: msg.done,
      total: msg.total,
      ...(msg.loss !== undefined ? { loss: msg.loss } : {}),
      ...(msg.pNew !== undefined ? { pNew: msg.pNew } : {}),
    };
    set((s) => {
      const sameEdit = s.edits.progress?.index === p.index;
      const curve = sameEdit ? s.edits.curve : [];
      return {
        edits: {
          ...s.edits,
          status: "learning",
          progress: p,
          curve:
            msg.loss !== undefined
              ? [
                  ...curve,
                  {
                    step: msg.done,
                    loss: msg.loss,
                    ...(msg.pNew !== undefined ? { pNew: msg.pNew } : {}),
                  },
                ]
              : curve,
        },
      };
    });
    return;
  }
  if (msg.type === "setEdits") {
    const sent = ctx.edits.sent;
    // The worker's edits, with the ids and enabled flags of the stack that was sent.
    const learned = msg.edits.map((e, i) => ({ ...e, id: sent[i]?.id ?? e.id }) as Edit);
    const replace = new Map<Edit, Edit>();
    sent.forEach((e, i) => {
      if (learned[i] && e !== learned[i]) replace.set(e, learned[i]);
    });
    ctx.edits = { reqId: 0, sent: [], applied: learned };
    set((s) => ({
      edits: {
        ...s.edits,
        stack: s.edits.stack === sent ? learned : s.edits.stack,
        // an edit learned now is learned in the histories too: undo / redo never relearn it
        history: s.edits.history.map((h) => h.map((e) => replace.get(e) ?? e)),
        future: s.edits.future.map((h) => h.map((e) => replace.get(e) ?? e)),
        status: "ready",
        progress: null,
        error: null,
      },
    }));
    afterStackChange(get);
    return;
  }
  if (msg.type === "error") {
    const failed = ctx.edits.sent;
    const applied = ctx.edits.applied;
    ctx.edits = { ...ctx.edits, reqId: 0, sent: [] };
    const error: UiError = { code: msg.code, message: msg.message };
    set((s) => {
      const history = s.edits.history;
      // The change that failed is undone: its entry is the stack that is still applied.
      const top = history.at(-1);
      const popped = s.edits.stack === failed && top !== undefined && sameStack(top, applied);
      return {
        edits: {
          ...s.edits,
          stack: s.edits.stack === failed ? applied : s.edits.stack,
          history: popped ? history.slice(0, -1) : history,
          status: "error",
          progress: null,
          error,
        },
      };
    });
  }
}

/**
 * A load was cancelled and the previous model is back (model.status "ready"): the worker kept
 * that model with the stack it had applied, while the store forgot it when the load started.
 * The applied stack is restored; when the stack here may differ from the worker's (changed
 * during the load, or a setEdits was still in flight then, whose answer was dropped) it is sent
 * again: learned edits are only re-applied, recipes learned. Returns true when it sent.
 */
export function restoreEditsAfterCancel(
  ctx: Context,
  set: SetState,
  get: Get,
  before: EditsBeforeLoad | null,
): boolean {
  if (get().model.status !== "ready" || before === null) return false;
  const applied = before.requests.applied;
  ctx.edits = { reqId: 0, sent: [], applied };
  const stack = get().edits.stack;
  const same =
    before.requests.reqId === 0 &&
    stack.length === applied.length &&
    stack.every((e, i) => e === applied[i]);
  if (same) {
    set((s) => ({ edits: { ...s.edits, status: before.status, error: before.error } }));
    return false;
  }
  send(ctx, set, get, stack);
  return true;
}

function sameStack(a: readonly Edit[], b: readonly Edit[]): boolean {
  return a.length === b.length && a.every((e, i) => e.id === b[i].id);
}

/** The model changed: predictions are asked again; side-by-side traces are out of date. */
export function afterStackChange(get: Get): void {
  const s = get();
  if (s.predict.prompt.length > 0 && s.model.status === "ready") s.runPrediction();
}

export function createEditsSlice(ctx: Context): StateCreator<CausewayState, [], [], EditsSlice> {
  return (set, get) => ({
    edits: initialEdits(),
    addEdit(edit) {
      change(ctx, set, get, [...get().edits.stack, edit]);
    },
    toggleEdit(id) {
      const stack = get().edits.stack;
      if (!stack.some((e) => e.id === id)) return;
      change(
        ctx,
        set,
        get,
        stack.map((e) => (e.id === id ? { ...e, enabled: !isEnabled(e) } : e)),
      );
    },
    moveEdit(id, delta) {
      const stack = get().edits.stack;
      const i = stack.findIndex((e) => e.id === id);
      const j = i + delta;
      if (i < 0 || j < 0 || j >= stack.length) return;
      const next = [...stack];
      [next[i], next[j]] = [next[j], next[i]];
      change(ctx, set, get, next);
    },
    removeEdit(id) {
      const stack = get().edits.stack;
      if (!stack.some((e) => e.id === id)) return;
      change(
        ctx,
        set,
        get,
        stack.filter((e) => e.id !== id),
      );
    },
    undoEdits() {
      const { history } = get().edits;
      const previous = history.at(-1);
      if (!previous) return;
      set((s) => ({
        edits: {
          ...s.edits,
          history: s.edits.history.slice(0, -1),
          future: [...s.edits.future, s.edits.stack].slice(-MAX_HISTORY),
        },
      }));
      change(ctx, set, get, previous, false);
    },
    redoEdits() {
      const { future } = get().edits;
      const next = future.at(-1);
      if (!next) return;
      set((s) => ({
        edits: {
          ...s.edits,
          history: [...s.edits.history, s.edits.stack].slice(-MAX_HISTORY),
          future: s.edits.future.slice(0, -1),
        },
      }));
      // the stack exactly as it was undone: learned edits are re-applied, not relearned
      change(ctx, set, get, next, false);
    },
    setEditStack(edits) {
      change(ctx, set, get, [...edits]);
    },
    cancelLearning() {
      if (ctx.edits.reqId === 0 || get().edits.status !== "learning") return;
      const applied = ctx.edits.applied;
      // the worker stops at its next step and answers "cancelled" (dropped by the client)
      ctx.port?.cancelEdits();
      ctx.edits = { ...ctx.edits, reqId: 0, sent: [] };
      set((s) => {
        // the change that triggered learning is undone: its entry is the applied stack
        const top = s.edits.history.at(-1);
        const popped = top !== undefined && sameStack(top, applied);
        return {
          edits: {
            ...s.edits,
            stack: applied,
            history: popped ? s.edits.history.slice(0, -1) : s.edits.history,
            progress: null,
            curve: [],
            error: null,
          },
        };
      });
      // Sent again: had the worker applied the new stack just before the cancel arrived, this
      // puts the applied one back (learned edits are only re-applied, nothing is learned).
      send(ctx, set, get, applied);
    },
  });
}
