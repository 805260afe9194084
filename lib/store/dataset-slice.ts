/** Dataset slice: causal traces averaged over the bundled known facts (ROME's Figure 2). */
import type { StateCreator } from "zustand/vanilla";
import type { FromWorker } from "../protocol";
import type { Context } from "./context";
import { applyRunMessage, IDLE_RUN, startRun } from "./run";
import type { CausewayState, DatasetSlice } from "./types";

export function initialDataset(): DatasetSlice["dataset"] {
  return {
    settings: { samples: 3, limit: 40, kinds: ["hidden", "mlp", "attn"] },
    run: IDLE_RUN,
    result: null,
  };
}

export function reduceDataset(
  dataset: DatasetSlice["dataset"],
  msg: FromWorker,
): DatasetSlice["dataset"] {
  if (msg.reqId !== dataset.run.reqId) return dataset;
  if (msg.type === "dataset") return { ...dataset, result: msg.result };
  const run = applyRunMessage(dataset.run, msg);
  return run === dataset.run ? dataset : { ...dataset, run };
}

export function createDatasetSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], DatasetSlice> {
  return (set, get) => ({
    dataset: initialDataset(),
    setDatasetSettings(p) {
      set((s) => ({ dataset: { ...s.dataset, settings: { ...s.dataset.settings, ...p } } }));
    },
    runDataset() {
      const s = get();
      if (s.model.status !== "ready" || !ctx.port) return;
      const { samples, limit, kinds } = s.dataset.settings;
      if (kinds.length === 0) return;
      set((s2) => ({ dataset: { ...s2.dataset, result: null } }));
      startRun(ctx, set, "dataset", { type: "dataset", kinds: [...kinds], samples, limit });
    },
  });
}
