/**
 * The `consistency` lane: the semantic-consistency recipe (lib/edit/consistency-run.ts) on the
 * loaded model without edits and its dataset.json — the same function `causeway consistency`
 * runs, so a seed gives the CLI's numbers. Answers `consistency {run}` then `done`; the head
 * form turns the run's edit into a stack entry when asked.
 */
import { type ConsistencyRequest, consistencyOptions } from "../lib/edit/consistency-request";
import { runConsistency } from "../lib/edit/consistency-run";
import type { EditDataset } from "../lib/edit/dataset";
import type { RequestOf } from "../lib/protocol";
import { now } from "../lib/util/clock";
import { Lane, requireEngine, WorkerError } from "./lane";
import type { RequestHost } from "./model-requests";

export function consistencyLane(
  host: Omit<RequestHost, "edited"> & { dataset(): Promise<EditDataset | undefined> },
): Lane<RequestOf<"consistency">> {
  return new Lane({
    post: host.post,
    run: async ({ reqId, msg, post }) => {
      const engine = requireEngine(await host.engine());
      const options = consistencyOptions(msg.request as ConsistencyRequest);
      if ("error" in options) throw new WorkerError("bad_request", options.error);
      const dataset = await host.dataset().catch(() => undefined);
      if (!dataset) {
        throw new WorkerError(
          "no_dataset",
          "The consistency recipe needs the model's dataset.json (relations and known facts); models from the hub or local files carry none",
        );
      }
      const t0 = now();
      const run = await host.track(
        runConsistency(engine.model, engine.tokenizer, dataset, {
          ...options,
          onProgress: (p) => post({ type: "progress", request: "consistency", reqId, ...p }),
        }),
      );
      post({ type: "consistency", reqId, run });
      post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
    },
  });
}
