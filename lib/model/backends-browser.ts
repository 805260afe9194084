/**
 * Registers the browser backends by side effect: webgpu, webgl, wasm and cpu. The wasm binaries
 * are served from /wasm/ (copied from @tensorflow/tfjs-backend-wasm/dist into public/wasm/), and
 * so is the package's unminified threaded factory script, which the pthreads of the threaded
 * build load (lib/model/wasm-threads.ts). Threads need a cross-origin-isolated page (COOP/COEP:
 * scripts/serve.mjs, public/_headers); elsewhere wasm runs single-threaded.
 * No top-level await here: the worker that imports this runs as a classic script.
 */
import "@tensorflow/tfjs-backend-webgpu";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import pthreadScript from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js";
import { parseModelWorkerName, pthreadPreamble } from "../worker-channel";
import { configureWasmThreads, pthreadFailed } from "./wasm-threads";

setWasmPaths("/wasm/");
// tfjs's own init() would start the threaded build from its minified factory (see
// wasm-threads.ts): it always starts the single-threaded SIMD build, the threaded one is ours.
tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);

const G = globalThis as typeof globalThis & {
  crossOriginIsolated?: boolean;
  location?: { origin: string };
  name?: string;
};
/** Set by the worker client (null for a worker started otherwise, e.g. in tests). */
const settings = parseModelWorkerName(G.name);
const origin = G.location?.origin ?? "";
let workerUrl: string | null = null;

configureWasmThreads({
  script: `${origin}/wasm/tfjs-backend-wasm-threaded-simd.js`,
  wasm: `${origin}/wasm/tfjs-backend-wasm-threaded-simd.wasm`,
  worker() {
    // As tfjs does: the worker's source is a string in which "\n" escapes became newlines.
    const preamble = settings ? pthreadPreamble(settings.channel) : "";
    workerUrl ??= URL.createObjectURL(
      new Blob([preamble, pthreadScript.wasmWorkerContents.replace(/\n/g, "\\n")], {
        type: "application/javascript",
      }),
    );
    return workerUrl;
  },
  cores: globalThis.navigator?.hardwareConcurrency ?? 1,
  usable:
    settings?.threads !== false &&
    G.crossOriginIsolated === true &&
    typeof SharedArrayBuffer === "function",
  async withCores(threads, start) {
    const nav = globalThis.navigator;
    Object.defineProperty(nav, "hardwareConcurrency", { configurable: true, value: 2 * threads });
    try {
      return await start();
    } finally {
      delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency; // the real getter again
    }
  },
});

// A pthread that throws reaches this worker as an uncaught error (emscripten rethrows it): keep
// it from reaching the page as a worker crash, and run single-threaded from then on.
globalThis.addEventListener?.("error", (ev: ErrorEvent) => {
  const rethrown = typeof ErrorEvent === "function" && ev.error instanceof ErrorEvent;
  if (!rethrown && !/^blob:/.test(ev.filename ?? "")) return;
  ev.preventDefault();
  const why = (rethrown ? (ev.error as ErrorEvent).message : ev.message) || "a thread failed";
  pthreadFailed(why.replace(/^Uncaught /, ""));
});
