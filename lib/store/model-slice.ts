/** Model slice: which model is loaded, on which backend, and how far loading has got. */
import type { StateCreator } from "zustand/vanilla";
import type { Context } from "./context";
import type { CausewayState, ModelSlice } from "./types";

export const initialModel: ModelSlice["model"] = {
  status: "idle",
  source: null,
  progress: null,
  backend: null,
  adapter: null,
  info: null,
  error: null,
  loadMs: null,
};

export function createModelSlice(ctx: Context): StateCreator<CausewayState, [], [], ModelSlice> {
  return (set) => ({
    model: initialModel,
    loadModel(source) {
      ctx.loadStartedAt = ctx.now();
      set((s) => ({
        model: {
          ...initialModel,
          status: "loading",
          source,
          progress: { phase: "start", done: 0, total: 1 },
        },
        // Predictions of the previous model no longer apply.
        predict: { ...s.predict, result: null, resultPrompt: null, error: null, ms: null },
      }));
      if (!ctx.port) {
        set((s) => ({
          model: {
            ...s.model,
            status: "error",
            error: { code: "worker_failed", message: "The model worker is not running" },
          },
        }));
        return;
      }
      ctx.port.load(source);
    },
  });
}
