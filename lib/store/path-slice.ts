/**
 * Path slice: path patching from a sender head (lib/interp/path-patch.ts) on the patching prompts
 * (s.patch.settings) into each later head's inputs: a layer × head grid of effects, rows by
 * receiver layer.
 */
import type { StateCreator } from "zustand/vanilla";
import { type HeadRef, RECEIVER_INPUTS, type ReceiverInput } from "../interp/path-patch";
import type { FromWorker, PathBaselineInfo, PathJob } from "../protocol";
import { countFilled, emptyGrid, withRows } from "../viz/grid";
import type { Context } from "./context";
import { fail, NO_WORKER } from "./errors";
import { checkPatch, patchJob } from "./patch-slice";
import { applyRunMessage, IDLE_RUN, startRun } from "./run";
import type { CausewayState, PatchSettings, RunInfo, UiError } from "./types";

export interface PathResult {
  sender: HeadRef;
  inputs: ReceiverInput[];
  /** The patching prompts it ran on (a share link carries the view only while they match). */
  prompts: PatchSettings;
  baseline: PathBaselineInfo | null;
  /** L × H, row-major; NaN until computed and for layers up to the sender's. */
  values: Float32Array | null;
  filled: number;
}

export interface PathSlice {
  path: {
    sender: HeadRef | null;
    inputs: ReceiverInput[];
    formError: UiError | null;
    run: RunInfo;
    result: PathResult | null;
  };
  setPathSender(sender: HeadRef): void;
  setPathInputs(inputs: ReceiverInput[]): void;
  runPath(): void;
}

export function reducePath(p: PathSlice["path"], msg: FromWorker): PathSlice["path"] {
  if (msg.reqId !== p.run.reqId) return p;
  const result = p.result;
  if (msg.type === "baseline" && msg.baseline.job === "path" && result) {
    const b = msg.baseline;
    return {
      ...p,
      result: { ...result, baseline: b, values: emptyGrid(b.nLayer, b.nHead), filled: 0 },
    };
  }
  if (msg.type === "rows" && result?.baseline && result.values) {
    const H = result.baseline.nHead;
    if (msg.width !== H) return p;
    const values = withRows(result.values, H, msg.rows, msg.values);
    return { ...p, result: { ...result, values, filled: countFilled(values) } };
  }
  const run = applyRunMessage(p.run, msg);
  return run === p.run ? p : { ...p, run };
}

export function createPathSlice(ctx: Context): StateCreator<CausewayState, [], [], PathSlice> {
  return (set, get) => ({
    path: {
      sender: null,
      inputs: [...RECEIVER_INPUTS],
      formError: null,
      run: IDLE_RUN,
      result: null,
    },
    setPathSender(sender) {
      set((s) => ({ path: { ...s.path, sender: { ...sender }, formError: null } }));
    },
    setPathInputs(inputs) {
      const list = RECEIVER_INPUTS.filter((x) => inputs.includes(x));
      set((s) => ({ path: { ...s.path, inputs: list } }));
    },
    runPath() {
      const s = get();
      const { sender, inputs } = s.path;
      const nLayer = s.model.info?.config.nLayer ?? 0;
      const nHead = s.model.info?.config.nHead ?? 0;
      const invalid =
        checkPatch(s) ??
        (sender === null
          ? fail("bad_spec", "Pick a sender head on the grid first.")
          : sender.layer >= nLayer
            ? fail("bad_spec", `The model has ${nLayer} layers: no layer ${sender.layer}.`)
            : sender.layer >= nLayer - 1
              ? fail(
                  "bad_spec",
                  `L${sender.layer}H${sender.head} is in the last layer: no head reads it.`,
                )
              : sender.head >= nHead
                ? fail(
                    "bad_spec",
                    `The model has ${nHead} heads per layer: no head ${sender.head}.`,
                  )
                : inputs.length === 0
                  ? fail("bad_spec", "Tick at least one of the receivers' inputs (q, k, v).")
                  : null);
      if (invalid || !ctx.port || sender === null) {
        const formError = invalid ?? NO_WORKER;
        set((s2) => ({ path: { ...s2.path, formError } }));
        return;
      }
      const { site: _site, metric: _metric, strategy: _strategy, ...prompts } = patchJob(s).spec;
      const job: PathJob = { type: "path", spec: { ...prompts, sender, inputs } };
      set((s2) => ({
        path: {
          ...s2.path,
          formError: null,
          result: {
            sender,
            inputs: [...inputs],
            prompts: { ...s.patch.settings },
            baseline: null,
            values: null,
            filled: 0,
          },
        },
      }));
      startRun(ctx, set, "path", job);
    },
  });
}
