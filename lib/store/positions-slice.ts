/**
 * Positions slice: activation patching by position (clean → corrupted) on the patching prompts
 * (s.patch.settings): layer × position for resid_pre / attn_out / mlp_out, (layer, head) ×
 * position for head_out_pos. Rows stream by position: T × L, or T × L·H (values[l·H + h]).
 */
import type { StateCreator } from "zustand/vanilla";
import type { PatchSite } from "../interp/spec";
import type { FromWorker, PatchBaselineInfo } from "../protocol";
import { countFilled, emptyGrid, withRows } from "../viz/grid";
import type { Context } from "./context";
import { NO_WORKER } from "./errors";
import { checkPatch, patchJob } from "./patch-slice";
import { applyRunMessage, IDLE_RUN, startRun } from "./run";
import type { CausewayState, PatchSettings, RunInfo, UiError } from "./types";

export type PositionSite = Exclude<PatchSite, "head_out">;
export const POSITION_SITES: readonly PositionSite[] = [
  "resid_pre",
  "attn_out",
  "mlp_out",
  "head_out_pos",
];

export interface PositionsResult {
  site: PositionSite;
  /** The patching prompts it ran on (a share link carries the view only while they match). */
  prompts: PatchSettings;
  baseline: PatchBaselineInfo | null;
  /** T × width, row-major, NaN until computed; width L, or L·H for head_out_pos. */
  values: Float32Array | null;
  width: number;
  filled: number;
}

export interface PositionsSlice {
  positions: {
    site: PositionSite;
    formError: UiError | null;
    run: RunInfo;
    result: PositionsResult | null;
  };
  setPositionSite(site: PositionSite): void;
  runPositions(): void;
}

export function reducePositions(
  p: PositionsSlice["positions"],
  msg: FromWorker,
): PositionsSlice["positions"] {
  if (msg.reqId !== p.run.reqId) return p;
  const result = p.result;
  if (msg.type === "baseline" && msg.baseline.job === "patch" && result) {
    const b = msg.baseline;
    const width = result.site === "head_out_pos" ? b.nLayer * b.nHead : b.nLayer;
    const values = emptyGrid(b.cleanIds.length, width);
    return { ...p, result: { ...result, baseline: b, values, width, filled: 0 } };
  }
  if (msg.type === "rows" && result?.values) {
    if (msg.width !== result.width) return p;
    const values = withRows(result.values, result.width, msg.rows, msg.values);
    return { ...p, result: { ...result, values, filled: countFilled(values) } };
  }
  const run = applyRunMessage(p.run, msg);
  return run === p.run ? p : { ...p, run };
}

export function createPositionsSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], PositionsSlice> {
  return (set, get) => ({
    positions: { site: "resid_pre", formError: null, run: IDLE_RUN, result: null },
    setPositionSite(site) {
      if (!POSITION_SITES.includes(site)) return;
      set((s) => ({ positions: { ...s.positions, site } }));
    },
    runPositions() {
      const s = get();
      const invalid = checkPatch(s);
      if (invalid || !ctx.port) {
        const formError = invalid ?? NO_WORKER;
        set((s2) => ({ positions: { ...s2.positions, formError } }));
        return;
      }
      const site = s.positions.site;
      const base = patchJob(s);
      const job = { ...base, spec: { ...base.spec, site } };
      set((s2) => ({
        positions: {
          ...s2.positions,
          formError: null,
          result: {
            site,
            prompts: { ...s.patch.settings },
            baseline: null,
            values: null,
            width: 0,
            filled: 0,
          },
        },
      }));
      startRun(ctx, set, "positions", job);
    },
  });
}
