/**
 * The model worker: a message switch that turns ToWorker requests into engine calls and engine
 * results into FromWorker answers. All model code lives in lib/; nothing here touches tensors.
 *
 * Turbopack runs this file as a classic script: no top-level await, no import.meta.
 * Rules: the latest request of each kind wins (stale answers are never posted), and every
 * failure becomes an `error` message — the worker itself never dies. Sweeps (`run`) go through
 * the RunLane in ./jobs.ts: one at a time, rows transferred, cancel between passes.
 */
import "../lib/model/backends-browser";
import { type EditDataset, parseEditDataset } from "../lib/edit/dataset";
import { Engine } from "../lib/engine";
import { type KnownFact, parseKnownFacts } from "../lib/interp/dataset";
import { LoadError } from "../lib/load/errors";
import { checkMemory, estimateMemory } from "../lib/load/memory-estimate";
import { loadModelFiles } from "../lib/load/model-files";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import type { BackendName, FromWorker, ToWorker } from "../lib/protocol";
import { EditLane } from "./edit-lane";
import { GenerateJobs } from "./generate-job";
import { errorMessage, RunLane, SideJobs } from "./jobs";
import { LoadMeter, meteredSource } from "./load-meter";
import { deviceLimits, resolveSource } from "./load-source";
import { attentionPattern, editedEngine } from "./model-queries";

const BACKEND_ORDER: BackendName[] = ["webgpu", "webgl", "wasm", "cpu"];

const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(msg: FromWorker, transfer?: Transferable[]): void {
  if (transfer && transfer.length > 0) scope.postMessage(msg, transfer);
  else scope.postMessage(msg);
}

/** An error raised here (not in lib/), with a code for the UI. */
class WorkerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `{code, message}` for any thrown value: EngineError/LoadError carry a code, others are internal. */
const errorFor = errorMessage;

// ── load ────────────────────────────────────────────────────────────────────────────────────

let latestLoad = 0;
/** The engine of the most recent load request (null if it failed). */
let engine: Promise<Engine | null> | null = null;
/** Base URL of the most recent model (its dataset.json, if any, lives there). */
let modelBaseUrl: string | null = null;
/** The load whose download is in flight: a `cancel` with its reqId aborts it. */
let loadAbort: { reqId: number; controller: AbortController } | null = null;
let factsCache: { url: string; facts: Promise<KnownFact[]> } | null = null;

/** Side requests holding tensors (predict, attention): runs count tensors when none is. */
const side = new SideJobs();

const runs: RunLane = new RunLane({
  post,
  engine: () => engine ?? Promise.resolve(null),
  quiet: () => side.quiet(),
  edited: (e, variant) => edits.edited(e, variant),
  facts: () => {
    const base = modelBaseUrl;
    if (!base) {
      // Hub and local-file models have no folder URL to look for dataset.json in.
      return Promise.reject(
        new WorkerError(
          "no_dataset",
          "This model has no bundled dataset.json (hub and local-file models carry none); drop a known-facts file instead",
        ),
      );
    }
    const url = new URL("dataset.json", base).href;
    if (factsCache?.url !== url) {
      const facts = fetch(url).then(async (r) => {
        if (!r.ok) {
          throw new WorkerError(
            "no_dataset",
            `This model has no dataset.json (HTTP ${r.status}); drop a known-facts file instead`,
          );
        }
        return parseKnownFacts(await r.json(), "dataset.json");
      });
      facts.catch(() => {
        if (factsCache?.facts === facts) factsCache = null;
      });
      factsCache = { url, facts };
    }
    return factsCache.facts;
  },
});

// ── the edit stack (./edit-lane.ts) ───────────────────────────────────────────────────────────

let editDatasetCache: { url: string; data: Promise<EditDataset | undefined> } | null = null;

/** The model's dataset.json for editing (prompt sets, general text); undefined when it has none. */
function editDataset(): Promise<EditDataset | undefined> {
  const base = modelBaseUrl;
  if (!base) return Promise.resolve(undefined);
  const url = new URL("dataset.json", base).href;
  if (editDatasetCache?.url !== url) {
    const data = fetch(url).then(async (r) =>
      r.ok ? parseEditDataset(await r.json(), "dataset.json") : undefined,
    );
    data.catch(() => {
      if (editDatasetCache?.data === data) editDatasetCache = null;
    });
    editDatasetCache = { url, data };
  }
  return editDatasetCache.data;
}

const edits: EditLane = new EditLane({
  post,
  engine: () => engine ?? Promise.resolve(null),
  dataset: editDataset,
  runsIdle: () => runs.idle(),
  side,
});

function handleLoad(msg: Extract<ToWorker, { type: "load" }>): void {
  const { reqId } = msg;
  latestLoad = reqId;
  loadAbort?.controller.abort(); // a newer load replaces a download still in flight
  const controller = new AbortController();
  loadAbort = { reqId, controller };
  const previous = engine;
  const previousBaseUrl = modelBaseUrl;
  const meter = new LoadMeter(reqId, post, () => reqId === latestLoad);
  const onProgress = (phase: string, done: number, total: number) =>
    meter.phase(phase, done, total);
  // A sweep on the old model stops now (silently: its requester is gone with the model).
  runs.abortAll();
  let order = msg.backends ?? BACKEND_ORDER;
  /** Set once the previous model is freed: from then on a cancel cannot bring it back. */
  let swapped = false;
  const loading = (async () => {
    const { name, source, baseUrl } = resolveSource(
      msg.source,
      scope.location.origin,
      controller.signal,
    );
    modelBaseUrl = baseUrl;
    // 1. Download and decode (host memory only) while the previous model stays usable, so a
    //    cancelled download leaves it loaded. The memory check runs before the weights download.
    const files = await loadModelFiles(meteredSource(source, meter), onProgress, async (config) => {
      const verdict = checkMemory(estimateMemory(config), await deviceLimits(order));
      if (verdict.level === "refuse") {
        throw new LoadError(
          "too_large",
          name,
          `is too large for this device: ${verdict.reasons.join("; ")}`,
        );
      }
      if (verdict.level === "warn") meter.note = verdict.reasons.join("; ");
    });
    if (controller.signal.aborted) throw new LoadError("cancelled", name, "loading was cancelled");
    if (loadAbort?.reqId === reqId) loadAbort = null;
    // 2. One model at a time: free the previous one once no sweep or side request uses it.
    const old = previous ? await previous : null;
    await runs.idle();
    await side.quiet();
    old?.dispose();
    edits.reset(); // the stack's weight deltas belong to the old model
    swapped = true;
    // Try the backends in order; a backend that starts but then fails to run the model (a GPU
    // driver problem, not a bad file) hands over to the next one.
    const failures: string[] = [];
    for (;;) {
      onProgress("backend", 0, 1);
      let selected: Awaited<ReturnType<typeof selectBackend>>;
      try {
        selected = await selectBackend(order);
      } catch (e) {
        const tried = failures.length > 0 ? ` (after ${failures.join("; ")})` : "";
        throw new WorkerError("no_backend", `${errorText(e)}${tried}`);
      }
      try {
        onProgress("upload", 0, 1);
        const model = Gpt2Model.fromWeights(files.config, files.weights);
        onProgress("upload", 1, 1);
        return { loaded: Engine.fromModel(name, model, files.tokenizer), ...selected };
      } catch (e) {
        if (reqId !== latestLoad) throw e;
        failures.push(`${selected.backend}: ${errorText(e)}`);
        order = order.slice(order.indexOf(selected.backend) + 1);
        if (order.length === 0) throw e;
        console.warn(
          `model worker: ${selected.backend} failed (${errorText(e)}); trying ${order[0]}`,
        );
      }
    }
  })();
  // A load that fails before the swap (cancelled, bad file, too large) leaves the previous model
  // loaded and current: the next load frees it.
  engine = loading.then(
    (r) => r.loaded,
    () => (swapped ? null : previous),
  );
  loading.then(
    ({ loaded, backend, adapter }) => {
      if (reqId === latestLoad)
        post({ type: "ready", reqId, backend, adapter, model: loaded.info });
    },
    (e: unknown) => {
      if (loadAbort?.reqId === reqId) loadAbort = null;
      if (!swapped && reqId === latestLoad) modelBaseUrl = previousBaseUrl;
      if (e instanceof LoadError && e.code === "cancelled" && !swapped && reqId === latestLoad) {
        void (previous ?? Promise.resolve(null)).then((p) => {
          if (reqId !== latestLoad) return;
          const kept = p ? `; ${p.info.name} is still loaded` : "";
          post({
            type: "error",
            reqId,
            code: "cancelled",
            message: `Loading was cancelled${kept}`,
          });
        });
        return;
      }
      if (reqId === latestLoad) post(errorFor(reqId, e));
    },
  );
}

/** Text generation, original and edited side by side (workers/generate-job.ts). */
const generations = new GenerateJobs({
  post,
  engine: () => engine ?? Promise.resolve(null),
  edited: () => edits.appliedModel(),
  track: (p) => side.track(p),
});

// ── predict: one at a time, latest wins ────────────────────────────────────────────────────────

type PredictMsg = Extract<ToWorker, { type: "predict" }>;
let latestPredict = 0;
let pending: PredictMsg | null = null;
let busy = false;

function handlePredict(msg: PredictMsg): void {
  latestPredict = msg.reqId;
  pending = msg; // replaces any queued request: only the newest is worth computing
  if (!busy) void drain();
}

async function drain(): Promise<void> {
  busy = true;
  try {
    while (pending) {
      const msg = pending;
      pending = null;
      await runPredict(msg);
    }
  } finally {
    busy = false;
  }
}

async function runPredict(msg: PredictMsg): Promise<void> {
  const { reqId } = msg;
  try {
    const current = engine ? await engine : null;
    if (reqId !== latestPredict) return;
    if (!current) {
      post({ type: "error", reqId, code: "no_model", message: "No model is loaded" });
      return;
    }
    const t0 = performance.now();
    const edited = edits.edited(current, msg.variant);
    const on = edited ? editedEngine(current, edited, msg.prompt) : current;
    const prediction = await side.track(on.predict(msg.prompt, msg.topK));
    // beside an edited prediction, the original one (for the side-by-side bars)
    const original = edited ? await side.track(current.predict(msg.prompt, msg.topK)) : undefined;
    const ms = performance.now() - t0;
    if (reqId !== latestPredict) return; // a newer prompt arrived while this one ran
    post({ type: "prediction", reqId, prediction, ...(original ? { original } : {}), ms });
    post({ type: "done", reqId, ms, tensorsLeft: current.tensorsInUse() });
  } catch (e) {
    if (reqId === latestPredict) post(errorFor(reqId, e));
  }
}

// ── attention patterns and tokenization: small side requests, latest wins per kind ───────────

let latestAttention = 0;

async function handleAttention(msg: Extract<ToWorker, { type: "attention" }>): Promise<void> {
  const { reqId } = msg;
  latestAttention = reqId;
  try {
    const current = engine ? await engine : null;
    if (reqId !== latestAttention) return;
    if (!current) {
      post({ type: "error", reqId, code: "no_model", message: "No model is loaded" });
      return;
    }
    const t0 = performance.now();
    const edited = edits.edited(current, msg.variant);
    const on = edited ? editedEngine(current, edited, msg.prompt) : current;
    const { tokens, pattern } = await side.track(
      attentionPattern(on, msg.prompt, msg.layer, msg.head),
    );
    if (reqId !== latestAttention) return;
    post({ type: "attention", reqId, layer: msg.layer, head: msg.head, tokens, pattern }, [
      pattern.buffer,
    ]);
    post({ type: "done", reqId, ms: performance.now() - t0, tensorsLeft: current.tensorsInUse() });
  } catch (e) {
    if (reqId === latestAttention) post(errorFor(reqId, e));
  }
}

let latestTokenize = 0;

async function handleTokenize(msg: Extract<ToWorker, { type: "tokenize" }>): Promise<void> {
  const { reqId } = msg;
  latestTokenize = reqId;
  try {
    const current = engine ? await engine : null;
    if (reqId !== latestTokenize) return;
    if (!current) {
      post({ type: "error", reqId, code: "no_model", message: "No model is loaded" });
      return;
    }
    post({ type: "tokens", reqId, items: msg.texts.map((t) => current.tokenize(t)) });
  } catch (e) {
    if (reqId === latestTokenize) post(errorFor(reqId, e));
  }
}

function handleCancel(reqId: number): void {
  if (loadAbort?.reqId === reqId) {
    loadAbort.controller.abort();
    return;
  }
  if (runs.cancel(reqId)) return;
  if (generations.cancel(reqId)) return;
  if (edits.cancel(reqId)) return;
  if (reqId === latestPredict) {
    latestPredict = 0;
    pending = null;
  }
}

// ── the switch ─────────────────────────────────────────────────────────────────────────────

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    switch (msg.type) {
      case "load":
        handleLoad(msg);
        break;
      case "predict":
        handlePredict(msg);
        break;
      case "run":
        runs.submit(msg);
        break;
      case "attention":
        void handleAttention(msg);
        break;
      case "tokenize":
        void handleTokenize(msg);
        break;
      case "generate":
        void generations.submit(msg);
        break;
      case "setEdits":
        edits.submit(msg);
        break;
      case "evalEdit":
        edits.evaluate(msg);
        break;
      case "probeHeads":
        edits.probe(msg);
        break;
      case "alphaCurve":
        edits.curve(msg);
        break;
      case "cancel":
        handleCancel(msg.reqId);
        break;
      default: {
        const unknown = msg as { type?: unknown; reqId?: unknown };
        const reqId = typeof unknown.reqId === "number" ? unknown.reqId : -1;
        post({
          type: "error",
          reqId,
          code: "bad_request",
          message: `Unknown request type ${String(unknown.type)}`,
        });
      }
    }
  } catch (e) {
    post(errorFor(typeof msg?.reqId === "number" ? msg.reqId : -1, e));
  }
};

// Anything that escapes is logged, never fatal.
scope.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  console.error("model worker: unhandled rejection", ev.reason);
});
