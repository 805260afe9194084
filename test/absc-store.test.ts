/**
 * The ABSC slice with a fake worker: a run's rows arrive one method at a time and a cancel or a
 * failure keeps them; the rows belong to the model they ran on; Locate asks for the review facts
 * and one answer starts the Dataset panel's trace over them; no model, no request.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { AbscRequest, AbscRow, AbscTrainRequest } from "../lib/edit/absc-request";
import type { FromWorker } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

class AbscPort extends FakePort {
  readonly abscCalls: { reqId: number; request: AbscRequest }[] = [];
  abscCancels = 0;
  absc(request: AbscRequest): number {
    const reqId = this.latest.issue("absc");
    this.abscCalls.push({ reqId, request });
    return reqId;
  }
  cancelAbsc(): void {
    this.latest.forget("absc");
    this.abscCancels++;
  }
}

const REQUEST: AbscTrainRequest = {
  mode: "train",
  methods: ["joint", "ft_layer"],
  rank: 4,
  n_train: 8,
  n_test: 10,
  steps: 2,
  lr: 0.01,
  seed: 0,
};
const split = (name: string, before: number, after: number) => ({
  name,
  domain: name === "in_domain" ? "restaurant" : "hotel",
  n: 10,
  before,
  after,
});
const ROW: AbscRow = {
  method: "joint",
  layers: [2],
  params: 2052,
  losses: [
    { step: 0, loss: 1.1 },
    { step: 1, loss: 1.05 },
    { step: 2, loss: 0.9 },
  ],
  splits: [split("in_domain", 0.5, 0.6), split("out_of_domain", 0.4, 0.3)],
  apply: { edits: [] },
};

let store: CausewayStore;
let port: AbscPort;

function load(name: string) {
  store.getState().loadModel({ kind: "bundled", name });
  store.getState().receive(
    {
      type: "load",
      reqId: port.loads.at(-1)!.reqId,
      backend: "wasm",
      model: { name, nParams: 1, config: { nLayer: 6, nHead: 4 } as never },
    },
    "load",
  );
}

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0 });
  port = new AbscPort();
  store.getState().connect(port);
  load("tiny-facts");
});

const answer = (msg: FromWorker) => store.getState().receive(msg, "absc");

describe("ABSC slice", () => {
  it("keeps each row as it arrives, the progress per step, and the rows through a cancel", () => {
    store.getState().runAbsc(REQUEST);
    const { reqId, request } = port.abscCalls[0];
    expect(request).toEqual(REQUEST);
    expect(store.getState().absc).toMatchObject({ status: "running", model: "tiny-facts" });
    answer({
      type: "progress",
      reqId,
      request: "absc",
      phase: "train",
      method: "joint",
      index: 0,
      methods: 2,
      done: 1,
      total: 2,
      loss: 1.05,
    });
    expect(store.getState().absc.progress).toMatchObject({ method: "joint", done: 1, total: 2 });
    answer({ type: "absc", reqId, row: ROW });
    expect(store.getState().absc.rows).toEqual([ROW]);
    store.getState().cancelAbsc();
    expect(port.abscCancels).toBe(1);
    const a = store.getState().absc;
    expect([a.status, a.rows, a.progress]).toEqual(["cancelled", [ROW], null]);
    // a late answer of the cancelled run changes nothing
    answer({ type: "absc", reqId, row: { ...ROW, method: "ft_layer" } });
    expect(store.getState().absc.rows).toEqual([ROW]);
  });

  it("a failure keeps the rows before it and says why", () => {
    store.getState().runAbsc(REQUEST);
    const { reqId } = port.abscCalls[0];
    answer({ type: "absc", reqId, row: ROW });
    answer({ type: "error", reqId, code: "bad_edit", message: "n_train must be 1 to 600" });
    expect(store.getState().absc).toMatchObject({
      status: "error",
      rows: [ROW],
      error: { code: "bad_edit", message: "n_train must be 1 to 600" },
    });
  });

  it("Locate: one click asks for the reviews, and their answer starts the Dataset trace", () => {
    store.getState().locateAbsc();
    const { reqId, request } = port.abscCalls[0];
    expect(request).toEqual({ mode: "facts" });
    expect(store.getState().absc.locate.status).toBe("running");
    const facts = [
      {
        known_id: 0,
        prompt: "Review: the food was good.",
        subject: " food",
        attribute: " positive",
      },
    ];
    const labels = [" positive", " negative", " neutral"];
    answer({ type: "abscFacts", reqId, domain: "restaurant", facts, labels });
    answer({ type: "done", reqId, ms: 1, tensorsLeft: 0 });
    expect(store.getState().absc.locate.status).toBe("ok");
    expect(store.getState().dataset.settings.factsName).toBe("ABSC reviews (restaurant test)");
    expect(port.lastRun().job).toEqual({
      type: "dataset",
      kinds: ["hidden", "mlp", "attn"],
      samples: 3,
      limit: 10,
      facts,
      answerAmong: labels, // traced when right among the labels, as causeway absc --locate
    });
    // the training state is untouched by a locate
    expect(store.getState().absc.status).toBe("idle");
    // the labels go with the reviews: a dropped file, or the model's own facts, are traced by top-1
    store.getState().loadFactsFile(JSON.stringify(facts), "mine.json");
    store.getState().runDataset();
    expect(port.lastRun().job).not.toHaveProperty("answerAmong");
    answer({ type: "abscFacts", reqId, domain: "restaurant", facts, labels });
    expect(store.getState().dataset.settings.answerAmong).toEqual(labels);
    store.getState().setDatasetSettings({ facts: null, factsName: null });
    expect(store.getState().dataset.settings.answerAmong).toBeNull();
  });

  it("without a model nothing is sent and the form gets the reason", () => {
    const bare = createCausewayStore({ debounceMs: 0 });
    const p = new AbscPort();
    bare.getState().connect(p);
    bare.getState().runAbsc(REQUEST);
    bare.getState().locateAbsc();
    expect(p.abscCalls).toEqual([]);
    expect(bare.getState().absc.error).toMatchObject({ code: "no_model" });
    expect(bare.getState().absc.locate.error).toMatchObject({ code: "no_model" });
  });

  it("a new model stops a running training: cancelled, its rows kept with their model", () => {
    store.getState().runAbsc(REQUEST);
    answer({ type: "absc", reqId: port.abscCalls[0].reqId, row: ROW });
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts-llama" });
    const a = store.getState().absc;
    expect([a.status, a.rows, a.model]).toEqual(["cancelled", [ROW], "tiny-facts"]);
    // AbscTable shows rows only while their model is the one loaded
    load("tiny-facts-llama");
    expect(store.getState().model.info?.name).toBe("tiny-facts-llama");
  });
});
