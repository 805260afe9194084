/**
 * While the model worker is stopped (its death reached the load lane as "worker_failed", as
 * lib/worker-client.ts reports it; test/worker-failure.test.ts drives that part), every reason a
 * run cannot start says the worker stopped and names the restart button: the trace, re-trace,
 * patching, read-out, heads, data-set, edit-tool, batch, consistency and ABSC checks all ask
 * lib/store/errors.ts modelBlocker. Before the model first loads they still say it is loading.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { checkRetrace } from "../lib/store/compare-slice";
import { WORKER_STOPPED } from "../lib/store/errors";
import { readoutRequest } from "../lib/store/lens-slice";
import { checkPatch } from "../lib/store/patch-slice";
import { checkTrace } from "../lib/store/trace-slice";
import { isWorkerStopped } from "../lib/store/worker-restart";
import { FakePort } from "./store-fake-port";
import { TINY_FACTS_INFO as INFO } from "./worker-stopped-store";

const PROMPT = "Ralkrok Stennos lives in the city of";

let store: CausewayStore;
let port: FakePort;
/** Requests of the optional port methods (a refused run must send none). */
let sent: string[];
const st = () => store.getState();

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: PROMPT });
  port = new FakePort();
  sent = [];
  const record = (name: string) => () => {
    sent.push(name);
    return 1;
  };
  Object.assign(port, {
    heads: record("heads"),
    consistency: record("consistency"),
    absc: record("absc"),
    readout: record("readout"),
    batchEdit: record("batchEdit"),
  });
  st().connect(port.listen((msg, lane) => st().receive(msg, lane)));
  st().setPatchSettings({ clean: PROMPT, corrupt: "Nerzessar Pelpan lives in the city of" });
  st().loadModel({ kind: "bundled", name: "tiny-facts" });
});

/** Every refusal a run can meet before it reaches the port. */
function refusals(): Record<string, unknown> {
  const s = st();
  const lens = readoutRequest(s, "lens");
  return {
    checkTrace: checkTrace(s),
    checkRetrace: checkRetrace(s),
    checkPatch: checkPatch(s),
    readout: "code" in lens ? lens : "request",
  };
}

/** Runs every action that refuses without a model and collects the errors it leaves. */
function runAll(): Record<string, unknown> {
  st().runTrace();
  st().retraceEdited();
  st().runPatch();
  st().runPositions();
  st().runDataset();
  st().runHeads();
  st().runReadout("lens");
  st().evalEdit(0);
  st().probeHeads([PROMPT], [PROMPT]);
  st().runAlphaCurve({} as never, [1], {} as never);
  st().runBatch({} as never);
  st().runConsistency({} as never);
  st().runAbsc({} as never);
  st().locateAbsc();
  const s = st();
  return {
    trace: s.trace.formError,
    retrace: s.compare.error,
    patch: s.patch.formError,
    positions: s.positions.formError,
    dataset: s.dataset.formError,
    heads: s.heads.formError,
    lens: s.readouts.lens.run.error,
    evalEdit: s.editEval.error,
    probeHeads: s.headProbe.error,
    alphaCurve: s.alphaCurve.error,
    batch: s.batch.error,
    consistency: s.consistency.error,
    absc: s.absc.error,
    abscLocate: s.absc.locate.error,
  };
}

const every = (keys: string[], v: unknown) => Object.fromEntries(keys.map((k) => [k, v]));

describe("reasons a run cannot start", () => {
  it("say the model is loading before it first loads", () => {
    const r = { ...refusals(), ...runAll() };
    expect(r).toEqual(every(Object.keys(r), { code: "no_model", message: expect.any(String) }));
  });

  it("say the worker stopped, and name the restart button, once it died", () => {
    st().receive(
      { type: "load", reqId: port.loads[0].reqId, backend: "wasm", model: INFO },
      "load",
    );
    expect(st().model.status).toBe("ready");
    st().receive(
      {
        type: "error",
        reqId: -1,
        code: "worker_failed",
        message: "The model worker stopped: Error: out of memory",
      },
      "load",
    );
    expect(isWorkerStopped(st().model)).toBe(true);
    const runs = port.runs.length;

    const r = { ...refusals(), ...runAll() };
    expect(r).toEqual(every(Object.keys(r), WORKER_STOPPED));
    expect(WORKER_STOPPED.message).toMatch(/worker stopped.*Restart the model worker/);
    // nothing was sent to the dead worker
    expect(port.runs.length).toBe(runs);
    expect([port.evals, port.probes, port.curves, sent]).toEqual([[], [], [], []]);
  });
});
