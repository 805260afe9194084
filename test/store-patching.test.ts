/**
 * The positions and path slices with a fake worker: the jobs they send, grids filling in row by
 * row (rows of another width ignored), refusals with a reason, and the tab of a starting run.
 * The path receiver set: toggling heads in and out (kept sorted), a new sender dropping
 * receivers it cannot reach, refusals (no set, a head outside the model or not after the
 * sender), the joint-only run beside the grid on screen (perHead false, the grid kept, the joint
 * replaced only when a new one arrives, kept on a failure), a full run when the grid is of other
 * prompts; the link codec's receivers (an older link without them reads as none; duplicates and
 * over-long lists refused).
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ReceiverInput } from "../lib/interp/path-patch";
import type { FromWorker } from "../lib/protocol";
import { ShareError } from "../lib/share/errors";
import { MAX_LINK_RECEIVERS, sharedPatching } from "../lib/share/patching-codec";
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

const baseline = (reqId: number, inputs: ReceiverInput[] = ["q", "k", "v"]): FromWorker => ({
  type: "baseline",
  reqId,
  kind: "path",
  baseline: {
    job: "path",
    sender: { layer: 1, head: 2 },
    inputs,
    cleanIds: [1, 2, 3],
    corruptIds: [4, 5, 3],
    cleanTokens: ["a", "b", "c"],
    corruptTokens: ["d", "e", "c"],
    target: { id: 1, token: " Parrow" },
    foil: { id: 2, token: " Belkor" },
    cleanLogitDiff: 5,
    corruptLogitDiff: -3,
    nLayer: L,
    nHead: H,
  },
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
    port.deliver(baseline(reqId, ["q", "v"]));
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

const row = (reqId: number, l: number): FromWorker => ({
  type: "rows",
  reqId,
  kind: "path",
  rows: [l],
  values: new Float32Array([0.1 * l, 0, -0.2, 0.3]),
  width: H,
});

/** A finished grid run from L1H2 into every later head. */
function gridOnScreen() {
  store.getState().setPathSender({ layer: 1, head: 2 });
  store.getState().runPath();
  const { reqId } = port.lastRun();
  port.deliver(baseline(reqId));
  for (let l = 2; l < L; l++) port.deliver(row(reqId, l));
  port.deliver({ type: "done", reqId, ms: 1, tensorsLeft: 0, evaluations: 19 });
}

describe("the receiver set", () => {
  it("toggles heads in and out, sorted; a new sender drops receivers it cannot reach", () => {
    const s = () => store.getState();
    s().setPathSender({ layer: 1, head: 0 });
    s().toggleReceiver({ layer: 4, head: 1 });
    s().toggleReceiver({ layer: 2, head: 3 });
    s().toggleReceiver({ layer: 4, head: 0 });
    s().toggleReceiver({ layer: 4, head: 1 });
    expect(s().path.receivers).toEqual([
      { layer: 2, head: 3 },
      { layer: 4, head: 0 },
    ]);
    s().setPathSender({ layer: 3, head: 1 });
    expect(s().path.receivers).toEqual([{ layer: 4, head: 0 }]);
    s().setPathReceivers([]);
    expect(s().path.receivers).toEqual([]);
  });

  it("refuses a joint run without a set, and heads outside the model or before the sender", () => {
    const s = () => store.getState();
    s().setPathSender({ layer: 2, head: 0 });
    s().runPathJoint();
    expect(s().path.formError?.message).toMatch(/pick a set/);
    s().setPathReceivers([{ layer: 9, head: 0 }]);
    s().runPathJoint();
    expect(s().path.formError?.message).toMatch(/L9H0 is not a head of this model/);
    s().setPathReceivers([{ layer: 2, head: 1 }]);
    s().runPath();
    expect(s().path.formError?.message).toMatch(/L2H1 is not after the sender's layer 2/);
    expect(port.runs).toHaveLength(0);
  });

  it("a joint run beside the grid asks for the set only and keeps the grid", () => {
    gridOnScreen();
    const grid = store.getState().path.result?.values;
    store.getState().toggleReceiver({ layer: 3, head: 1 });
    store.getState().toggleReceiver({ layer: 4, head: 0 });
    store.getState().runPathJoint();
    const { reqId, job } = port.lastRun();
    expect(job).toEqual({
      type: "path",
      spec: {
        clean: CLEAN,
        corrupt: CORRUPT,
        sender: { layer: 1, head: 2 },
        inputs: ["q", "k", "v"],
        receivers: [
          { layer: 3, head: 1 },
          { layer: 4, head: 0 },
        ],
        perHead: false,
      },
    });
    port.deliver(baseline(reqId));
    expect(store.getState().path.result?.values).toBe(grid);
    const receivers = [
      { layer: 3, head: 1 },
      { layer: 4, head: 0 },
    ];
    port.deliver({ type: "pathJoint", reqId, receivers, joint: -0.25 });
    port.deliver({ type: "done", reqId, ms: 1, tensorsLeft: 0, evaluations: 4 });
    expect(store.getState().path.result?.joint).toEqual({ receivers, value: -0.25 });

    // another set that fails: the grid and the last joint effect stay on screen
    store.getState().toggleReceiver({ layer: 5, head: 3 });
    store.getState().runPathJoint();
    const failed = port.lastRun().reqId;
    port.deliver({ type: "error", reqId: failed, code: "bad_spec", message: "no" } as FromWorker);
    const r = store.getState().path.result;
    expect(r?.values).toBe(grid);
    expect(r?.joint).toEqual({ receivers, value: -0.25 });
    expect(store.getState().path.run.status).toBe("error");
  });

  it("a joint run after the prompts changed runs the grid again with the set", () => {
    gridOnScreen();
    store.getState().toggleReceiver({ layer: 3, head: 1 });
    store.getState().setPatchSettings({ clean: CLEAN, corrupt: "Other Name lives in the city of" });
    store.getState().runPathJoint();
    const { job } = port.lastRun();
    expect(job.type === "path" && job.spec.perHead).toBe(undefined);
    expect(job.type === "path" && job.spec.receivers).toEqual([{ layer: 3, head: 1 }]);
    expect(store.getState().path.result?.values).toBe(null); // a new grid fills in
  });
});

describe("the receiver set in a link", () => {
  const path = { sender: { layer: 1, head: 0 }, inputs: ["q"] };
  it("an older link without receivers reads as none", () => {
    const pv = sharedPatching.read({ positions: null, path }, "pv");
    expect(pv.path?.receivers).toEqual([]);
    const back = sharedPatching.write({
      positions: null,
      path: { ...path, inputs: ["q"], receivers: [{ layer: 3, head: 1 }] },
    });
    expect(sharedPatching.read(back, "pv").path?.receivers).toEqual([{ layer: 3, head: 1 }]);
  });

  it("refuses a head listed twice, a bad head and an over-long list, naming the field", () => {
    const bad = [
      [
        { layer: 3, head: 1 },
        { layer: 3, head: 1 },
      ],
      [{ layer: 3, head: -1 }],
      "L3H1",
      Array.from({ length: MAX_LINK_RECEIVERS + 1 }, (_, i) => ({ layer: 1 + (i % 9), head: i })),
    ];
    for (const receivers of bad) {
      let err: unknown;
      try {
        sharedPatching.read({ positions: null, path: { ...path, receivers } }, "pv");
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(receivers).slice(0, 40)).toBeInstanceOf(ShareError);
      expect((err as Error).message).toMatch(/pv\.path\.receivers/);
    }
  });
});
