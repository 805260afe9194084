/** The dataset slice with a fake worker: facts files, the job, the result. */
import { beforeEach, describe, expect, it } from "vitest";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { parseFactsFile } from "../lib/store/dataset-slice";
import { FakePort } from "./store-fake-port";

let store: CausewayStore;
let port: FakePort;

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0 });
  port = new FakePort();
  store.getState().connect(port);
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
  store.getState().receive(
    {
      type: "load",
      reqId: port.loads[0].reqId,
      backend: "wasm",
      model: { name: "tiny-facts", nParams: 1, config: { nLayer: 6, nHead: 4 } as never },
    },
    "load",
  );
});

const FACT = {
  prompt: "Ralkrok Stennos lives in the city of",
  subject: "Ralkrok Stennos",
  attribute: " Parrow",
};

describe("facts files", () => {
  it("accept ROME's list and the bundled { known_facts } shape", () => {
    expect(parseFactsFile(JSON.stringify([FACT]), "known_1000.json")).toEqual([FACT]);
    expect(parseFactsFile(JSON.stringify({ known_facts: [FACT] }), "d.json")).toEqual([FACT]);
  });

  it("refuse other JSON with a message naming the file and the problem", () => {
    expect(parseFactsFile("{", "x.json")).toMatchObject({ code: "bad_file" });
    expect(parseFactsFile("{}", "x.json")).toMatchObject({
      message: expect.stringContaining("known_facts"),
    });
    expect(parseFactsFile("[]", "x.json")).toMatchObject({ message: "x.json has no facts" });
    expect(parseFactsFile(JSON.stringify([{ prompt: "p" }]), "x.json")).toMatchObject({
      message: 'x.json: fact 0 has no string "subject"',
    });
  });
});

describe("dataset runs", () => {
  it("send the settings (and a dropped file's facts) and keep the averaged curves", () => {
    store.getState().runDataset();
    expect(port.lastRun().job).toEqual({
      type: "dataset",
      kinds: ["hidden", "mlp", "attn"],
      samples: 3,
      limit: 10,
    });
    store.getState().loadFactsFile(JSON.stringify([FACT]), "mine.json");
    expect(store.getState().dataset.settings.factsName).toBe("mine.json");
    store.getState().setDatasetSettings({ kinds: ["hidden"], limit: 1 });
    store.getState().runDataset();
    const { reqId, job } = port.lastRun();
    expect(job).toMatchObject({ type: "dataset", kinds: ["hidden"], limit: 1, facts: [FACT] });
    const result = {
      n_facts: 1,
      n_used: 1,
      skipped_wrong: 0,
      skipped_invalid: 0,
      avg_high_score: 0.9,
      avg_low_score: 0.4,
      n_layer: 6,
      samples: 3,
      noise: 3,
      seed: 1,
      strategy: "fast" as const,
      kinds: {},
      evaluations: 10,
      ms: 5,
    };
    store.getState().receive({ type: "dataset", reqId, result }, "run");
    store
      .getState()
      .receive({ type: "done", reqId, ms: 5, tensorsLeft: 0, evaluations: 10 }, "run");
    expect(store.getState().dataset.result).toEqual(result);
    expect(store.getState().dataset.run.status).toBe("done");
  });

  it("a bad file leaves the settings as they were and says why", () => {
    store.getState().loadFactsFile("not json", "bad.json");
    expect(store.getState().dataset.formError?.code).toBe("bad_file");
    expect(store.getState().dataset.settings.facts).toBeNull();
  });
});
