/**
 * Registers the browser backends by side effect: webgpu, webgl, wasm and cpu. The wasm binaries
 * are served from /wasm/ (copied from @tensorflow/tfjs-backend-wasm/dist into public/wasm/).
 * No top-level await here: the worker that imports this runs as a classic script.
 */
import "@tensorflow/tfjs-backend-webgpu";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

setWasmPaths("/wasm/");
// tfjs-wasm 4.22's threaded build starts its pthreads from the source text of its factory
// function, which the bundler has minified: on a cross-origin-isolated page every pthread died
// with "n is not defined" and the worker crashed (tried in session 3). Single-threaded SIMD until
// that is solved (e.g. by serving the unbundled factory to the pthreads).
tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
