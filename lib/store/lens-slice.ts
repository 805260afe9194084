/**
 * Read-outs slice (issue 13 items 2–3): the logit lens and direct logit attribution of the
 * app's prompt, and attribution patching of the patching panel's clean / corrupted pair beside
 * exact patching. Each read-out has its own worker lane (lib/lens-jobs.ts), RunInfo and last
 * result; a refused or failed run never erases the result on screen.
 *
 *   s.runReadout("lens");           // the prompt above, settings.lensTarget, settings.topK
 *   s.readouts.lens.result          // lib/interp/logit-lens.ts LensResult (the CLI's JSON)
 *   s.readouts.attrib.exact         // one AttributionComparison per exact site, as it lands
 */
import type { StateCreator } from "zustand/vanilla";
import type { AttributionComparison, AttributionResult } from "../interp/attribution";
import type { DlaResult } from "../interp/dla";
import { type LensResult, MAX_LENS_TOP_K } from "../interp/logit-lens";
import { PATCH_SITES } from "../interp/spec";
import type { AttribJob, DlaJob, LensJob, ReadoutBody, ReadoutType } from "../lens-jobs";
import { type FromWorker, isProgressOf } from "../protocol";
import type { Context } from "./context";
import { fail, modelBlocker, NO_WORKER } from "./errors";
import { applyRunMessage, IDLE_RUN, isActive } from "./run";
import type { CausewayState, RunInfo, UiError } from "./types";

export interface ReadoutSettings {
  /** Logit lens target (blank: the model's top-1 at the last position). */
  lensTarget: string;
  /** Tokens listed per lens cell. */
  topK: number;
  /** DLA target and foil (blank: the top-1 and top-2 at the position). */
  dlaTarget: string;
  dlaFoil: string;
  /** DLA position (null: the last). */
  dlaPosition: number | null;
  /** Attribution patching: also run exact patching of every site (the reference). */
  exact: boolean;
}

export const DEFAULT_READOUT_SETTINGS: ReadoutSettings = {
  lensTarget: "",
  topK: 5,
  dlaTarget: "",
  dlaFoil: "",
  dlaPosition: null,
  exact: true,
};

export interface ReadoutState<R, J> {
  run: RunInfo;
  result: R | null;
  /** The job `result` answers (for links, exports and edit forms), and the one in flight. */
  job: J | null;
  asked: J | null;
}

export interface Readouts {
  settings: ReadoutSettings;
  lens: ReadoutState<LensResult, LensJob>;
  dla: ReadoutState<DlaResult, DlaJob>;
  attrib: ReadoutState<AttributionResult, AttribJob> & { exact: AttributionComparison[] };
}

export interface LensSlice {
  readouts: Readouts;
  setReadoutSettings(patch: Partial<ReadoutSettings>): void;
  /** Starts a read-out (the latest of each type wins); a refusal shows as the run's error. */
  runReadout(type: ReadoutType): void;
  cancelReadout(type: ReadoutType): void;
}

export const initialReadouts = (): Readouts => ({
  settings: DEFAULT_READOUT_SETTINGS,
  lens: { run: IDLE_RUN, result: null, job: null, asked: null },
  dla: { run: IDLE_RUN, result: null, job: null, asked: null },
  attrib: { run: IDLE_RUN, result: null, job: null, asked: null, exact: [] },
});

/** The request for a read-out of the state on screen, or why it cannot run. */
export function readoutRequest(s: CausewayState, type: ReadoutType): ReadoutBody | UiError {
  const notReady = modelBlocker(s.model);
  if (notReady) return notReady;
  const st = s.readouts.settings;
  const opt = (v: string) => (v.trim() === "" ? {} : { target: v });
  if (type === "attrib") {
    const p = s.patch.settings;
    if (p.clean.trim() === "") return fail("empty_prompt", "The clean prompt is empty.");
    if (p.corrupt.trim() === "") {
      return fail(
        "empty_prompt",
        "The corrupted prompt is empty — type one with the same number of tokens as the clean one.",
      );
    }
    const job = {
      clean: p.clean,
      corrupt: p.corrupt,
      ...opt(p.target),
      ...(p.foil.trim() === "" ? {} : { foil: p.foil }),
      exact: st.exact ? [...PATCH_SITES] : [],
    };
    return { type, job };
  }
  const prompt = s.predict.prompt;
  if (prompt.trim() === "") return fail("empty_prompt", "Type a prompt first.");
  if (type === "lens") {
    if (!Number.isInteger(st.topK) || st.topK < 1 || st.topK > MAX_LENS_TOP_K) {
      return fail(
        "bad_spec",
        `Tokens per cell must be a whole number from 1 to ${MAX_LENS_TOP_K}.`,
      );
    }
    return { type, job: { prompt, ...opt(st.lensTarget), topK: st.topK } };
  }
  const job = {
    prompt,
    ...opt(st.dlaTarget),
    ...(st.dlaFoil.trim() === "" ? {} : { foil: st.dlaFoil }),
    ...(st.dlaPosition === null ? {} : { position: st.dlaPosition }),
  };
  return { type, job };
}

const isError = (x: ReadoutBody | UiError): x is UiError => "code" in x;

/** Folds one answer of read-out `type`'s latest request into the slice. */
export function reduceReadout(r: Readouts, type: ReadoutType, msg: FromWorker): Readouts {
  const cur = r[type];
  if (msg.reqId !== cur.run.reqId) return r;
  if (isProgressOf(msg, type)) {
    if (!isActive(cur.run)) return r;
    const progress = {
      phase: msg.phase,
      kind: msg.site ?? null,
      done: msg.done,
      total: msg.total,
      etaMs: msg.etaMs ?? null,
    };
    return { ...r, [type]: { ...cur, run: { ...cur.run, progress } } };
  }
  if (msg.type === "lens" && type === "lens") {
    return { ...r, lens: { ...r.lens, result: msg.result, job: r.lens.asked } };
  }
  if (msg.type === "dla" && type === "dla") {
    return { ...r, dla: { ...r.dla, result: msg.result, job: r.dla.asked } };
  }
  if (msg.type === "attrib" && type === "attrib") {
    const a = r.attrib;
    return msg.part === "estimate"
      ? { ...r, attrib: { ...a, result: msg.result, job: a.asked, exact: [] } }
      : { ...r, attrib: { ...a, exact: [...a.exact, msg.comparison] } };
  }
  const run = applyRunMessage(cur.run, msg);
  return run === cur.run ? r : { ...r, [type]: { ...cur, run } };
}

export function createLensSlice(ctx: Context): StateCreator<CausewayState, [], [], LensSlice> {
  const setOne = <T extends ReadoutType>(
    s: CausewayState,
    type: T,
    patch: Partial<Readouts[T]>,
  ) => ({
    readouts: { ...s.readouts, [type]: { ...s.readouts[type], ...patch } },
  });
  return (set, get) => ({
    readouts: initialReadouts(),
    setReadoutSettings(patch) {
      set((s) => ({ readouts: { ...s.readouts, settings: { ...s.readouts.settings, ...patch } } }));
    },
    runReadout(type) {
      const s = get();
      const req = readoutRequest(s, type);
      const port = ctx.port;
      if (isError(req) || !port?.readout) {
        const error = isError(req) ? req : NO_WORKER;
        set((s2) => setOne(s2, type, { run: { ...IDLE_RUN, status: "error", error } }));
        return;
      }
      const reqId = port.readout(req);
      const run: RunInfo = { ...IDLE_RUN, status: "running", reqId, startedAt: ctx.now() };
      set((s2) => setOne(s2, type, { run, asked: req.job } as Partial<Readouts[typeof type]>));
    },
    cancelReadout(type) {
      const run = get().readouts[type].run;
      if (!isActive(run) || !ctx.port?.cancelReadout) return;
      ctx.port.cancelReadout(type);
      set((s) => setOne(s, type, { run: { ...run, status: "cancelling" } }));
    },
  });
}
