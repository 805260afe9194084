/**
 * The next-token panel before any bars were shown (components/PredictionBars.tsx
 * predictionsEmptyText): once the model worker stopped it says so and names the restart button,
 * as every Run button's reason does (lib/store/errors.ts WORKER_STOPPED), instead of "No model
 * loaded."; a model that failed to load is still called not loaded. The store is driven as
 * test/worker-stopped-reasons.test.ts drives it: the worker's death reaches the load lane as
 * "worker_failed" (lib/worker-client.ts fails every waiting request so).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { predictionsEmptyText } from "../components/PredictionBars";
import type { CausewayStore } from "../lib/store";
import { WORKER_STOPPED } from "../lib/store/errors";
import type { LaneKey } from "../lib/worker-client";
import type { FakePort } from "./store-fake-port";
import { TINY_FACTS_INFO as INFO, killWorker, loadingStore } from "./worker-stopped-store";

let store: CausewayStore;
let port: FakePort;
const st = () => store.getState();
/** The panel's words now, as the component passes the store's state. */
const shown = () => {
  const s = st();
  return s.predict.result
    ? "(bars)"
    : predictionsEmptyText({ model: s.model, status: s.predict.status, elapsed: "" });
};
const die = (lanes: LaneKey[]) => killWorker(store, lanes);

beforeEach(() => {
  ({ store, port } = loadingStore());
});

describe("the next-token panel with no bars yet", () => {
  it("while the model loads, says so", () => {
    expect(shown()).toBe("Loading the model…");
  });

  it("after the worker stopped during the first load, names the restart", () => {
    die(["load"]);
    expect(shown()).toBe(WORKER_STOPPED.message);
    expect(shown()).toMatch(/worker stopped.*Restart the model worker/);
  });

  it("after the worker stopped before the first prediction came back, names the restart", () => {
    st().receive(
      { type: "load", reqId: port.loads[0].reqId, backend: "wasm", model: INFO },
      "load",
    );
    expect(st().model.status).toBe("ready");
    die(["predict", "load"]);
    expect(st().predict.result).toBeNull();
    expect(shown()).toBe(WORKER_STOPPED.message);
  });

  it("a model that failed to load is still not loaded", () => {
    st().receive(
      {
        type: "error",
        reqId: port.loads[0].reqId,
        code: "bad_config",
        message: "model: config.json: n_layer is missing",
      },
      "load",
    );
    expect(st().model.status).toBe("error");
    expect(shown()).toBe("No model loaded.");
  });
});
