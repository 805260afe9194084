/**
 * Backend choice by measurement (the worker's load path). Given the allowed backends in
 * preference order:
 *
 * - one backend (the user's override): use it, as selectBackend would;
 * - several: skip GPU backends whose adapter is a software one (a fallback adapter, SwiftShader,
 *   llvmpipe, …: an emulated GPU on the CPU, always slower than wasm), and cpu when wasm is
 *   there; if one candidate is left, use it; otherwise time a short calibration pass of the
 *   loaded model on each candidate (one untimed warm-up for shader compilation, then the best
 *   of two timed passes), pick the fastest and remember it per device and model shape
 *   (Cache Storage, so that the page can show it and the next load skips the measurement).
 *
 *   const { backend, adapter, choice } = await chooseBackend(order, { config, weights });
 *   choice.timings  // [{ backend: "webgpu", skipped: "software adapter (google swiftshader)" }, …]
 */
import type { Gpt2Config } from "../load/types";
import type { BackendName } from "../protocol";
import { type SelectedBackend, selectBackend } from "./backend";
import { Gpt2Model, type ModelWeights } from "./gpt2";
import { probeGpu } from "./gpu-probe";

export interface BackendTiming {
  backend: BackendName;
  /** Best timed calibration pass, ms (absent when skipped). */
  ms?: number;
  /** Why it was not measured (software adapter, failed to start, …). */
  skipped?: string;
}

export interface BackendChoice {
  chosen: BackendName;
  /** measured now; cached from an earlier measurement; the user's override; the only candidate. */
  how: "measured" | "cached" | "override" | "only";
  timings: BackendTiming[];
  /** Device and model shape the choice is remembered under. */
  key: string;
  /** The calibration input: batch × tokens. */
  pass?: string;
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
}

/** Calibration input: a small batch, like a trace pass on a short prompt. */
const CAL_BATCH = 2;
const CAL_TOKENS = 8;

export async function chooseBackend(
  order: readonly BackendName[],
  opts: ChooseOptions,
): Promise<SelectedBackend & { choice: BackendChoice }> {
  const at = Date.now();
  const store = opts.store === undefined ? cacheStorageChoices() : opts.store;
  if (order.length <= 1) {
    const sel = await selectBackend(order);
    const choice: BackendChoice = {
      chosen: sel.backend,
      how: "override",
      timings: [],
      key: "",
      at,
    };
    await store?.put(choice).catch(() => {});
    return { ...sel, choice };
  }
  const gpu = await probeGpu(order);
  const timings: BackendTiming[] = [];
  const candidates: BackendName[] = [];
  for (const b of order) {
    const soft = b === "webgpu" || b === "webgl" ? gpu[b] : undefined;
    if (soft?.unavailable) timings.push({ backend: b, skipped: soft.unavailable });
    else if (soft?.software)
      timings.push({ backend: b, skipped: `software adapter (${soft.name})` });
    else if (b === "cpu" && order.includes("wasm") && !opts.measureCpu)
      timings.push({ backend: b, skipped: "wasm is faster" });
    else candidates.push(b);
  }
  const key = choiceKey(opts.config, gpu.webgpu?.name, gpu.webgl?.name);
  const fallback = (first: BackendName) => [first, ...order.filter((b) => b !== first)];
  if (candidates.length <= 1) {
    const sel = await selectBackend(candidates.length === 1 ? fallback(candidates[0]) : order);
    const choice: BackendChoice = { chosen: sel.backend, how: "only", timings, key, at };
    await store?.put(choice).catch(() => {});
    return { ...sel, choice };
  }
  const cached = await store?.get(key).catch(() => null);
  if (cached && candidates.includes(cached.chosen)) {
    const sel = await selectBackend(fallback(cached.chosen));
    return { ...sel, choice: { ...cached, chosen: sel.backend, how: "cached" } };
  }
  for (const b of candidates) timings.push(await calibrate(b, opts));
  const measured = timings.filter((t): t is BackendTiming & { ms: number } => t.ms !== undefined);
  measured.sort((a, b) => a.ms - b.ms);
  const best = measured[0]?.backend ?? candidates[candidates.length - 1];
  const sel = await selectBackend(fallback(best));
  const choice: BackendChoice = {
    chosen: sel.backend,
    how: "measured",
    timings,
    key,
    pass: `${CAL_BATCH} × ${CAL_TOKENS} tokens`,
    at,
  };
  await store?.put(choice).catch(() => {});
  return { ...sel, choice };
}

/** Times the model on one backend: upload, an untimed warm-up, then the best of two passes. */
async function calibrate(backend: BackendName, opts: ChooseOptions): Promise<BackendTiming> {
  const started = await selectBackend([backend]).catch((e: unknown) => e);
  if (started instanceof Error || (started as SelectedBackend).backend !== backend) {
    return { backend, skipped: "failed to start" };
  }
  let model: Gpt2Model | null = null;
  try {
    model = Gpt2Model.fromWeights(opts.config, opts.weights);
    const T = Math.min(CAL_TOKENS, opts.config.nCtx);
    const ids = Array.from({ length: CAL_BATCH }, (_, r) =>
      Array.from({ length: T }, (_, i) => (r * T + i) % opts.config.vocabSize),
    );
    const pass = async () => {
      const t0 = performance.now();
      const { logits } = model!.forward({ inputIds: ids, logitPositions: "last" });
      await logits.data();
      logits.dispose();
      return performance.now() - t0;
    };
    await pass(); // shader compilation, XNNPACK packing
    const ms = Math.min(await pass(), await pass());
    return { backend, ms: Math.round(ms * 10) / 10 };
  } catch (e) {
    return { backend, skipped: `failed: ${e instanceof Error ? e.message : String(e)}` };
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
