/**
 * Patch slice: activation patching of every head's output (hook_z of one head at all positions,
 * clean → corrupted) into a layer × head grid, and the attention pattern of the head picked on
 * that grid.
 */
import type { StateCreator } from "zustand/vanilla";
import type { FromWorker, PatchJob } from "../protocol";
import { countFilled, emptyGrid, withRows } from "../viz/grid";
import type { Context } from "./context";
import { fail, modelBlocker, NO_WORKER } from "./errors";
import { applyRunMessage, IDLE_RUN, startRun } from "./run";
import type { CausewayState, PatchSettings, PatchSlice, UiError } from "./types";

export function initialPatch(settings: Partial<PatchSettings> = {}): PatchSlice["patch"] {
  return {
    settings: { clean: "", corrupt: "", target: "", foil: "", ...settings },
    formError: null,
    run: IDLE_RUN,
    result: null,
    selected: null,
    attention: null,
  };
}

export function checkPatch(s: CausewayState): UiError | null {
  const st = s.patch.settings;
  const notReady = modelBlocker(s.model);
  if (notReady) return notReady;
  if (st.clean.trim() === "") return fail("empty_prompt", "The clean prompt is empty.");
  if (st.corrupt.trim() === "") {
    return fail(
      "empty_prompt",
      "The corrupted prompt is empty — type one with the same number of tokens.",
    );
  }
  return null;
}

export function patchJob(s: CausewayState): PatchJob {
  const st = s.patch.settings;
  return {
    type: "patch",
    spec: {
      clean: st.clean,
      corrupt: st.corrupt,
      ...(st.target.trim() !== "" ? { target: st.target } : {}),
      ...(st.foil.trim() !== "" ? { foil: st.foil } : {}),
      site: "head_out",
    },
  };
}

export function reducePatch(patch: PatchSlice["patch"], msg: FromWorker): PatchSlice["patch"] {
  if (msg.type === "attention" || (msg.type === "error" && msg.reqId !== patch.run.reqId)) {
    return patch; // attention answers come through reduceAttention
  }
  if (msg.reqId !== patch.run.reqId) return patch;
  const result = patch.result;
  if (msg.type === "baseline" && msg.baseline.job === "patch" && result) {
    const b = msg.baseline;
    return {
      ...patch,
      result: { ...result, baseline: b, values: emptyGrid(b.nLayer, b.nHead), filled: 0 },
    };
  }
  if (msg.type === "rows" && result?.baseline && result.values) {
    const H = result.baseline.nHead;
    if (msg.width !== H) return patch;
    const values = withRows(result.values, H, msg.rows, msg.values);
    return { ...patch, result: { ...result, values, filled: countFilled(values) } };
  }
  const run = applyRunMessage(patch.run, msg);
  return run === patch.run ? patch : { ...patch, run };
}

/** Folds the answer of the latest attention request into the slice. */
export function reduceAttention(patch: PatchSlice["patch"], msg: FromWorker): PatchSlice["patch"] {
  const a = patch.attention;
  if (!a || a.status !== "pending") return patch;
  if (msg.type === "attention" && msg.layer === a.layer && msg.head === a.head) {
    return {
      ...patch,
      attention: { ...a, status: "ok", tokens: msg.tokens, pattern: msg.pattern, error: null },
    };
  }
  if (msg.type === "error") {
    return {
      ...patch,
      attention: { ...a, status: "error", error: { code: msg.code, message: msg.message } },
    };
  }
  return patch;
}

export function createPatchSlice(
  ctx: Context,
  settings: Partial<PatchSettings> = {},
): StateCreator<CausewayState, [], [], PatchSlice> {
  return (set, get) => ({
    patch: initialPatch(settings),
    setPatchSettings(p) {
      set((s) => ({ patch: { ...s.patch, settings: { ...s.patch.settings, ...p } } }));
    },
    runPatch() {
      const s = get();
      const invalid = checkPatch(s);
      if (invalid || !ctx.port) {
        const formError = invalid ?? NO_WORKER;
        set((s2) => ({ patch: { ...s2.patch, formError } }));
        return;
      }
      const job = patchJob(s);
      set((s2) => ({
        patch: {
          ...s2.patch,
          formError: null,
          result: { clean: job.spec.clean as string, baseline: null, values: null, filled: 0 },
          selected: null,
          attention: null,
        },
      }));
      startRun(ctx, set, "patch", job);
    },
    selectHead(layer, head) {
      const s = get();
      const result = s.patch.result;
      if (!result?.baseline || !ctx.port) return;
      const { nLayer, nHead } = result.baseline;
      if (layer < 0 || layer >= nLayer || head < 0 || head >= nHead) return;
      ctx.port.attention(result.clean, layer, head);
      set((s2) => ({
        patch: {
          ...s2.patch,
          selected: { layer, head },
          attention: {
            status: "pending",
            layer,
            head,
            prompt: result.clean,
            tokens: s2.patch.attention?.tokens ?? null,
            pattern: null,
            error: null,
          },
        },
      }));
    },
  });
}
