/**
 * The model worker: a table from request type to lane (./lane.ts, the one request lifecycle).
 * All model code lives in lib/; nothing here touches tensors.
 *
 * Turbopack runs this file as a classic script: no top-level await, no import.meta.
 * Rules: the latest request of each type wins (stale answers are never posted), a `cancel`
 * goes to the lane that knows its reqId, and every failure becomes an `error` answer — the
 * worker itself never dies.
 */
import "../lib/model/backends-browser";
import { idbMomentStore } from "../lib/edit/cov-cache-idb";
import { type EditDataset, parseEditDataset } from "../lib/edit/dataset";
import { type KnownFact, parseKnownFacts } from "../lib/interp/dataset";
import { MAX_DATASET_BYTES } from "../lib/load/limits";
import { fetchCapped } from "../lib/load/url-source";
import type { FromWorker, RequestOf, RequestType, ToWorker } from "../lib/protocol";
import { abscLane } from "./absc-job";
import { consistencyLane } from "./consistency-job";
import { EditLane } from "./edit-lane";
import { GenerateJobs } from "./generate-job";
import { headsLane } from "./heads-job";
import { RunLane, SideJobs } from "./jobs";
import { errorMessage, WorkerError } from "./lane";
import { readoutLanes } from "./lens-job";
import { Loader } from "./load";
import { attentionLane, predictLane, tokenizeLane } from "./model-requests";

const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(msg: FromWorker, transfer?: Transferable[]): void {
  if (transfer && transfer.length > 0) scope.postMessage(msg, transfer);
  else scope.postMessage(msg);
}

/** Side requests holding tensors (predict, attention, learning): runs count tensors when none is. */
const side = new SideJobs();

const loader: Loader = new Loader({
  post,
  origin: scope.location.origin,
  stopAll: () => {
    runs.abortAll();
    abscJobs.abortAll(); // a long ABSC run must not hold the new model back
  },
  quiet: async () => {
    await runs.idle();
    await side.quiet();
  },
  resetEdits: () => edits.reset(),
});
const engine = () => loader.engine();

/** The model's dataset.json, fetched once per model folder (hub and local files have none). */
function cachedJson<T>(parse: (r: Response) => Promise<T>): () => Promise<T> {
  let cache: { url: string; data: Promise<T> } | null = null;
  return () => {
    const base = loader.baseUrl();
    if (!base) return Promise.reject(new WorkerError("no_dataset", NO_DATASET));
    const url = new URL("dataset.json", base).href;
    if (cache?.url !== url) {
      // bounded like the model's files: a foreign folder's endless dataset.json must stop
      const data = fetchCapped(url, { maxBytes: MAX_DATASET_BYTES }).then(parse);
      const entry = { url, data };
      data.catch(() => {
        if (cache === entry) cache = null;
      });
      cache = entry;
    }
    return cache.data;
  };
}

const NO_DATASET =
  "This model has no bundled dataset.json (hub and local-file models carry none); drop a known-facts file instead";

const knownFacts = cachedJson<KnownFact[]>(async (r) => {
  if (!r.ok) {
    throw new WorkerError(
      "no_dataset",
      `This model has no dataset.json (HTTP ${r.status}); drop a known-facts file instead`,
    );
  }
  return parseKnownFacts(await r.json(), "dataset.json");
});
const editData = cachedJson<EditDataset | undefined>(async (r) =>
  r.ok ? parseEditDataset(await r.json(), "dataset.json") : undefined,
);

const runs: RunLane = new RunLane({
  post,
  engine,
  quiet: () => side.quiet(),
  edited: (e, variant) => edits.edited(e, variant),
  facts: knownFacts,
});

const edits: EditLane = new EditLane({
  post,
  engine,
  // a model without dataset.json edits without one
  dataset: () => (loader.baseUrl() ? editData() : Promise.resolve(undefined)),
  runsIdle: () => runs.idle(),
  side,
  statsStore: idbMomentStore,
});

const generations = new GenerateJobs({
  post,
  engine,
  edited: () => edits.appliedModel(),
  track: (p) => side.track(p),
});

const requests = {
  post,
  engine,
  edited: edits.edited.bind(edits),
  track: <T>(p: Promise<T>) => side.track(p),
};

/** Logit lens, DLA, attribution patching: one at a time, never beside a sweep. */
const readouts = readoutLanes({
  ...requests,
  runsIdle: () => runs.idle(),
  quiet: () => side.quiet(),
});

const abscJobs = abscLane({ ...requests, dataset: editData });

/** Every request type → what runs it and what cancels it. */
type LaneOf<T extends RequestType> = {
  submit(msg: RequestOf<T>): unknown;
  cancel(reqId: number): boolean;
};
const lanes: { [T in RequestType]: LaneOf<T> } = {
  load: loader,
  predict: predictLane(requests),
  run: runs,
  attention: attentionLane(requests),
  heads: headsLane(requests),
  tokenize: tokenizeLane(requests),
  generate: generations,
  setEdits: edits,
  evalEdit: edits.lanes.evalEdit,
  probeHeads: edits.lanes.probeHeads,
  alphaCurve: edits.lanes.alphaCurve,
  consistency: consistencyLane({ ...requests, dataset: editData }),
  absc: abscJobs,
  batchEdit: edits.lanes.batchEdit,
  batchMethods: edits.lanes.batchMethods,
  lens: readouts.lens,
  dla: readouts.dla,
  attrib: readouts.attrib,
};

function submit(msg: Exclude<ToWorker, { type: "cancel" }>): void {
  const lane = lanes[msg.type] as LaneOf<typeof msg.type> | undefined;
  if (!lane) {
    throw new WorkerError("bad_request", `Unknown request type ${String(msg.type)}`);
  }
  void lane.submit(msg as never);
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    if (msg.type === "cancel") {
      Object.values(lanes).some((lane) => lane.cancel(msg.reqId));
    } else {
      submit(msg);
    }
  } catch (e) {
    post(errorMessage(typeof msg?.reqId === "number" ? msg.reqId : -1, e));
  }
};

// Anything that escapes is logged, never fatal.
scope.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  console.error("model worker: unhandled rejection", ev.reason);
});
