/**
 * Registers the Node backends by side effect: wasm (the browser's numbers, and the fastest CPU
 * backend) and cpu. The .wasm binaries are read from node_modules, wherever it is.
 * Import this before selectBackend(["wasm", "cpu"]).
 */
import "@tensorflow/tfjs"; // registers cpu (and webgl, which cannot start in Node)
import { createRequire } from "node:module";
import path from "node:path";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const require = createRequire(import.meta.url);
const wasmDir = path.join(
  path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")),
  "dist",
);
setWasmPaths(`${wasmDir}${path.sep}`);
