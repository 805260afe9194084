/**
 * A store on a FakePort for tests of the stopped-worker state (lib/store/worker-restart.ts
 * isWorkerStopped): the bundled tiny-facts requested, and the worker's death as lib/worker-client.ts
 * reports it, a "worker_failed" error on each waiting lane.
 */
import { type CausewayStore, createCausewayStore } from "../lib/store";
import type { LaneKey } from "../lib/worker-client";
import { FakePort } from "./store-fake-port";

/** tiny-facts' model info as a `load` answer carries it (only the fields the store reads). */
export const TINY_FACTS_INFO = {
  name: "tiny-facts",
  nParams: 1,
  config: { nLayer: 6, nHead: 4, dModel: 128, nCtx: 64, vocabSize: 1303 } as never,
};

/** A fresh store connected to a FakePort, with tiny-facts' load requested. */
export function loadingStore(prompt = "Ralkrok Stennos lives in"): {
  store: CausewayStore;
  port: FakePort;
} {
  const store = createCausewayStore({ debounceMs: 0, initialPrompt: prompt });
  const port = new FakePort();
  store.getState().connect(port.listen((msg, lane) => store.getState().receive(msg, lane)));
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
  return { store, port };
}

/** The model worker dies: every waiting lane in `lanes` hears "worker_failed". */
export function killWorker(store: CausewayStore, lanes: LaneKey[]): void {
  const message = "The model worker stopped: Error: out of memory";
  for (const lane of lanes)
    store.getState().receive({ type: "error", reqId: -1, code: "worker_failed", message }, lane);
}
