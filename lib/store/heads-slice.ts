/**
 * Heads slice: every head's attention pattern on the current prompt and the per-head scores
 * (the worker's `heads` request: lib/interp/head-patterns.ts, head-scores.ts), and the view's
 * own state — up to two pinned heads to compare, the score table's sort, the highlighted row —
 * which a link carries (lib/share/heads-codec.ts).
 *
 * Results belong to the model they were computed on: `modelKey` is kept with them and the view
 * shows them only while that model is the current one (a failed load brings it back with them).
 */
import type { StateCreator } from "zustand/vanilla";
import type { AllHeadPatterns } from "../interp/head-patterns";
import { HEAD_SCORE_NAMES, type HeadScoreName, type HeadScoresResult } from "../interp/head-scores";
import type { FromWorker } from "../protocol";
import type { Context } from "./context";
import { fail, modelBlocker, NO_WORKER } from "./errors";
import { checkPrompt } from "./predict-slice";
import { applyRunMessage, IDLE_RUN, isActive } from "./run";
import type { CausewayState, RunInfo, UiError } from "./types";

export interface HeadId {
  layer: number;
  head: number;
}

/** The score table's sort: a score, or "head" (layer, then head: the model's order). */
export type HeadSortKey = "head" | HeadScoreName;
export const HEAD_SORT_KEYS: readonly HeadSortKey[] = ["head", ...HEAD_SCORE_NAMES];

/** What a link carries of the view. */
export interface HeadsView {
  /** At most two heads, oldest first: the comparison side by side. */
  pinned: HeadId[];
  sort: HeadSortKey;
  /** Largest first. */
  desc: boolean;
}

export const DEFAULT_HEADS_VIEW: HeadsView = { pinned: [], sort: "head", desc: false };
export const MAX_PINNED = 2;

export interface HeadsState {
  run: RunInfo;
  /** What the results answer: the prompt, the subject range sent, the model (modelKey). */
  request: { prompt: string; subject: [number, number] | null; model: string } | null;
  patterns: AllHeadPatterns | null;
  scores: HeadScoresResult | null;
  view: HeadsView;
  /** The table row selected: highlighted in the grid. */
  selected: HeadId | null;
  formError: UiError | null;
}

export interface HeadsSlice {
  heads: HeadsState;
  /** Computes every head's pattern and the scores on the current prompt and subject. */
  runHeads(): void;
  cancelHeads(): void;
  /** Pins a head (a third pin drops the oldest); pinning a pinned head unpins it. */
  pinHead(layer: number, head: number): void;
  /** Sorts the table by `key`; the same key again flips the order. */
  sortHeads(key: HeadSortKey): void;
  highlightHead(h: HeadId | null): void;
  /** Puts a linked view in place (pins and sort), checked against the results when they come. */
  setHeadsView(view: HeadsView): void;
}

export function initialHeads(): HeadsState {
  return {
    run: IDLE_RUN,
    request: null,
    patterns: null,
    scores: null,
    view: DEFAULT_HEADS_VIEW,
    selected: null,
    formError: null,
  };
}

/** Which model results belong to: its source and its name. */
export function modelKey(s: CausewayState): string {
  return JSON.stringify([s.model.source, s.model.info?.name ?? null]);
}

/** True while the results on screen (or the run) are of the current, ready model. */
export function headsCurrent(s: CausewayState): boolean {
  return s.heads.request !== null && s.heads.request.model === modelKey(s);
}

/** The subject sent with the request: the trace's subject range when it is of this prompt. */
function subjectOf(s: CausewayState): [number, number] | null {
  const st = s.trace.settings;
  return st.subjectRange && st.subjectPrompt === s.predict.prompt
    ? [st.subjectRange[0], st.subjectRange[1]]
    : null;
}

const same = (a: HeadId, b: HeadId) => a.layer === b.layer && a.head === b.head;

export function reduceHeads(heads: HeadsState, msg: FromWorker): HeadsState {
  if (msg.reqId !== heads.run.reqId) return heads;
  if (msg.type === "headPatterns") {
    const { type: _t, reqId: _r, ...patterns } = msg;
    // pins from a link that name no head of this model are dropped
    const fits = (p: HeadId) => p.layer < patterns.nLayer && p.head < patterns.nHead;
    const view = { ...heads.view, pinned: heads.view.pinned.filter(fits) };
    return { ...heads, patterns, view };
  }
  if (msg.type === "headScores") return { ...heads, scores: msg.result };
  const run = applyRunMessage(heads.run, msg);
  return run === heads.run ? heads : { ...heads, run };
}

export function createHeadsSlice(ctx: Context): StateCreator<CausewayState, [], [], HeadsSlice> {
  const setHeads = (
    set: (fn: (s: CausewayState) => Partial<CausewayState>) => void,
    patch: (h: HeadsState) => Partial<HeadsState>,
  ) => set((s) => ({ heads: { ...s.heads, ...patch(s.heads) } }));
  return (set, get) => ({
    heads: initialHeads(),
    runHeads() {
      const s = get();
      const port = ctx.port;
      const prompt = s.predict.prompt;
      const refused = !port?.heads
        ? NO_WORKER
        : (modelBlocker(s.model) ??
          (prompt.trim() === ""
            ? fail("empty_prompt", "The prompt is empty — type a prompt to see its heads.")
            : checkPrompt(prompt)));
      if (refused || !port?.heads) {
        // the results on screen stay: a refused run never erases them
        setHeads(set, () => ({ formError: refused }));
        return;
      }
      const subject = subjectOf(s);
      const reqId = port.heads(prompt, subject ?? undefined);
      setHeads(set, () => ({
        run: { ...IDLE_RUN, status: "running", reqId, startedAt: ctx.now() },
        request: { prompt, subject, model: modelKey(s) },
        patterns: null,
        scores: null,
        selected: null,
        formError: null,
      }));
    },
    cancelHeads() {
      if (!isActive(get().heads.run)) return;
      ctx.port?.cancelHeads?.();
      setHeads(set, (h) => ({ run: { ...h.run, status: "cancelling" } }));
    },
    pinHead(layer, head) {
      const h = { layer, head };
      setHeads(set, (st) => {
        const pinned = st.view.pinned.some((p) => same(p, h))
          ? st.view.pinned.filter((p) => !same(p, h))
          : [...st.view.pinned, h].slice(-MAX_PINNED);
        return { view: { ...st.view, pinned } };
      });
    },
    sortHeads(key) {
      setHeads(set, (st) => ({
        view: {
          ...st.view,
          sort: key,
          // a score sorts largest first; the head order starts at L0 H0
          desc: st.view.sort === key ? !st.view.desc : key !== "head",
        },
      }));
    },
    highlightHead(h) {
      setHeads(set, () => ({ selected: h ? { layer: h.layer, head: h.head } : null }));
    },
    setHeadsView(view) {
      setHeads(set, () => ({
        view: {
          pinned: view.pinned.slice(-MAX_PINNED).map((p) => ({ ...p })),
          sort: view.sort,
          desc: view.desc,
        },
      }));
    },
  });
}
