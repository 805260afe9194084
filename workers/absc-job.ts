/**
 * The `absc` lane: the ABSC recipe (lib/edit/absc-train.ts runAbscMethod) on the loaded model
 * without edits and its dataset.json — the function and order `causeway absc` runs, so the same
 * settings and seed give the CLI's numbers. Each method's row is posted as soon as it is scored
 * (`absc {row}`, with the edits that apply it), so a cancelled or failed run keeps the rows
 * before it; progress per method and step. Mode "facts" answers the in-domain test reviews as
 * known facts (`abscFacts`) for the Dataset panel's trace, the locate study of `causeway absc
 * --locate`.
 */

import { abscKnownFacts, abscSample, abscSplits } from "../lib/edit/absc-data";
import { abscEdits } from "../lib/edit/absc-edits";
import { checkAbscRequest } from "../lib/edit/absc-request";
import { type AbscResult, runAbscMethod } from "../lib/edit/absc-train";
import type { EditDataset } from "../lib/edit/dataset";
import type { RequestOf } from "../lib/protocol";
import { now } from "../lib/util/clock";
import { Lane, requireEngine, WorkerError } from "./lane";
import type { RequestHost } from "./model-requests";

export function abscLane(
  host: Omit<RequestHost, "edited"> & { dataset(): Promise<EditDataset | undefined> },
): Lane<RequestOf<"absc">> {
  return new Lane({
    post: host.post,
    run: async ({ reqId, msg, post, signal }) => {
      const engine = requireEngine(await host.engine());
      const { nLayer } = engine.model.config;
      const checked = checkAbscRequest(msg.request, nLayer);
      if ("error" in checked) throw new WorkerError("bad_request", checked.error);
      const dataset = await host.dataset().catch(() => undefined);
      if (!dataset) {
        throw new WorkerError(
          "no_dataset",
          "The ABSC recipe needs the model's dataset.json (absc_domains); models from the hub or local files carry none",
        );
      }
      const splits = abscSplits(dataset); // EditError bad_dataset, in words, when it has no reviews
      const t0 = now();
      const req = checked.request;
      if (req.mode === "facts") {
        const t = splits.tests[0];
        post({
          type: "abscFacts",
          reqId,
          domain: t.domain,
          facts: abscKnownFacts(t.reviews),
          labels: splits.labels,
        });
      } else {
        const { methods, mode: _, ...params } = req;
        const rows: AbscResult[] = [];
        const example = abscSample(splits, params).train[0]; // names the lora edit
        for (const [index, method] of methods.entries()) {
          let apply: Awaited<ReturnType<typeof abscEdits>> = { reason: "not trained" };
          const row = await host.track(
            runAbscMethod(engine.model, engine.tokenizer, splits, method, params, {
              before: rows[0]?.splits.map((x) => x.before),
              signal,
              onStep: (s) =>
                post({
                  type: "progress",
                  request: "absc",
                  reqId,
                  phase: "train",
                  method,
                  index,
                  methods: methods.length,
                  done: s.step,
                  total: s.total,
                  loss: s.loss,
                }),
              onTrained: async (v, result) => {
                apply = await abscEdits(v, engine.model.config, {
                  method,
                  rank: params.rank,
                  steps: params.steps,
                  lr: params.lr,
                  seed: params.seed,
                  n_train: params.n_train,
                  example,
                  id: `absc-${method}-${Date.now().toString(36)}`,
                  result,
                });
              },
            }),
          );
          rows.push(row);
          post({ type: "absc", reqId, row: { ...row, apply } });
        }
      }
      post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
    },
  });
}
