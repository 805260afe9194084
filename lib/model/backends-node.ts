/**
 * Registers the Node backends by side effect: wasm (the browser's numbers, and the fastest CPU
 * backend) and cpu. The .wasm binaries are read from node_modules, wherever it is.
 * Import this before selectBackend(["wasm", "cpu"]).
 *
 * Threads: tfjs turns its threaded build off in Node (its pthread scripts are blob: URLs, which
 * Node's worker_threads refuse). lib/model/wasm-threads.ts starts it with file paths instead;
 * `CAUSEWAY_WASM_THREADS=N` (or `auto`: every core) makes the wasm backend use N threads. Off by
 * default: every process would start 8 pthreads, and the test suite runs many processes at once.
 */
import "@tensorflow/tfjs"; // registers cpu (and webgl, which cannot start in Node)
import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import pthreadScript from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js";
import { configureWasmThreads, registerWasm } from "./wasm-threads";

const require = createRequire(import.meta.url);
const pkg = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
const wasmDir = path.join(pkg, "dist");
setWasmPaths(`${wasmDir}${path.sep}`);

/** The pthread worker script as a file (Node's workers start from files), written once. */
function workerFile(): string {
  const source = pthreadScript.wasmWorkerContents.replace(/\n/g, "\\n");
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const file = path.join(os.tmpdir(), `causeway-tfjs-pthread-${hash}.cjs`);
  if (!existsSync(file)) writeFileSync(file, source);
  return file;
}

/** CAUSEWAY_WASM_THREADS: a thread count, `auto` for every core; absent or 1: one thread. */
export function threadsFromEnv(value = process.env.CAUSEWAY_WASM_THREADS): number {
  if (!value) return 1;
  if (value === "auto") return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`CAUSEWAY_WASM_THREADS must be a whole number ≥ 1 or "auto" (got "${value}")`);
  }
  return n;
}

const threads = threadsFromEnv();
configureWasmThreads({
  script: path.join(pkg, "wasm-out", "tfjs-backend-wasm-threaded-simd.js"),
  wasm: path.join(wasmDir, "tfjs-backend-wasm-threaded-simd.wasm"),
  worker: workerFile,
  cores: threads,
  usable: threads > 1,
  async withCores(threads, start) {
    const cpus = os.cpus; // what the module reads as its logical core count
    os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
    try {
      return await start();
    } finally {
      os.cpus = cpus;
    }
  },
  started(module) {
    // Idle pthreads must not keep the process alive (the CLI ends when its work is done).
    const pt = (module as { PThread?: { unusedWorkers: Unref[]; runningWorkers: Unref[] } })
      .PThread;
    for (const w of [...(pt?.unusedWorkers ?? []), ...(pt?.runningWorkers ?? [])]) w.unref?.();
  },
});
registerWasm(threads);

interface Unref {
  unref?: () => void;
}
