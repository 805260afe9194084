/**
 * tfjs-wasm's multi-threaded SIMD build, started here rather than by tfjs's own init(). tfjs 4.22
 * hands its pthreads the source text of its factory function (`factory.toString()` in a Blob);
 * in a bundle that function is minified and refers to renamed outer names, so every pthread died
 * with "n is not defined". Here the pthreads load the package's own unminified factory script
 * (`ThreadsHost.script`: a file served next to the .wasm binaries, or a path in Node) while the
 * calling thread runs the bundled copy; both are the same emscripten build.
 *
 * The 'wasm' backend name is re-registered to switch between this threaded build and tfjs's
 * single-threaded SIMD one (kernels are registered per name, so both use the same kernels):
 *
 *   configureWasmThreads(host);             // once, by backends-browser.ts / backends-node.ts
 *   const w = await startWasm(wasmThreadsAvailable());   // { backend: "wasm", threads, note? }
 *
 * tfjs caps its thread pool at half the logical cores (it assumes two hyperthreads per core), so
 * on a 2-core machine it would never start a thread: the host reports twice the wanted count to
 * the module while it starts, and `setThreadsCount` asks for exactly that many.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendWasm, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import threadedFactory from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js";
import { type SelectedBackend, selectBackend } from "./backend";

export interface ThreadsHost {
  /** The unminified threaded factory script as a pthread loads it (absolute URL, or a path). */
  script: string;
  /** The pthread worker script (a blob URL in browsers, a file in Node). */
  worker(): string;
  /** The threaded .wasm binary. */
  wasm: string;
  /** Logical cores (navigator.hardwareConcurrency, os.availableParallelism()). */
  cores: number;
  /** SharedArrayBuffer works here (a cross-origin-isolated page, or Node). */
  usable: boolean;
  /** Runs `start` while the module sees `2 × threads` logical cores (see the header). */
  withCores<T>(threads: number, start: () => Promise<T>): Promise<T>;
  /** After a start (Node: unref the pthreads so that the process can exit). */
  started?(module: unknown): void;
}

export interface WasmStart extends SelectedBackend {
  /** Threads the running wasm backend uses (1: the single-threaded build). */
  threads: number;
  /** Why it runs on fewer threads than asked (the threaded build failed). */
  note?: string;
}

/** tfjs-wasm's own priority, and its pool of pre-started pthreads (the most it will use). */
const PRIORITY = 2;
const MAX_THREADS = 8;
/** A threaded start that neither finishes nor fails in this long has a pthread that died. */
const PATIENCE_MS = 60_000;

type Factory = () => Promise<tf.KernelBackend>;
let host: ThreadsHost | null = null;
let singleFactory: Factory | null = null;
/** Threads of the build registered as 'wasm' now. */
let registered = 1;
/** Set once a pthread failed: this worker stays single-threaded from then on. */
let broken: string | null = null;
const failureListeners = new Set<(why: string) => void>();

export function configureWasmThreads(h: ThreadsHost): void {
  host = h;
  singleFactory ??= tf.findBackendFactory("wasm") as Factory;
}

/** Threads the threaded build would use here; 1 where it cannot run (no COOP/COEP, Node). */
export function wasmThreadsAvailable(): number {
  if (!host?.usable || broken) return 1;
  return Math.max(1, Math.min(MAX_THREADS, host.cores));
}

/** The threaded build failed (a pthread's error event): later starts stay single-threaded. */
export function pthreadFailed(why: string): void {
  broken ??= why;
  for (const f of failureListeners) f(why);
}

/** Why threads are off in this worker, if a pthread failed. */
export function threadsBroken(): string | null {
  return broken;
}

/**
 * Registers 'wasm' as the threaded build (`threads` > 1) or tfjs's single-threaded one, and
 * returns the threads of the build registered now: the old one while tensors live on the
 * current wasm backend (a switch would free them).
 */
export function registerWasm(threads: number): number {
  const want = threads > 1 && host?.usable && !broken ? Math.min(threads, MAX_THREADS) : 1;
  if (want === registered || !singleFactory) return registered;
  const live = tf.engine().registry.wasm;
  if (live && live.numDataIds() > 0) return registered;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", want > 1 ? () => startThreaded(want) : singleFactory, PRIORITY);
  registered = want;
  return registered;
}

/**
 * Starts the wasm backend on `threads` threads. If the threaded build fails to start (an error,
 * a pthread that dies, or no answer within `patienceMs`), falls back to one thread with a note;
 * throws only if the single-threaded build cannot start either.
 */
export async function startWasm(
  threads: number,
  deps: StartDeps = { select: selectBackend, register: registerWasm, patienceMs: PATIENCE_MS },
): Promise<WasmStart> {
  const now = deps.register(threads);
  if (now <= 1) return { ...(await deps.select(["wasm"])), threads: 1 };
  const failed = pthreadFailure(deps.patienceMs);
  try {
    return { ...(await Promise.race([deps.select(["wasm"]), failed.promise])), threads: now };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    pthreadFailed(why);
    if (deps.register(1) !== 1) throw e;
    const sel = await deps.select(["wasm"]);
    return { ...sel, threads: 1, note: `${now} threads failed (${why}); running on one` };
  } finally {
    failed.dispose();
  }
}

export interface StartDeps {
  select: (order: readonly "wasm"[]) => Promise<SelectedBackend>;
  register: (threads: number) => number;
  patienceMs: number;
}

/** Rejects on a pthread failure report or after `ms`; dispose() stops listening. */
function pthreadFailure(ms: number): { promise: Promise<never>; dispose(): void } {
  let listener: (why: string) => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    listener = (why) => reject(new Error(why));
    timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms);
  });
  failureListeners.add(listener);
  return {
    promise,
    dispose() {
      failureListeners.delete(listener);
      clearTimeout(timer);
    },
  };
}

/** tfjs's init() for the threaded build, with the pthreads pointed at the unminified script. */
async function startThreaded(threads: number): Promise<tf.KernelBackend> {
  const h = host;
  if (!h) throw new Error("wasm threads are not configured");
  setThreadsCount(threads);
  return h.withCores(threads, async () => {
    const module = (await threadedFactory({
      mainScriptUrlOrBlob: h.script,
      locateFile: (path: string) => (path.endsWith(".worker.js") ? h.worker() : h.wasm),
    })) as ThreadedModule;
    // The names tfjs's init() gives the module's exports (BackendWasm calls them).
    module.tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []),
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    const backend = new BackendWasm(module as never);
    h.started?.(module);
    return backend;
  });
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, unknown>;
}
