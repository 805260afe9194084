/**
 * Backend choice by measurement (the worker's load path). Given the allowed backends in
 * preference order:
 *
 * - one backend (the user's override): use it, as selectBackend would (wasm on as many threads
 *   as it can);
 * - several: skip GPU backends whose adapter is a software one (a fallback adapter, SwiftShader,
 *   llvmpipe, …: an emulated GPU on the CPU, always slower than wasm), and cpu when wasm is
 *   there; wasm counts twice where its threaded build can run (cross-origin isolated: threaded
 *   and single-threaded; models narrower than THREADS_MIN_WIDTH are not tried on threads). If
 *   one candidate is left, use it; otherwise time a short calibration pass of the loaded model
 *   on each candidate (one untimed warm-up for shader compilation, then the best of two timed
 *   passes), pick the fastest and remember it per device and model shape (Cache Storage, so
 *   that the page can show it and the next load skips the measurement).
 * - `signal` cancels the calibration (a newer load): it stops between passes, frees its model
 *   and remembers nothing.
 *
 *   const { backend, threads, choice } = await chooseBackend(order, { config, weights, signal });
 *   choice.timings  // [{ backend: "webgpu", skipped: "software adapter (google swiftshader)" }, …]
 */
import type { Gpt2Config } from "../load/types";
import type { BackendName } from "../protocol";
import { type SelectedBackend, selectBackend } from "./backend";
import { Gpt2Model, type ModelWeights } from "./gpt2";
import { probeGpu } from "./gpu-probe";
import { startWasm, threadsBroken, wasmThreadsAvailable } from "./wasm-threads";

export interface BackendTiming {
  backend: BackendName;
  /** wasm: the threads it ran on (absent: one). */
  threads?: number;
  /** Best timed calibration pass, ms (absent when skipped). */
  ms?: number;
  /** Why it was not measured (software adapter, failed to start, …). */
  skipped?: string;
}

export interface BackendChoice {
  chosen: BackendName;
  /** wasm: the threads it runs on (absent: one). */
  threads?: number;
  /** measured now; cached from an earlier measurement; the user's override; the only candidate. */
  how: "measured" | "cached" | "override" | "only";
  timings: BackendTiming[];
  /** Device and model shape the choice is remembered under. */
  key: string;
  /** The calibration input: batch × tokens. */
  pass?: string;
  /** Something the user should know (the threaded build failed, so one thread). */
  note?: string;
  at: number;
}

export interface ChoiceStore {
  get(key: string): Promise<BackendChoice | null>;
  put(choice: BackendChoice): Promise<void>;
}

export interface ChooseOptions {
  config: Gpt2Config;
  weights: ModelWeights;
  /** Where measurements are remembered; default Cache Storage where it exists, else nowhere. */
  store?: ChoiceStore | null;
  /** Measure cpu too (tests: Node has no second fast backend); default false. */
  measureCpu?: boolean;
  /** Cancels the calibration (the promise rejects with a "cancelled" error). */
  signal?: AbortSignal;
  /** Called as each candidate's calibration starts (progress, tests). */
  onCalibrate?: (c: Candidate) => void;
}

/** A backend to measure: wasm also by its thread count. */
export interface Candidate {
  backend: BackendName;
  threads?: number;
}

export type ChosenBackend = SelectedBackend & { threads?: number; choice: BackendChoice };

/**
 * Narrower models are not measured on threads: their passes are hundreds of tiny kernels, which
 * threads only slow down (the bundled 128-wide model: 484 ms on 2 threads against 85 ms on one,
 * docs/benchmarks.md), and the measurement would cost every first load a second wasm start.
 */
const THREADS_MIN_WIDTH = 256;

/** Calibration input: a small batch, like a trace pass on a short prompt. */
const CAL_BATCH = 2;
const CAL_TOKENS = 8;

/** What `chooseBackend` rejects with when its signal aborts. */
export class CalibrationCancelled extends Error {
  readonly code = "cancelled";
  constructor() {
    super("backend calibration was cancelled");
  }
}

export async function chooseBackend(
  order: readonly BackendName[],
  opts: ChooseOptions,
): Promise<ChosenBackend> {
  const at = Date.now();
  const store = opts.store === undefined ? cacheStorageChoices() : opts.store;
  const put = async (choice: BackendChoice) => {
    checkAborted(opts.signal);
    await store?.put(choice).catch(() => {});
  };
  if (order.length <= 1) {
    const only = order.length === 1 ? order[0] : null;
    if (!only) await selectBackend(order); // throws: nothing to start
    const sel = await start({ backend: only ?? "wasm", threads: wasmThreadsAvailable() }, order);
    const choice: BackendChoice = { ...chosen(sel), how: "override", timings: [], key: "", at };
    await put(choice);
    return { ...sel, choice };
  }
  const gpu = await probeGpu(order);
  checkAborted(opts.signal);
  const timings: BackendTiming[] = [];
  const candidates: Candidate[] = [];
  const threads = wasmThreadsAvailable();
  for (const b of order) {
    const soft = b === "webgpu" || b === "webgl" ? gpu[b] : undefined;
    if (soft?.unavailable) timings.push({ backend: b, skipped: soft.unavailable });
    else if (soft?.software)
      timings.push({ backend: b, skipped: `software adapter (${soft.name})` });
    else if (b === "cpu" && order.includes("wasm") && !opts.measureCpu)
      timings.push({ backend: b, skipped: "wasm is faster" });
    else if (b === "wasm" && threads > 1 && opts.config.dModel < THREADS_MIN_WIDTH) {
      const why = `model too narrow for threads (width ${opts.config.dModel} < ${THREADS_MIN_WIDTH})`;
      timings.push({ backend: b, threads, skipped: why });
      candidates.push({ backend: b });
    } else if (b === "wasm" && threads > 1)
      candidates.push({ backend: b, threads }, { backend: b });
    else candidates.push({ backend: b });
  }
  const key = choiceKey(opts.config, gpu.webgpu?.name, gpu.webgl?.name);
  if (candidates.length <= 1) {
    const sel = await start(candidates[0] ?? { backend: order[0] }, order);
    const choice: BackendChoice = { ...chosen(sel), how: "only", timings, key, at };
    await put(choice);
    return { ...sel, choice };
  }
  const cached = await store?.get(key).catch(() => null);
  checkAborted(opts.signal);
  const hit = cached && candidates.find((c) => same(c, { backend: cached.chosen, ...cached }));
  if (cached && hit) {
    const sel = await start(hit, order);
    return { ...sel, choice: { ...cached, ...chosen(sel), how: "cached" } };
  }
  for (const c of candidates) {
    checkAborted(opts.signal);
    opts.onCalibrate?.(c);
    timings.push(await calibrate(c, opts));
  }
  const measured = timings.filter((t): t is BackendTiming & { ms: number } => t.ms !== undefined);
  measured.sort((a, b) => a.ms - b.ms);
  const best = measured[0] ?? candidates[candidates.length - 1];
  const sel = await start(best, order);
  const choice: BackendChoice = {
    ...chosen(sel),
    how: "measured",
    timings,
    key,
    pass: `${CAL_BATCH} × ${CAL_TOKENS} tokens`,
    at,
  };
  await put(choice);
  return { ...sel, choice };
}

/** Starts a candidate (wasm on its threads, falling back to one), else the next in `order`. */
async function start(
  c: Candidate,
  order: readonly BackendName[],
): Promise<SelectedBackend & { threads?: number; note?: string }> {
  if (c.backend === "wasm") {
    const w = await startWasm(c.threads ?? 1).catch(() => null);
    if (w) return w;
  }
  return selectBackend([c.backend, ...order.filter((b) => b !== c.backend)]);
}

/** The chosen backend's fields of a choice. */
function chosen(sel: SelectedBackend & { threads?: number; note?: string }) {
  const note = sel.note ?? (threadsBroken() ? `threads off: ${threadsBroken()}` : undefined);
  return {
    chosen: sel.backend,
    ...(sel.threads && sel.threads > 1 ? { threads: sel.threads } : {}),
    ...(note ? { note } : {}),
  };
}

const same = (a: Candidate, b: Candidate) =>
  a.backend === b.backend && (a.threads ?? 1) === (b.threads ?? 1);

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CalibrationCancelled();
}

/** Times the model on one candidate: upload, an untimed warm-up, then the best of two passes. */
async function calibrate(c: Candidate, opts: ChooseOptions): Promise<BackendTiming> {
  const { backend } = c;
  const label = c.threads && c.threads > 1 ? { backend, threads: c.threads } : { backend };
  const started = await start(c, [backend]).catch((e: unknown) => e);
  if (started instanceof Error || (started as SelectedBackend).backend !== backend) {
    return { ...label, skipped: "failed to start" };
  }
  const { note, threads = 1 } = started as { note?: string; threads?: number };
  if (note) return { ...label, skipped: note };
  if (threads !== (c.threads ?? 1)) return { ...label, skipped: "its build could not start now" };
  let model: Gpt2Model | null = null;
  try {
    model = Gpt2Model.fromWeights(opts.config, opts.weights);
    const T = Math.min(CAL_TOKENS, opts.config.nCtx);
    const ids = Array.from({ length: CAL_BATCH }, (_, r) =>
      Array.from({ length: T }, (_, i) => (r * T + i) % opts.config.vocabSize),
    );
    const pass = async () => {
      checkAborted(opts.signal);
      const t0 = performance.now();
      const { logits } = model!.forward({ inputIds: ids, logitPositions: "last" });
      await logits.data();
      logits.dispose();
      return performance.now() - t0;
    };
    await pass(); // shader compilation, XNNPACK packing
    const ms = Math.min(await pass(), await pass());
    return { ...label, ms: Math.round(ms * 10) / 10 };
  } catch (e) {
    if (e instanceof CalibrationCancelled) throw e;
    return { ...label, skipped: `failed: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    model?.dispose();
  }
}

/** The device (GPU adapters, cores) and the model's shape: what a measurement depends on. */
export function choiceKey(c: Gpt2Config, webgpu?: string, webgl?: string): string {
  const nav = globalThis.navigator as { hardwareConcurrency?: number } | undefined;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const device = [
    webgpu ?? "-",
    webgl ?? "-",
    nav?.hardwareConcurrency ?? 0,
    isolated ? "coi" : "",
  ];
  const shape = `${c.modelType} L${c.nLayer} D${c.dModel} H${c.nHead} M${c.dMlp} V${c.vocabSize}`;
  return `${device.join("|")}|${shape}`;
}

const CACHE = "causeway-backend-v1";
const LAST = "/backend-choice/last";
const entry = (key: string) => `/backend-choice/${encodeURIComponent(key)}`;

/** Measurements in Cache Storage (windows and workers of the same origin); null without it. */
export function cacheStorageChoices(): ChoiceStore | null {
  const cs = (globalThis as { caches?: CacheStorage }).caches;
  if (!cs) return null;
  return {
    async get(key) {
      const r = await (await cs.open(CACHE)).match(entry(key));
      return r ? ((await r.json()) as BackendChoice) : null;
    },
    async put(choice) {
      const c = await cs.open(CACHE);
      const body = JSON.stringify(choice);
      const headers = { "content-type": "application/json" };
      if (choice.how === "measured")
        await c.put(entry(choice.key), new Response(body, { headers }));
      await c.put(LAST, new Response(body, { headers }));
    },
  };
}

/** The latest choice made on this origin (the backend badge shows it). */
export async function lastChoice(): Promise<BackendChoice | null> {
  const cs = (globalThis as { caches?: CacheStorage }).caches;
  if (!cs) return null;
  try {
    const r = await (await cs.open(CACHE)).match(LAST);
    return r ? ((await r.json()) as BackendChoice) : null;
  } catch {
    return null;
  }
}

/** Forgets every measurement (the badge's "measure again"). */
export async function forgetChoices(): Promise<void> {
  await (globalThis as { caches?: CacheStorage }).caches?.delete(CACHE);
}

/** A backend name the user may force. */
export function isBackendName(s: unknown): s is BackendName {
  return s === "webgpu" || s === "webgl" || s === "wasm" || s === "cpu";
}

/**
 * The page's backend preference for a load: `?backend=wasm` in the URL, else the badge's choice
 * in localStorage (`causeway.backend`); undefined means "choose by measurement".
 */
export function backendPreference(): BackendName[] | undefined {
  const g = globalThis as { location?: Location; localStorage?: Storage };
  let want: string | null = null;
  try {
    want =
      new URLSearchParams(g.location?.search ?? "").get("backend") ??
      g.localStorage?.getItem(PREFERENCE_KEY) ??
      null;
  } catch {
    want = null; // storage blocked
  }
  return isBackendName(want) ? [want] : undefined;
}

export const PREFERENCE_KEY = "causeway.backend";
