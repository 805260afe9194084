/**
 * The positions and path slices with a fake worker: the jobs they send, grids filling in row by
 * row (rows of another width ignored), refusals with a reason, and the tab of a starting run.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { FromWorker } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

const CLEAN = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
const L = 6;
const H = 4;
const T = 3;

let store: CausewayStore;
let port: FakePort;

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: CLEAN });
  port = new FakePort();
  store.getState().connect(port);
  port.listen((msg, lane) => store.getState().receive(msg, lane));
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
  store.getState().setPatchSettings({ clean: CLEAN, corrupt: CORRUPT });
});

const tokens = { id: 1, token: " Parrow" };
const rows = (reqId: number, kind: string, index: number, values: number[]): FromWorker =>
  ({
    type: "rows",
    reqId,
    kind,
    rows: [index],
    values: new Float32Array(values),
    width: values.length,
  }) as FromWorker;

describe("patching by position", () => {
  it("sends the chosen site and fills a T × L·H grid for head_out_pos", () => {
    store.getState().setPositionSite("head_out_pos");
    store.getState().runPositions();
    const { reqId, job } = port.lastRun();
    expect(job).toEqual({
      type: "patch",
      spec: { clean: CLEAN, corrupt: CORRUPT, site: "head_out_pos" },
    });
    port.deliver({
      type: "baseline",
      reqId,
      kind: "head_out_pos",
      baseline: {
        job: "patch",
        site: "head_out_pos",
        metric: "logit_diff_normalized",
        cleanIds: [1, 2, 3],
        corruptIds: [1, 2, 3],
        strategy: "fast",
        cleanTokens: ["a", "b", "c"],
        corruptTokens: ["a", "x", "c"],
        target: tokens,
        foil: { id: 2, token: " Belkor" },
        cleanLogitDiff: 5,
        corruptLogitDiff: -3,
        cleanProb: 0.9,
        corruptProb: 0.01,
        nLayer: L,
        nHead: H,
      },
    });
    expect(store.getState().positions.result?.width).toBe(L * H);
    port.deliver(
      rows(
        reqId,
        "head_out_pos",
        1,
        Array.from({ length: L * H }, (_, i) => i / 10),
      ),
    );
    port.deliver(rows(reqId, "head_out_pos", 2, [1, 2])); // another width: ignored
    const r = store.getState().positions.result;
    expect(r?.filled).toBe(L * H);
    expect(r?.values?.[1 * L * H + 5]).toBeCloseTo(0.5);
    expect(r?.values?.length).toBe(T * L * H);
  });

  it("refuses an empty corrupted prompt with the reason, sending nothing", () => {
    store.getState().setPatchSettings({ corrupt: "" });
    const before = port.runs.length;
    store.getState().runPositions();
    expect(port.runs.length).toBe(before);
    expect(store.getState().positions.formError?.message).toMatch(/corrupted prompt is empty/);
  });
});

describe("path patching", () => {
  it("needs a sender before the last layer and an input", () => {
    store.getState().runPath();
    expect(store.getState().path.formError?.message).toMatch(/sender/);
    store.getState().setPathSender({ layer: L - 1, head: 0 });
    store.getState().runPath();
    expect(store.getState().path.formError?.message).toMatch(/last layer/);
    store.getState().setPathSender({ layer: 1, head: 2 });
    store.getState().setPathInputs([]);
    store.getState().runPath();
    expect(store.getState().path.formError?.message).toMatch(/q, k, v/);
    expect(port.runs).toHaveLength(0);
  });

  it("sends a path job and fills the receivers' layer × head grid by layer", () => {
    store.getState().setPathSender({ layer: 1, head: 2 });
    store.getState().setPathInputs(["v", "q"]);
    store.getState().runPath();
    const { reqId, job } = port.lastRun();
    expect(job).toEqual({
      type: "path",
      spec: { clean: CLEAN, corrupt: CORRUPT, sender: { layer: 1, head: 2 }, inputs: ["q", "v"] },
    });
    port.deliver({
      type: "baseline",
      reqId,
      kind: "path",
      baseline: {
        job: "path",
        sender: { layer: 1, head: 2 },
        inputs: ["q", "v"],
        cleanIds: [1, 2, 3],
        corruptIds: [4, 5, 3],
        cleanTokens: ["a", "b", "c"],
        corruptTokens: ["d", "e", "c"],
        target: tokens,
        foil: { id: 2, token: " Belkor" },
        cleanLogitDiff: 5,
        corruptLogitDiff: -3,
        nLayer: L,
        nHead: H,
      },
    });
    port.deliver(rows(reqId, "path", 2, [-0.5, 0, 0.1, 0.2]));
    port.deliver(rows(reqId, "path", 3, [1, 2, 3])); // another width: ignored
    const r = store.getState().path.result;
    expect(r?.filled).toBe(H);
    expect(r?.values?.[2 * H]).toBeCloseTo(-0.5);
    expect(Number.isNaN(r?.values?.[0] ?? 0)).toBe(true);
    port.deliver({ type: "done", reqId, ms: 10, tensorsLeft: 0 });
    expect(store.getState().path.run.status).toBe("done");
  });

  it("a path run replacing a running position sweep marks it cancelled", () => {
    store.getState().runPositions();
    store.getState().setPathSender({ layer: 0, head: 0 });
    store.getState().runPath();
    expect(store.getState().positions.run.status).toBe("cancelled");
    expect(store.getState().positions.run.note).toMatch(/path patching/);
  });
});
