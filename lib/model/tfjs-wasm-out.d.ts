// The pthread worker script of tfjs-backend-wasm's threaded build (a CommonJS module exporting
// its source as a string); the package ships no types for it.
declare module "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js" {
  const worker: { wasmWorkerContents: string };
  export default worker;
}
