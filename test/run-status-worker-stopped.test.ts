/**
 * The footer's model line (components/RunStatus.tsx runStatusText): while the model works it
 * names the model, its backend and the tensors left alive; once the model worker stopped those
 * tensors died with it, so the line says "worker stopped" and claims no backend and no tensors.
 * The store is driven as test/predictions-worker-stopped.test.ts drives it: the worker's death
 * reaches each waiting lane as "worker_failed" (lib/worker-client.ts fails every request so).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { runStatusText } from "../components/RunStatus";
import type { CausewayStore } from "../lib/store";
import type { FakePort } from "./store-fake-port";
import { killWorker, loadingStore, TINY_FACTS_INFO } from "./worker-stopped-store";

let store: CausewayStore;
let port: FakePort;
const st = () => store.getState();
/** The footer's words now, as the component passes the store's state. */
const shown = () => runStatusText({ model: st().model, tensorsLeft: st().predict.tensorsLeft });
/** The model loads on wasm and its first prediction leaves 76 tensors alive. */
const loadAndPredict = () => {
  const model = TINY_FACTS_INFO;
  port.deliver({ type: "load", reqId: port.loads[0].reqId, backend: "wasm", model });
  const reqId = port.predicts.at(-1)?.reqId ?? -1;
  const prediction = { inputIds: [1], inputTokens: ["Ralkrok"], top: [] };
  port.deliver({ type: "predict", reqId, prediction, ms: 1 });
  port.deliver({ type: "done", reqId, ms: 1, tensorsLeft: 76 });
};

beforeEach(() => {
  ({ store, port } = loadingStore());
});

describe("the footer's model line", () => {
  it("while the worker runs, names the model, its backend and the tensors alive", () => {
    loadAndPredict();
    expect(st().predict.tensorsLeft).toBe(76);
    expect(shown()).toBe("tiny-facts on wasm · 76 tensors resident");
  });

  it("after the worker stopped, says so and claims no backend and no tensors", () => {
    loadAndPredict();
    killWorker(store, ["predict", "load"]);
    expect(st().model.status).toBe("error");
    expect(shown()).toBe("tiny-facts · worker stopped");
    expect(shown()).not.toMatch(/tensors|wasm/);
  });

  it("while a restarted worker loads the model, says so, not the dead worker's backend", () => {
    loadAndPredict();
    killWorker(store, ["predict", "load"]);
    // a port that can restart (lib/worker-client.ts WorkerClient.restart); FakePort records the load
    Object.assign(port, { restart: () => {} });
    st().restartWorker();
    expect(st().model.status).toBe("loading");
    expect(st().model.info?.name).toBe("tiny-facts"); // a restart keeps the model's info
    expect(shown()).toBe("tiny-facts · loading");
    port.deliver({
      type: "load",
      reqId: port.loads[1].reqId,
      backend: "wasm",
      model: TINY_FACTS_INFO,
    });
    expect(shown()).toMatch(/^tiny-facts on wasm/);
  });

  it("a first load says it loads (no model yet)", () => {
    expect(st().model.status).toBe("loading");
    expect(shown()).toBe("loading a model");
  });

  it("a model that failed to load is no model", () => {
    port.deliver({ type: "error", reqId: port.loads[0].reqId, code: "bad_config", message: "bad" });
    expect(st().model.status).toBe("error");
    expect(shown()).toBe("no model");
  });
});
