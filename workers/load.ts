/**
 * The worker's `load` request: download and decode a model's files while the previous model
 * stays usable, then swap (free the old model once nothing uses it) and start a backend.
 *
 * - A newer load replaces one still downloading (its download is aborted).
 * - Any load that fails before the swap (cancelled, 404, 500, dropped or truncated transfer,
 *   a bad file, too large) keeps the previous model, its edit stack and the requests on it:
 *   the `error` answer names that model in `kept`. Only a failure after the swap (no backend
 *   could run the model) leaves the worker with no model.
 * - Progress: phases config → tokenizer → weights (bytes, speed, ETA) → backend → upload.
 */
import { Engine } from "../lib/engine";
import { errorText } from "../lib/errors";
import { LoadError } from "../lib/load/errors";
import { checkMemory, estimateMemory } from "../lib/load/memory-estimate";
import { loadModelFiles } from "../lib/load/model-files";
import type { selectBackend } from "../lib/model/backend";
import { CalibrationCancelled, chooseBackend } from "../lib/model/backend-choice";
import { Gpt2Model } from "../lib/model/gpt2";
import type {
  BackendName,
  FromWorker,
  KeptModel,
  LoadPhase,
  ModelSource,
  RequestOf,
} from "../lib/protocol";
import { errorMessage, type Post, WorkerError } from "./lane";
import { LoadMeter, meteredSource } from "./load-meter";
import { deviceLimits, resolveSource } from "./load-source";

export const BACKEND_ORDER: BackendName[] = ["webgpu", "webgl", "wasm", "cpu"];

type LoadMsg = RequestOf<"load">;
type Files = Awaited<ReturnType<typeof loadModelFiles>>;
type OnProgress = (phase: LoadPhase, done: number, total: number) => void;

export interface LoaderHost {
  post: Post;
  /** The page's origin (bundled models live under it). */
  origin: string;
  /** Stops every request on the current model, silently (its requesters are gone with it). */
  stopAll(): void;
  /** Resolves once no request uses the current model. */
  quiet(): Promise<void>;
  /** The current model's edit stack is freed with it. */
  resetEdits(): void;
}

export interface Loaded {
  engine: Engine;
  backend: BackendName;
  adapter?: string;
  source: ModelSource;
}

export class Loader {
  private latest = 0;
  /** The model of the most recent load (the previous one while that load downloads). */
  private current: Promise<Loaded | null> = Promise.resolve(null);
  /** Base URL of the current model (its dataset.json, if any, lives there). */
  private base: string | null = null;
  /** The load whose download is in flight: a `cancel` with its reqId aborts it. */
  private download: { reqId: number; controller: AbortController } | null = null;
  /** The latest load's controller: a newer load aborts it (its download or its calibration). */
  private active: AbortController | null = null;

  constructor(private readonly host: LoaderHost) {}

  engine(): Promise<Engine | null> {
    return this.current.then((l) => l?.engine ?? null);
  }

  baseUrl(): string | null {
    return this.base;
  }

  cancel(reqId: number): boolean {
    if (this.download?.reqId !== reqId) return false;
    this.download.controller.abort();
    return true;
  }

  submit(msg: LoadMsg): void {
    const { reqId } = msg;
    this.latest = reqId;
    this.active?.abort(); // a newer load replaces a download or a calibration still in flight
    const controller = new AbortController();
    this.active = controller;
    this.download = { reqId, controller };
    const previous = this.current;
    const previousBase = this.base;
    const live = () => reqId === this.latest;
    const meter = new LoadMeter(reqId, this.host.post, live);
    const onProgress: OnProgress = (phase, done, total) => meter.phase(phase, done, total);
    this.host.stopAll();
    /** Set once the previous model is freed: from then on a failure cannot bring it back. */
    let swapped = false;
    const loading = (async (): Promise<Loaded> => {
      const { name, source, baseUrl } = resolveSource(
        msg.source,
        this.host.origin,
        controller.signal,
      );
      this.base = baseUrl;
      const order = msg.backends ?? BACKEND_ORDER;
      const files = await downloadFiles({
        name,
        order,
        meter,
        onProgress,
        source: meteredSource(source, meter),
      });
      if (controller.signal.aborted)
        throw new LoadError("cancelled", name, "loading was cancelled");
      if (this.download?.reqId === reqId) this.download = null;
      await this.freeModel(previous);
      swapped = true;
      const started = await startModel({
        name,
        files,
        order,
        onProgress,
        live,
        signal: controller.signal,
      });
      return { ...started, source: msg.source };
    })();
    // A load that fails before the swap leaves the previous model loaded and current.
    this.current = loading.then(
      (r) => r,
      () => (swapped ? null : previous),
    );
    loading.then(
      ({ engine, backend, adapter }) => {
        if (live()) this.host.post({ type: "load", reqId, backend, adapter, model: engine.info });
      },
      async (e: unknown) => {
        if (this.download?.reqId === reqId) this.download = null;
        if (!live()) return;
        if (swapped) {
          this.host.post(errorMessage(reqId, e));
          return;
        }
        this.base = previousBase;
        const kept = await previous;
        if (live()) this.host.post(failedLoad(reqId, e, kept));
      },
    );
  }

  /** One model at a time: frees the previous one once no sweep or side request uses it. */
  private async freeModel(previous: Promise<Loaded | null>): Promise<void> {
    const old = await previous;
    await this.host.quiet();
    old?.engine.dispose();
    this.host.resetEdits(); // the stack's weight deltas belong to the old model
  }
}

/** The answer to a load that failed before the swap: the previous model (if any) stays. */
function failedLoad(reqId: number, e: unknown, previous: Loaded | null): FromWorker {
  const kept: KeptModel | null = previous
    ? {
        source: previous.source,
        backend: previous.backend,
        ...(previous.adapter ? { adapter: previous.adapter } : {}),
        model: previous.engine.info,
      }
    : null;
  const still = kept ? `; ${kept.model.name} is still loaded` : "";
  const cancelled = e instanceof LoadError && e.code === "cancelled";
  const err = errorMessage(reqId, e);
  if (err.type !== "error") return err;
  const message = cancelled ? `Loading was cancelled${still}` : `${err.message}${still}`;
  return { ...err, message, kept };
}

/** Downloads and decodes the files (host memory only); the memory check runs before the weights. */
async function downloadFiles(o: {
  name: string;
  order: BackendName[];
  source: Parameters<typeof loadModelFiles>[0];
  meter: LoadMeter;
  onProgress: OnProgress;
}): Promise<Files> {
  return loadModelFiles(
    o.source,
    o.onProgress as (p: string, d: number, t: number) => void,
    async (config) => {
      const verdict = checkMemory(estimateMemory(config), await deviceLimits(o.order));
      if (verdict.level === "refuse") {
        throw new LoadError(
          "too_large",
          o.name,
          `is too large for this device: ${verdict.reasons.join("; ")}`,
        );
      }
      if (verdict.level === "warn") o.meter.note = verdict.reasons.join("; ");
    },
  );
}

/**
 * Chooses the backend and uploads the weights: the one place where a backend is chosen. The
 * backends are tried in order; one that starts but then fails to run the model (a GPU driver
 * problem, not a bad file) hands over to the next.
 */
async function startModel(o: {
  name: string;
  files: Files;
  order: BackendName[];
  onProgress: OnProgress;
  live: () => boolean;
  signal: AbortSignal;
}): Promise<Omit<Loaded, "source">> {
  let order = o.order;
  const failures: string[] = [];
  for (;;) {
    o.onProgress("backend", 0, 1);
    let selected: Awaited<ReturnType<typeof selectBackend>>;
    try {
      // measured (cancelled by a newer load), cached per device and shape
      selected = await chooseBackend(order, { ...o.files, signal: o.signal });
    } catch (e) {
      if (e instanceof CalibrationCancelled)
        throw new LoadError("cancelled", o.name, "loading was cancelled");
      const tried = failures.length > 0 ? ` (after ${failures.join("; ")})` : "";
      throw new WorkerError("no_backend", `${errorText(e)}${tried}`);
    }
    try {
      o.onProgress("upload", 0, 1);
      const model = Gpt2Model.fromWeights(o.files.config, o.files.weights);
      o.onProgress("upload", 1, 1);
      return { engine: Engine.fromModel(o.name, model, o.files.tokenizer), ...selected };
    } catch (e) {
      if (!o.live()) throw e;
      failures.push(`${selected.backend}: ${errorText(e)}`);
      order = order.slice(order.indexOf(selected.backend) + 1);
      if (order.length === 0) throw e;
      console.warn(
        `model worker: ${selected.backend} failed (${errorText(e)}); trying ${order[0]}`,
      );
    }
  }
}
