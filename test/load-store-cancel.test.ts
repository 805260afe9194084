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
    receive({ type: "ready", reqId: lastLoad(), backend: "webgpu", model: TINY });
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
    receive({ type: "ready", reqId: lastLoad(), backend: "wasm", model: TINY });
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

  it("other load errors are errors, not a restore", () => {
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    receive({ type: "ready", reqId: lastLoad(), backend: "webgpu", model: TINY });
    store.getState().loadModel(HUB);
    receive({ type: "error", reqId: lastLoad(), code: "too_large", message: "gpt2-xl: too large" });
    expect(store.getState().model).toMatchObject({ status: "error", error: { code: "too_large" } });
  });
});
