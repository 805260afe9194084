/**
 * Opening a shared session in the store (lib/share/open.ts) with a fake worker: the link's
 * settings reach the store, the trace is run once the model is ready and the prompt's tokens are
 * known, and the recomputed grid is compared with the carried one — equal within the tolerance
 * → no flags; a cell off by more → flagged with its position and both values.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { TraceJob } from "../lib/protocol";
import { COMPARE_TOLERANCE } from "../lib/share/compare";
import { type OpenPhase, openSession } from "../lib/share/open";
import { DEFAULT_SESSION, type SharedSession } from "../lib/share/session";
import { sessionOf } from "../lib/share/store";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

const PROMPT = "Ralkrok Stennos lives in the city of";
const TOKENS = ["R", "al", "krok", " Sten", "nos", " lives"];
const L = 2;
const VALUES = [0.5, 0.25, 0.125, 0.0625, 0.75, 0.875, 0.3125, 0.4375, 0.5625, 0.6875, 0.1, 0.2];

let store: CausewayStore;
let port: FakePort;

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: "The page's example" });
  port = new FakePort();
  store.getState().connect(port);
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
});

const session: SharedSession = {
  ...DEFAULT_SESSION,
  prompt: PROMPT,
  subject: "Ralkrok Stennos",
  subjectRange: [0, 5],
  samples: 2,
  seed: 9,
  kinds: ["hidden"],
  patch: { clean: PROMPT, corrupt: "x", target: "", foil: "" },
  selectedHead: { layer: 1, head: 3 },
  trace: {
    tokens: TOKENS,
    subject: [0, 5],
    answer: " Parrow",
    low: 0.0625,
    high: 0.875,
    window: 1,
    grids: [{ kind: "hidden", rows: TOKENS.length, cols: L, values: VALUES }],
  },
};

function ready() {
  store.getState().receive(
    {
      type: "load",
      reqId: port.loads.at(-1)?.reqId ?? 0,
      backend: "wasm",
      model: {
        name: "tiny-facts",
        nParams: 1,
        config: { nLayer: L, nHead: 4, dModel: 128, nCtx: 64, vocabSize: 1303, dMlp: 512 } as never,
      },
    },
    "load",
  );
}

async function predicted() {
  await new Promise((r) => setTimeout(r, 5));
  const p = port.predicts.at(-1);
  expect(p?.prompt).toBe(PROMPT);
  store.getState().receive(
    {
      type: "predict",
      reqId: p?.reqId ?? 0,
      ms: 1,
      prediction: {
        inputIds: TOKENS.map((_, i) => i),
        inputTokens: TOKENS,
        top: [{ id: 7, token: " Parrow", prob: 0.9 }],
      },
    },
    "predict",
  );
}

function answerRun(values: number[]) {
  const run = port.runs.at(-1);
  if (!run) throw new Error("no run");
  const r = store.getState().receive;
  r(
    {
      type: "baseline",
      reqId: run.reqId,
      kind: "hidden",
      baseline: {
        job: "trace",
        kind: "hidden",
        ids: TOKENS.map((_, i) => i),
        tokens: TOKENS,
        subject: [0, 5],
        answer: { id: 7, token: " Parrow", ids: [7], tokens: [" Parrow"] },
        high: 0.875,
        low: 0.0625,
        noiseSigma: 0.3,
        window: 1,
        nLayer: L,
        samples: 2,
        corruption: "noise",
      },
    },
    "run",
  );
  r(
    {
      type: "rows",
      reqId: run.reqId,
      kind: "hidden",
      rows: TOKENS.map((_, i) => i),
      values: Float32Array.from(values),
      width: L,
    },
    "run",
  );
  r({ type: "done", reqId: run.reqId, ms: 1, tensorsLeft: 0, evaluations: 12 }, "run");
}

async function open(): Promise<OpenPhase[]> {
  const phases: OpenPhase[] = [];
  openSession(store, session, (p) => phases.push(p));
  ready();
  await predicted();
  return phases;
}

describe("opening a shared session", () => {
  it("applies the settings and runs the link's trace once the tokens are known", async () => {
    const phases = await open();
    const s = store.getState();
    expect(s.predict.prompt).toBe(PROMPT);
    expect(s.trace.settings).toMatchObject({ samples: 2, seed: 9, kinds: ["hidden"] });
    expect(s.patch.settings.corrupt).toBe("x");
    expect(port.runs).toHaveLength(1);
    const job = port.runs[0].job as TraceJob;
    expect(job.spec).toMatchObject({ prompt: PROMPT, subject: [0, 5], samples: 2, seed: 9 });
    expect(phases.map((p) => p.phase)).toEqual(["waiting", "recomputing"]);
    // what is on screen is the link's session again (without the grids until they are computed)
    // (the selected head waits for a patching grid: next test)
    expect({
      ...sessionOf(s, false),
      trace: session.trace,
      selectedHead: session.selectedHead,
    }).toEqual(session);
  });

  it("recomputed within the tolerance: compared, nothing flagged", async () => {
    const phases = await open();
    answerRun(VALUES.map((v, i) => v + (i % 2 ? 1 : -1) * COMPARE_TOLERANCE * 0.9));
    const last = phases.at(-1);
    expect(last?.phase).toBe("compared");
    if (last?.phase !== "compared") return;
    expect(last.comparison.cells).toBe(VALUES.length);
    expect(last.comparison.flagged).toEqual([]);
  });

  it("a cell beyond the tolerance is flagged with both values", async () => {
    const phases = await open();
    const values = [...VALUES];
    values[5] += 0.05;
    answerRun(values);
    const last = phases.at(-1);
    if (last?.phase !== "compared") throw new Error(`phase ${last?.phase}`);
    expect(last.comparison.flagged).toHaveLength(1);
    const f = last.comparison.flagged[0];
    expect(f).toMatchObject({ kind: "hidden", row: 2, col: 1, carried: VALUES[5] });
    expect(f.recomputed).toBeCloseTo(VALUES[5] + 0.05, 5);
  });
});

describe("the generation settings", () => {
  it("a link's sampled decoding is restored in the store and shared again (issue 10.10)", async () => {
    const generation = { maxNew: 12, sample: true, seed: 77, temperature: 0.5, topK: 3 };
    openSession(store, { ...session, generation }, () => {});
    expect(store.getState().generateSettings).toEqual(generation);
    expect(sessionOf(store.getState()).generation).toEqual(generation);
  });
});

describe("a session whose prompt the model refuses", () => {
  it("fails with the reason instead of waiting forever for its tokens (issue 10.10)", async () => {
    const long = "a ".repeat(5000);
    const phases: OpenPhase[] = [];
    openSession(store, { ...session, prompt: long }, (p) => phases.push(p));
    ready();
    await new Promise((r) => setTimeout(r, 5));
    const p = port.predicts.at(-1);
    expect(p?.prompt).toBe(long);
    const message = "The prompt has 5000 tokens, longer than the model's context of 64 tokens.";
    store
      .getState()
      .receive({ type: "error", reqId: p?.reqId ?? 0, code: "too_long", message }, "predict");
    expect(phases.at(-1)).toEqual({ phase: "failed", message });
    expect(port.runs).toHaveLength(0);
  });

  it("an empty prompt with nothing to recompute is simply applied", async () => {
    const phases: OpenPhase[] = [];
    openSession(store, { ...session, prompt: "", trace: null }, (p) => phases.push(p));
    ready();
    expect(phases.at(-1)).toEqual({ phase: "applied" });
  });
});

describe("the selected head", () => {
  it("is selected again once the patching grid is on screen", async () => {
    await open();
    expect(port.attentions).toEqual([]);
    const s = store.getState();
    s.setPatchSettings({ corrupt: "Nerzessar Pelpan lives" });
    s.runPatch();
    const run = port.runs.at(-1);
    if (!run || run.job.type !== "patch") throw new Error("no patch run");
    s.receive(
      {
        type: "baseline",
        reqId: run.reqId,
        kind: "head_out",
        baseline: {
          job: "patch",
          site: "head_out",
          metric: "logit_diff_normalized",
          cleanIds: [0, 1],
          corruptIds: [0, 1],
          strategy: "fast",
          cleanTokens: ["a", "b"],
          corruptTokens: ["c", "b"],
          target: { id: 1, token: "x" },
          foil: { id: 2, token: "y" },
          cleanLogitDiff: 2,
          corruptLogitDiff: -1,
          cleanProb: 0.5,
          corruptProb: 0.1,
          nLayer: L,
          nHead: 4,
        },
      },
      "run",
    );
    expect(store.getState().patch.selected).toEqual({ layer: 1, head: 3 });
    expect(port.attentions.map((a) => [a.layer, a.head])).toEqual([[1, 3]]);
  });
});
