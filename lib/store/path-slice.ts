/**
 * Path slice: path patching from a sender head (lib/interp/path-patch.ts) on the patching prompts
 * (s.patch.settings) into each later head's inputs: a layer × head grid of effects, rows by
 * receiver layer; and into a receiver set picked on that grid, jointly (Wang et al. 2022).
 *
 *   s.setPathSender({ layer: 1, head: 1 }); s.runPath();          // the grid (+ the set's joint)
 *   s.toggleReceiver({ layer: 3, head: 0 }); s.runPathJoint();    // the set only, grid kept
 *   s.path.result.joint                                           // { receivers, value } | null
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
  /** The last receiver set measured on this grid, jointly; kept until a new one arrives. */
  joint: { receivers: HeadRef[]; value: number } | null;
}

export interface PathSlice {
  path: {
    sender: HeadRef | null;
    inputs: ReceiverInput[];
    /** The receiver set picked on the grid (sorted by layer, then head). */
    receivers: HeadRef[];
    formError: UiError | null;
    run: RunInfo;
    result: PathResult | null;
  };
  setPathSender(sender: HeadRef): void;
  setPathInputs(inputs: ReceiverInput[]): void;
  /** Adds a head to the receiver set, or takes it out. */
  toggleReceiver(head: HeadRef): void;
  /** Replaces the receiver set ([] clears it). */
  setPathReceivers(heads: HeadRef[]): void;
  /** The grid of every later head, and the receiver set's joint effect when one is picked. */
  runPath(): void;
  /** The receiver set's joint effect only, beside the grid on screen (else with a new grid). */
  runPathJoint(): void;
}

const sameHead = (a: HeadRef, b: HeadRef) => a.layer === b.layer && a.head === b.head;
const byPlace = (a: HeadRef, b: HeadRef) => a.layer - b.layer || a.head - b.head;
const sameSettings = (a: PatchSettings, b: PatchSettings) =>
  a.clean === b.clean && a.corrupt === b.corrupt && a.target === b.target && a.foil === b.foil;

export function reducePath(p: PathSlice["path"], msg: FromWorker): PathSlice["path"] {
  if (msg.reqId !== p.run.reqId) return p;
  const result = p.result;
  if (msg.type === "baseline" && msg.baseline.job === "path" && result) {
    const b = msg.baseline;
    // a joint-only run keeps the grid it was started beside
    if (result.values) return { ...p, result: { ...result, baseline: b } };
    return {
      ...p,
      result: { ...result, baseline: b, values: emptyGrid(b.nLayer, b.nHead), filled: 0 },
    };
  }
  if (msg.type === "pathJoint" && result) {
    const joint = { receivers: msg.receivers.map((h) => ({ ...h })), value: msg.joint };
    return { ...p, result: { ...result, joint } };
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

/** Why the sender and inputs cannot run on the loaded model, or null. */
function checkSender(
  s: CausewayState,
  sender: HeadRef | null,
  inputs: ReceiverInput[],
): UiError | null {
  const nLayer = s.model.info?.config.nLayer ?? 0;
  const nHead = s.model.info?.config.nHead ?? 0;
  if (sender === null) return fail("bad_spec", "Pick a sender head on the grid first.");
  if (sender.layer >= nLayer) {
    return fail("bad_spec", `The model has ${nLayer} layers: no layer ${sender.layer}.`);
  }
  if (sender.layer >= nLayer - 1) {
    return fail(
      "bad_spec",
      `L${sender.layer}H${sender.head} is in the last layer: no head reads it.`,
    );
  }
  if (sender.head >= nHead) {
    return fail("bad_spec", `The model has ${nHead} heads per layer: no head ${sender.head}.`);
  }
  if (inputs.length === 0) {
    return fail("bad_spec", "Tick at least one of the receivers' inputs (q, k, v).");
  }
  return null;
}

/** Why a receiver of the set cannot read the sender (a link may carry any heads), or null. */
function checkReceivers(s: CausewayState, sender: HeadRef, receivers: HeadRef[]): UiError | null {
  const nLayer = s.model.info?.config.nLayer ?? 0;
  const nHead = s.model.info?.config.nHead ?? 0;
  const outside = receivers.find((r) => r.layer >= nLayer || r.head >= nHead);
  if (outside) {
    return fail(
      "bad_spec",
      `Receiver L${outside.layer}H${outside.head} is not a head of this model (${nLayer} layers × ${nHead} heads).`,
    );
  }
  const early = receivers.find((r) => r.layer <= sender.layer);
  if (early) {
    return fail(
      "bad_spec",
      `Receiver L${early.layer}H${early.head} is not after the sender's layer ${sender.layer}: take it out of the set.`,
    );
  }
  return null;
}

export function createPathSlice(ctx: Context): StateCreator<CausewayState, [], [], PathSlice> {
  return (set, get) => {
    /** Starts a path run: the grid (+ the set), or with `jointOnly` the set beside the grid. */
    const start = (jointOnly: boolean) => {
      const s = get();
      const { sender, inputs, receivers } = s.path;
      const invalid =
        checkPatch(s) ??
        checkSender(s, sender, inputs) ??
        (jointOnly && receivers.length === 0
          ? fail("bad_spec", "Click receiver heads on the grid to pick a set first.")
          : null) ??
        (sender ? checkReceivers(s, sender, receivers) : null);
      if (invalid || !ctx.port || sender === null) {
        const formError = invalid ?? NO_WORKER;
        set((s2) => ({ path: { ...s2.path, formError } }));
        return;
      }
      const prev = s.path.result;
      // the grid on screen stays when it is of this sender, these inputs and these prompts
      const keep =
        jointOnly &&
        prev?.values &&
        prev.baseline &&
        sameHead(prev.sender, sender) &&
        prev.inputs.join() === inputs.join() &&
        sameSettings(prev.prompts, s.patch.settings)
          ? prev
          : null;
      const { site: _site, metric: _metric, strategy: _strategy, ...prompts } = patchJob(s).spec;
      const job: PathJob = {
        type: "path",
        spec: {
          ...prompts,
          sender,
          inputs,
          ...(receivers.length > 0 ? { receivers } : {}),
          ...(keep ? { perHead: false } : {}),
        },
      };
      const result: PathResult = keep
        ? { ...keep }
        : {
            sender,
            inputs: [...inputs],
            prompts: { ...s.patch.settings },
            baseline: null,
            values: null,
            filled: 0,
            joint: null,
          };
      set((s2) => ({ path: { ...s2.path, formError: null, result } }));
      startRun(ctx, set, "path", job);
    };
    return {
      path: {
        sender: null,
        inputs: [...RECEIVER_INPUTS],
        receivers: [],
        formError: null,
        run: IDLE_RUN,
        result: null,
      },
      setPathSender(sender) {
        set((s) => ({
          path: {
            ...s.path,
            sender: { ...sender },
            // a receiver reads the sender only from a later layer
            receivers: s.path.receivers.filter((r) => r.layer > sender.layer),
            formError: null,
          },
        }));
      },
      toggleReceiver(head) {
        set((s) => {
          const has = s.path.receivers.some((r) => sameHead(r, head));
          const receivers = has
            ? s.path.receivers.filter((r) => !sameHead(r, head))
            : [...s.path.receivers, { layer: head.layer, head: head.head }].sort(byPlace);
          return { path: { ...s.path, receivers, formError: null } };
        });
      },
      setPathReceivers(heads) {
        const receivers = heads
          .filter((h, i) => heads.findIndex((x) => sameHead(x, h)) === i)
          .map((h) => ({ layer: h.layer, head: h.head }))
          .sort(byPlace);
        set((s) => ({ path: { ...s.path, receivers, formError: null } }));
      },
      setPathInputs(inputs) {
        const list = RECEIVER_INPUTS.filter((x) => inputs.includes(x));
        set((s) => ({ path: { ...s.path, inputs: list } }));
      },
      runPath() {
        start(false);
      },
      runPathJoint() {
        start(true);
      },
    };
  };
}
