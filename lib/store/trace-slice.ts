/**
 * Trace slice: the causal trace's settings (subject, target, corruption, window, kinds), the run
 * in flight, and the three heatmaps as their rows stream in.
 *
 * The subject is a token range of the current prompt: picked on the token strip (click or drag)
 * or found from the subject box's text (the span covering its first occurrence, as ROME's
 * find_token_range does). It is re-found from the text whenever the prompt's tokens change.
 */
import type { StateCreator } from "zustand/vanilla";
import { TRACE_DEFAULTS, TraceError } from "../interp/spec";
import { findSubjectRange } from "../interp/tokens";
import { paramError } from "../params/schema";
import { TRACE_PARAMS } from "../params/table";
import type { FromWorker, TraceJob } from "../protocol";
import { countFilled, emptyGrid, withRows } from "../viz/grid";
import { rangeToText } from "../viz/selection";
import type { Context } from "./context";
import { fail, modelBlocker, NO_WORKER } from "./errors";
import { applyRunMessage, IDLE_RUN, runOf, startRun, withRun } from "./run";
import type { CausewayState, TraceResultState, TraceSettings, TraceSlice, UiError } from "./types";

export const DEFAULT_TRACE_SETTINGS: TraceSettings = {
  subjectText: "",
  subjectRange: null,
  subjectPrompt: null,
  subjectAuto: false,
  target: "",
  corruption: "noise",
  samples: TRACE_DEFAULTS.samples,
  noise: TRACE_DEFAULTS.noise,
  seed: TRACE_DEFAULTS.seed,
  counterfactual: "",
  counterfactualAuto: false,
  window: null,
  kinds: ["hidden", "mlp", "attn"],
};

export function initialTrace(): TraceSlice["trace"] {
  return {
    settings: DEFAULT_TRACE_SETTINGS,
    subjectError: null,
    formError: null,
    run: IDLE_RUN,
    result: null,
    pending: null,
  };
}

/** The tokens of the current prompt, if the predictions on screen answer it. */
export function currentTokens(s: CausewayState): string[] | null {
  const { result, resultPrompt, prompt } = s.predict;
  return result && resultPrompt === prompt ? result.inputTokens : null;
}

/** The subject's range in `tokens` from text, or the error to show. */
export function resolveSubject(
  tokens: string[] | null,
  text: string,
): { range: [number, number] | null; error: UiError | null } {
  if (text.trim() === "" || !tokens) return { range: null, error: null };
  try {
    return { range: findSubjectRange(tokens, text), error: null };
  } catch (e) {
    if (e instanceof TraceError)
      return { range: null, error: { code: e.code, message: e.message } };
    throw e;
  }
}

/** Checks the settings before asking the worker; null when they may be sent. */
export function checkTrace(s: CausewayState): UiError | null {
  const st = s.trace.settings;
  const notReady = modelBlocker(s.model);
  if (notReady) return notReady;
  if (s.predict.prompt.trim() === "") {
    return fail("empty_prompt", "The prompt is empty — type a prompt to trace.");
  }
  // the prediction for this very prompt was refused (longer than the context, …)
  const p = s.predict;
  if (p.status === "error" && p.error?.code === "prompt_too_long") return p.error;
  if (st.kinds.length === 0) return fail("bad_spec", "Choose at least one kind to trace.");
  if (s.trace.subjectError) return s.trace.subjectError;
  if (st.corruption === "noise" && !st.subjectRange && st.subjectText.trim() === "") {
    return fail(
      "bad_subject",
      "Choose the subject to corrupt: click or drag over its tokens, or type it in the subject box.",
    );
  }
  if (st.corruption === "prompt" && st.counterfactual.trim() === "") {
    return fail(
      "bad_spec",
      "Type a counterfactual prompt with the same number of tokens as the prompt.",
    );
  }
  // bounds: the one settings table (lib/params/table.ts), as the CLI and links check them
  const nLayer = s.model.info?.config.nLayer;
  for (const k of ["samples", "noise", "seed", "window"] as const) {
    if (k === "window" && st.window === null) continue;
    const max = k === "window" && nLayer ? Math.min(TRACE_PARAMS.window.max, nLayer) : undefined;
    const msg = paramError(TRACE_PARAMS[k], st[k], max);
    if (msg) return fail("bad_spec", `${msg}.`);
  }
  return null;
}

/** The job the settings describe. */
export function traceJob(s: CausewayState): TraceJob {
  const st = s.trace.settings;
  const prompt = s.predict.prompt;
  const subject =
    st.subjectRange && st.subjectPrompt === prompt
      ? st.subjectRange
      : st.subjectText.trim() !== ""
        ? st.subjectText
        : undefined;
  return {
    type: "trace",
    kinds: [...st.kinds],
    spec: {
      prompt,
      ...(subject !== undefined ? { subject } : {}),
      ...(st.target.trim() !== "" ? { target: st.target } : {}),
      samples: st.samples,
      noise: st.noise,
      seed: st.seed,
      ...(st.window !== null ? { window: st.window } : {}),
      corruption:
        st.corruption === "noise"
          ? { type: "noise" }
          : { type: "prompt", prompt: st.counterfactual },
    },
  };
}

/** Folds a baseline or rows message into a trace result (the same object when it is neither). */
export function reduceTraceResult(
  result: TraceResultState | null,
  msg: FromWorker,
): TraceResultState | null {
  if (msg.type === "baseline" && msg.baseline.job === "trace" && result) {
    const b = msg.baseline;
    const T = b.tokens.length;
    return {
      ...result,
      tokens: b.tokens,
      subject: b.subject,
      grids: {
        ...result.grids,
        [b.kind]: {
          baseline: b,
          values: emptyGrid(T, b.nLayer),
          rows: T,
          cols: b.nLayer,
          filled: 0,
        },
      },
    };
  }
  if (msg.type === "rows" && result) {
    const kind = msg.kind as keyof typeof result.grids;
    const g = result.grids[kind];
    if (!g || msg.width !== g.cols) return result;
    const values = withRows(g.values, g.cols, msg.rows, msg.values);
    return {
      ...result,
      grids: { ...result.grids, [kind]: { ...g, values, filled: countFilled(values) } },
    };
  }
  return result;
}

/**
 * Folds one message of the current trace run into the slice. The run's first baseline makes its
 * (pending) result the one on screen; a run that fails or is cancelled before that leaves the
 * previous result as it was: a refused prompt or setting never erases a trace.
 */
export function reduceTrace(trace: TraceSlice["trace"], msg: FromWorker): TraceSlice["trace"] {
  if (msg.reqId !== trace.run.reqId) return trace;
  if (trace.pending) {
    const started = reduceTraceResult(trace.pending, msg);
    if (msg.type === "baseline" && started !== trace.pending) {
      return { ...trace, result: started, pending: null };
    }
  } else {
    const result = reduceTraceResult(trace.result, msg);
    if (result !== trace.result) return { ...trace, result };
  }
  const run = applyRunMessage(trace.run, msg);
  return run === trace.run ? trace : { ...trace, run };
}

export function createTraceSlice(ctx: Context): StateCreator<CausewayState, [], [], TraceSlice> {
  return (set, get) => ({
    trace: initialTrace(),
    setSubjectText(text) {
      const { range, error } = resolveSubject(currentTokens(get()), text);
      set((s) => ({
        trace: {
          ...s.trace,
          settings: {
            ...s.trace.settings,
            subjectText: text,
            subjectRange: range,
            subjectPrompt: range ? s.predict.prompt : null,
            subjectAuto: false,
          },
          subjectError: error,
        },
      }));
    },
    selectSubjectRange(range) {
      const tokens = currentTokens(get());
      if (!tokens) return;
      const [b, e] = range;
      if (!(Number.isInteger(b) && Number.isInteger(e) && b >= 0 && e <= tokens.length && b < e))
        return;
      set((s) => ({
        trace: {
          ...s.trace,
          settings: {
            ...s.trace.settings,
            subjectText: rangeToText(tokens, range),
            subjectRange: [b, e],
            subjectPrompt: s.predict.prompt,
            subjectAuto: false,
          },
          subjectError: null,
        },
      }));
    },
    setTraceSettings(patch) {
      set((s) => ({
        trace: {
          ...s.trace,
          settings: {
            ...s.trace.settings,
            ...patch,
            ...("counterfactual" in patch ? { counterfactualAuto: false } : {}),
          },
        },
      }));
    },
    syncSubject() {
      const s = get();
      const prompt = s.predict.prompt;
      const st = s.trace.settings;
      const fact = s.examples.find((f) => f.prompt === prompt);
      let subjectText = st.subjectText;
      let subjectAuto = st.subjectAuto;
      let counterfactual = st.counterfactual;
      let counterfactualAuto = st.counterfactualAuto;
      if (fact && (subjectText.trim() === "" || subjectAuto)) {
        subjectText = fact.subject;
        subjectAuto = true;
      } else if (!fact && subjectAuto) {
        subjectText = "";
        subjectAuto = false;
      }
      if (fact?.counterfactual && (counterfactual.trim() === "" || counterfactualAuto)) {
        counterfactual = fact.counterfactual.prompt;
        counterfactualAuto = true;
      }
      // a range picked for this very prompt stays; otherwise the text decides
      const keep = st.subjectRange !== null && st.subjectPrompt === prompt && !subjectAuto;
      const tokens = currentTokens(s);
      const { range, error } = keep
        ? { range: st.subjectRange, error: null }
        : resolveSubject(tokens, subjectText);
      set((s2) => ({
        trace: {
          ...s2.trace,
          settings: {
            ...s2.trace.settings,
            subjectText,
            subjectAuto,
            counterfactual,
            counterfactualAuto,
            subjectRange: range,
            subjectPrompt: range ? prompt : null,
          },
          subjectError: error,
        },
      }));
    },
    runTrace() {
      const s = get();
      const invalid = checkTrace(s);
      if (invalid || !ctx.port) {
        const formError = invalid ?? NO_WORKER;
        set((s2) => ({ trace: { ...s2.trace, formError } }));
        return;
      }
      const job = traceJob(s);
      set((s2) => ({
        trace: {
          ...s2.trace,
          formError: null,
          // the trace on screen stays until this run's first baseline (reduceTrace)
          pending: {
            job,
            variant: "original",
            prompt: job.spec.prompt as string,
            kinds: job.kinds,
            tokens: null,
            subject: null,
            grids: {},
          },
        },
      }));
      // The trace panel traces the original model; "Re-trace edited" runs the edited one.
      startRun(ctx, set, "trace", job, "original");
    },
    cancelRun() {
      const current = ctx.run;
      if (!current || !ctx.port) return;
      const run = runOf(get(), current.owner);
      if (run.reqId !== current.reqId || run.status !== "running") return;
      ctx.port.cancelRun();
      set((s) => withRun(s, current.owner, { ...run, status: "cancelling" }));
    },
  });
}
