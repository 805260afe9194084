/**
 * Registers the browser backends by side effect: webgpu, webgl, wasm and cpu. The wasm binaries
 * are served from /wasm/ (copied from @tensorflow/tfjs-backend-wasm/dist into public/wasm/).
 * No top-level await here: the worker that imports this runs as a classic script.
 */
import "@tensorflow/tfjs"; // registers webgl and cpu
import "@tensorflow/tfjs-backend-webgpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

setWasmPaths("/wasm/");
