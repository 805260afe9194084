/**
 * The store's side of loading a model: byte progress reaches model.progress, cancelLoad asks the
 * port to cancel, and the worker's "cancelled" answer brings back the model that was ready (or
 * leaves a clear cancelled state when there was none). Runs against a fake worker port.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { FromWorker, ModelInfo, ModelSource } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

class CancellingPort extends FakePort {
  loadCancels = 0;
  cancelLoad(): void {
    this.loadCancels++;
  }
}

const TINY: ModelInfo = {
  name: "tiny-facts",
  nParams: 1,
  config: { nLayer: 6, nHead: 4, dModel: 128 } as ModelInfo["config"],
};
const HUB: ModelSource = { kind: "hub", repo: "gpt2", endpoint: "http://127.0.0.1:4180" };

let store: CausewayStore;
let port: CancellingPort;
const receive = (msg: FromWorker) => store.getState().receive(msg, "load");
const lastLoad = () => port.loads.at(-1)!.reqId;

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: "", examples: [] });
  port = new CancellingPort();
  store.getState().connect(port);
});

describe("loading with bytes and cancel", () => {
  it("progress keeps bytes, speed, ETA and the memory note", () => {
    store.getState().loadModel(HUB);
    receive({
      type: "progress",
      request: "load",
      reqId: lastLoad(),
      phase: "weights",
      done: 0.5,
      total: 1,
      bytes: 1000,
      bytesTotal: 2000,
      bytesPerSec: 500,
      etaMs: 2000,
      note: "loading needs about 4 GiB",
    });
    expect(store.getState().model.progress).toEqual({
      phase: "weights",
      done: 0.5,
      total: 1,
      bytes: 1000,
      bytesTotal: 2000,
      bytesPerSec: 500,
      etaMs: 2000,
      note: "loading needs about 4 GiB",
    });
  });

  it("a cancelled load brings back the model that was ready", () => {
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    receive({ type: "load", reqId: lastLoad(), backend: "webgpu", model: TINY });
    const ready = store.getState().model;
    store.getState().loadModel(HUB);
    expect(store.getState().model.status).toBe("loading");
    store.getState().cancelLoad();
    expect(port.loadCancels).toBe(1);
    receive({
      type: "error",
      reqId: lastLoad(),
      code: "cancelled",
      message: "Loading was cancelled; tiny-facts is still loaded",
    });
    const m = store.getState().model;
    expect(m).toMatchObject({
      status: "ready",
      source: { kind: "bundled", name: "tiny-facts" },
      info: TINY,
      backend: "webgpu",
      progress: null,
      error: { code: "cancelled", message: "Loading was cancelled; tiny-facts is still loaded" },
    });
    expect(m.loadMs).toBe(ready.loadMs);
  });

  it("a second load replacing the first keeps the model from before both", () => {
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    receive({ type: "load", reqId: lastLoad(), backend: "wasm", model: TINY });
    store.getState().loadModel(HUB);
    store.getState().loadModel({ ...HUB, repo: "distilgpt2" });
    receive({ type: "error", reqId: lastLoad(), code: "cancelled", message: "cancelled" });
    expect(store.getState().model).toMatchObject({ status: "ready", info: TINY, backend: "wasm" });
  });

  it("cancelling the first load ever leaves a clear cancelled state", () => {
    store.getState().loadModel(HUB);
    receive({
      type: "error",
      reqId: lastLoad(),
      code: "cancelled",
      message: "Loading was cancelled",
    });
    expect(store.getState().model).toMatchObject({
      status: "error",
      source: HUB,
      error: { code: "cancelled", message: "Loading was cancelled" },
    });
  });

  it("a load error after which the worker holds no model is an error, not a restore", () => {
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    receive({ type: "load", reqId: lastLoad(), backend: "webgpu", model: TINY });
    store.getState().loadModel(HUB);
    // e.g. no backend could run the new model, after the old one was freed
    receive({
      type: "error",
      reqId: lastLoad(),
      code: "no_backend",
      message: "no backend",
    });
    expect(store.getState().model).toMatchObject({
      status: "error",
      error: { code: "no_backend" },
    });
  });

  it("a failed load that replaced a load still starting: the worker's kept model becomes ready", () => {
    const s = () => store.getState();
    port.listen((msg, lane) => s().receive(msg, lane));
    s().loadModel({ kind: "bundled", name: "tiny-facts" }); // never answered: replaced below
    s().loadModel({ kind: "url", baseUrl: "http://127.0.0.1:4180/missing/" });
    const kept = {
      source: { kind: "bundled", name: "tiny-facts" },
      backend: "wasm",
      model: TINY,
    } as const;
    const message = "config.json: not found; tiny-facts is still loaded";
    port.deliver({ type: "error", reqId: lastLoad(), code: "file_missing", message, kept });
    expect(s().model).toMatchObject({
      status: "ready",
      source: { kind: "bundled", name: "tiny-facts" },
      backend: "wasm",
      info: TINY,
      error: { code: "file_missing", message },
    });
  });

  for (const [what, code, message] of [
    ["404", "file_missing", "model.safetensors: HTTP 404 from http://127.0.0.1:4180/…"],
    ["500", "fetch_failed", "model.safetensors: HTTP 500 from http://127.0.0.1:4180/…"],
    ["dropped transfer", "fetch_failed", "model.safetensors: the connection was reset"],
    ["truncated file", "truncated", "model.safetensors: 1024 bytes short"],
    ["too large", "too_large", "gpt2-xl: is too large for this device"],
  ] as const) {
    it(`a failed load (${what}) keeps the previous model, its edits and its results`, () => {
      const s = () => store.getState();
      port.listen((msg, lane) => s().receive(msg, lane));
      s().loadModel({ kind: "bundled", name: "tiny-facts" });
      port.deliver({ type: "load", reqId: lastLoad(), backend: "webgpu", model: TINY });
      // a prediction, a learned edit stack, a probe grid and a generated text on screen
      s().setPrompt("Ralkrok Stennos lives in the city of");
      s().runPrediction();
      const prediction = { inputIds: [1], inputTokens: ["R"], top: [] };
      port.deliver({ type: "predict", reqId: port.predicts.at(-1)!.reqId, prediction, ms: 1 });
      s().addEdit({ kind: "head_scale", site: { layer: 1, head: 0 }, params: { scale: 0 } });
      const call = port.setEditsCalls.at(-1)!;
      port.deliver({ type: "setEdits", reqId: call.reqId, edits: call.edits });
      s().probeHeads(["a"], ["b"]);
      const accuracy = [[0.5]];
      const probe = port.probes.at(-1)!.reqId;
      port.deliver({ type: "probeHeads", reqId: probe, accuracy, nPositive: 1, nNegative: 1 });
      const before = s();
      expect(before.edits.status).toBe("ready");
      const sentBefore = port.setEditsCalls.length;

      s().loadModel(HUB);
      expect(s().predict.result).toBeNull(); // the new model's screen starts empty
      const kept = {
        source: { kind: "bundled", name: "tiny-facts" },
        backend: "webgpu",
        model: TINY,
      } as const;
      port.deliver({ type: "error", reqId: lastLoad(), code, message, kept });

      const after = s();
      expect(after.model).toMatchObject({
        status: "ready",
        source: { kind: "bundled", name: "tiny-facts" },
        info: TINY,
        error: { code, message },
      });
      expect(after.edits.stack).toEqual(before.edits.stack);
      expect(after.edits.status).toBe("ready");
      expect(port.setEditsCalls.length).toBe(sentBefore); // the worker still has that stack
      expect(after.predict.result).toEqual(prediction);
      expect(after.headProbe).toEqual(before.headProbe);
      expect(after.trace.result).toBe(before.trace.result);
      expect(after.patch).toEqual({ ...before.patch, settings: after.patch.settings });
    });
  }
});
