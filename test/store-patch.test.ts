/** The patch slice with a fake worker: the job, the head grid filling in, attention patterns. */
import { beforeEach, describe, expect, it } from "vitest";
import type { FromWorker } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

const CLEAN = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
const L = 6;
const H = 4;

let store: CausewayStore;
let port: FakePort;

beforeEach(() => {
  store = createCausewayStore({
    debounceMs: 0,
    initialPrompt: CLEAN,
    examples: [
      {
        prompt: CLEAN,
        subject: "Ralkrok Stennos",
        attribute: " Parrow",
        counterfactual: { prompt: CORRUPT, subject: "Nerzessar Pelpan", attribute: " Tessari" },
      },
    ],
  });
  port = new FakePort();
  store.getState().connect(port);
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
  store.getState().receive(
    {
      type: "load",
      reqId: port.loads[0].reqId,
      backend: "wasm",
      model: { name: "tiny-facts", nParams: 1, config: { nLayer: L, nHead: H } as never },
    },
    "load",
  );
});

const baseline = (reqId: number): FromWorker => ({
  type: "baseline",
  reqId,
  kind: "head_out",
  baseline: {
    job: "patch",
    site: "head_out",
    metric: "logit_diff_normalized",
    cleanIds: [1, 2, 3],
    corruptIds: [1, 2, 3],
    strategy: "fast",
    cleanTokens: ["a", "b", "c"],
    corruptTokens: ["a", "x", "c"],
    target: { id: 1028, token: " Parrow" },
    foil: { id: 1001, token: " Tessari" },
    cleanLogitDiff: 5,
    corruptLogitDiff: -3,
    cleanProb: 0.9,
    corruptProb: 0.01,
    nLayer: L,
    nHead: H,
  },
});

describe("patching", () => {
  it("starts from the first prompt and its counterfactual", () => {
    expect(store.getState().patch.settings).toMatchObject({ clean: CLEAN, corrupt: CORRUPT });
  });

  it("sends a head_out job; target and foil only when typed", () => {
    store.getState().runPatch();
    expect(port.lastRun().job).toEqual({
      type: "patch",
      spec: { clean: CLEAN, corrupt: CORRUPT, site: "head_out" },
    });
    store.getState().setPatchSettings({ target: " Parrow", foil: "Tessari" });
    store.getState().runPatch();
    expect(port.lastRun().job).toMatchObject({ spec: { target: " Parrow", foil: "Tessari" } });
  });

  it("refuses an empty corrupted prompt", () => {
    store.getState().setPatchSettings({ corrupt: "  " });
    store.getState().runPatch();
    expect(port.runs).toHaveLength(0);
    expect(store.getState().patch.formError?.code).toBe("empty_prompt");
  });

  it("fills an L × H grid by layer rows, then done", () => {
    store.getState().runPatch();
    const id = port.lastRun().reqId;
    const s = () => store.getState();
    s().receive(baseline(id), "run");
    expect(s().patch.result?.values?.length).toBe(L * H);
    expect(s().patch.result?.filled).toBe(0);
    s().receive(
      {
        type: "rows",
        reqId: id,
        kind: "head_out",
        rows: [2],
        values: Float32Array.of(0.1, -0.2, 0.5, 0),
        width: H,
      },
      "run",
    );
    expect(s().patch.result?.filled).toBe(H);
    expect(s().patch.result?.values?.[2 * H + 2]).toBeCloseTo(0.5, 6);
    s().receive({ type: "done", reqId: id, ms: 10, tensorsLeft: 0, evaluations: 5 }, "run");
    expect(s().patch.run.status).toBe("done");
  });

  it("clicking a head asks for its pattern on the clean prompt and shows the answer", () => {
    store.getState().runPatch();
    const id = port.lastRun().reqId;
    store.getState().selectHead(1, 1); // no baseline yet: nothing to show
    expect(port.attentions).toHaveLength(0);
    store.getState().receive(baseline(id), "run");
    store.getState().selectHead(3, 2);
    expect(port.attentions.at(-1)).toMatchObject({ prompt: CLEAN, layer: 3, head: 2 });
    const a = store.getState().patch.attention!;
    expect(a.status).toBe("pending");
    expect(store.getState().patch.selected).toEqual({ layer: 3, head: 2 });
    const pattern = Float32Array.of(1, 0, 0.4, 0.6);
    store.getState().receive(
      {
        type: "attention",
        reqId: port.attentions.at(-1)!.reqId,
        layer: 3,
        head: 2,
        tokens: ["a", "b"],
        pattern,
      },
      "attention",
    );
    const b = store.getState().patch.attention!;
    expect(b.status).toBe("ok");
    expect(b.tokens).toEqual(["a", "b"]);
    expect(Array.from(b.pattern!)).toEqual(Array.from(pattern));
  });

  it("an out-of-range head is ignored; an attention error is shown", () => {
    store.getState().runPatch();
    const id = port.lastRun().reqId;
    store.getState().receive(baseline(id), "run");
    store.getState().selectHead(L, 0);
    expect(port.attentions).toHaveLength(0);
    store.getState().selectHead(0, 0);
    store
      .getState()
      .receive(
        { type: "error", reqId: port.attentions[0].reqId, code: "too_long", message: "too long" },
        "attention",
      );
    expect(store.getState().patch.attention?.status).toBe("error");
    expect(store.getState().patch.run.status).toBe("running"); // the sweep is unaffected
  });

  it("a trace started meanwhile replaces the patching run", () => {
    store.getState().runPatch();
    store.getState().setSubjectText("Ralkrok");
    store.getState().runTrace();
    expect(store.getState().patch.run).toMatchObject({ status: "cancelled" });
    expect(store.getState().patch.run.note).toMatch(/causal trace/);
  });
});
