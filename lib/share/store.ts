/**
 * Between the app's store and a SharedSession: what the screen shows → a session (for a link or
 * a session file), and a session → the store's settings (the opener then recomputes).
 */
import type { Edit } from "../edit/types";
import type { TraceKind } from "../interp/spec";
import type { CausewayState, TraceGrid, TraceSettings } from "../store/types";
import { headsSessionOf } from "./heads-open";
import { readoutsSessionOf } from "./lens-open";
import { applyPatching, patchingSessionOf } from "./patching-open";
import type { CarriedTrace, SharedSession } from "./session";
import { DEFAULT_SESSION } from "./session";

/** The trace settings a session and the store's TraceSettings share under the same names. */
const SHARED_TRACE_KEYS = [
  "target",
  "corruption",
  "noise",
  "samples",
  "seed",
  "counterfactual",
  "window",
] as const satisfies readonly (keyof SharedSession & keyof TraceSettings)[];

type SharedTrace = Pick<SharedSession, (typeof SHARED_TRACE_KEYS)[number]>;

function pickTrace(from: SharedTrace): SharedTrace {
  return Object.fromEntries(SHARED_TRACE_KEYS.map((k) => [k, from[k]])) as SharedTrace;
}

/** The store's edit stack, when it has an edits slice. */
export function editStackOf(s: CausewayState): Edit[] {
  return s.edits.stack;
}

/** The trace on screen as carried data (only kinds whose grid is complete). */
export function carriedTraceOf(s: CausewayState): CarriedTrace | null {
  const r = s.trace.result;
  if (!r?.tokens || !r.subject) return null;
  const grids = r.kinds
    .map((k) => [k, r.grids[k]] as [TraceKind, TraceGrid | undefined])
    .filter(([, g]) => g !== undefined && g.filled === g.rows * g.cols);
  if (grids.length === 0) return null;
  const b = (grids[0][1] as TraceGrid).baseline;
  return {
    tokens: [...r.tokens],
    subject: [r.subject[0], r.subject[1]],
    answer: b.answer.token,
    low: b.low,
    high: b.high,
    window: b.window,
    grids: grids.map(([kind, g]) => ({
      kind,
      rows: (g as TraceGrid).rows,
      cols: (g as TraceGrid).cols,
      values: Array.from((g as TraceGrid).values),
    })),
  };
}

/** The session on screen. `withTrace`: carry the heatmaps too. */
export function sessionOf(s: CausewayState, withTrace = true): SharedSession {
  const st = s.trace.settings;
  const range = st.subjectRange && st.subjectPrompt === s.predict.prompt ? st.subjectRange : null;
  return {
    model: s.model.source ?? DEFAULT_SESSION.model,
    prompt: s.predict.prompt,
    subject: st.subjectText,
    subjectRange: range ? [range[0], range[1]] : null,
    ...pickTrace(st),
    kinds: [...st.kinds],
    strategy: "fast",
    patch: { ...s.patch.settings },
    selectedHead: s.patch.selected ? { ...s.patch.selected } : null,
    generation: { ...s.generateSettings },
    edits: editStackOf(s),
    trace: withTrace ? carriedTraceOf(s) : null,
    heads: headsSessionOf(s),
    readouts: readoutsSessionOf(s),
    patching: patchingSessionOf(s),
    view: s.view.tab,
  };
}

const sameSource = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Puts a session's settings into the store: model (loaded when it is not the one loading or
 * loaded), prompt, trace and patch settings, edit stack. Recomputing is the caller's next step
 * (lib/share/open.ts waits for the model and the prompt's tokens, then runs the trace).
 */
export function applySession(get: () => CausewayState, session: SharedSession): void {
  const s = get();
  if (!sameSource(s.model.source, session.model)) s.loadModel(session.model);
  get().setPrompt(session.prompt);
  get().setTraceSettings({ ...pickTrace(session), kinds: [...session.kinds] });
  // the subject: a picked range stays tied to this prompt; text is re-found in its tokens
  get().setTraceSettings({
    subjectText: session.subject,
    subjectRange: session.subjectRange,
    subjectPrompt: session.subjectRange ? session.prompt : null,
    subjectAuto: false,
  });
  get().setPatchSettings({ ...session.patch });
  get().setGenerateSettings({ ...session.generation });
  get().setEditStack(session.edits);
  if (session.heads) get().setHeadsView(session.heads);
  applyPatching(get(), session.patching);
  get().setView(session.view, "link");
}
