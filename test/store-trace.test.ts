/**
 * The trace slice with a fake worker: the subject (from a known fact, the subject box, the token
 * strip), the job sent, rows filling the grids, progress, cancel, errors, stale answers, and a
 * sweep replaced by one from another panel.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { traceCommandText } from "../components/TracePanel";
import type { FromWorker, SweepKind, TraceBaselineInfo } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

const PROMPT = "Ralkrok Stennos lives in the city of";
const TOKENS = ["R", "al", "krok", " Sten", "nos", " lives", " in", " the", " city", " of"];
const CF = "Nerzessar Pelpan lives in the city of";
const L = 6;

let store: CausewayStore;
let port: FakePort;

function ready(prompt = PROMPT, tokens = TOKENS) {
  const s = store.getState();
  s.receive(
    {
      type: "load",
      reqId: port.loads[0].reqId,
      backend: "webgpu",
      model: {
        name: "tiny-facts",
        nParams: 1,
        config: {
          nLayer: L,
          nHead: 4,
          dModel: 128,
          nCtx: 64,
          vocabSize: 1303,
          dMlp: 512,
          layerNormEps: 1e-5,
          activation: "gelu_new",
        } as never,
      },
    },
    "load",
  );
  answerPrediction(prompt, tokens);
}

function answerPrediction(prompt: string, tokens: string[]) {
  const p = port.predicts.at(-1)!;
  expect(p.prompt).toBe(prompt);
  store.getState().receive(
    {
      type: "predict",
      reqId: p.reqId,
      ms: 1,
      prediction: {
        inputIds: tokens.map((_, i) => i),
        inputTokens: tokens,
        top: [{ id: 1028, token: " Parrow", prob: 0.98 }],
      },
    },
    "predict",
  );
}

function baseline(kind: "hidden" | "mlp" | "attn", reqId: number): FromWorker {
  const b: TraceBaselineInfo = {
    job: "trace",
    kind,
    ids: TOKENS.map((_, i) => i),
    tokens: TOKENS,
    subject: [0, 5],
    answer: { id: 1028, token: " Parrow", ids: [1028], tokens: [" Parrow"] },
    high: 0.99,
    low: 0.39,
    noiseSigma: 0.3,
    window: 1,
    nLayer: L,
    samples: 10,
    corruption: "noise",
  };
  return { type: "baseline", reqId, kind, baseline: b };
}

const row = (reqId: number, kind: SweepKind, t: number, v = t / 10): FromWorker => ({
  type: "rows",
  reqId,
  kind,
  rows: [t],
  values: new Float32Array(L).fill(v),
  width: L,
});

beforeEach(() => {
  store = createCausewayStore({
    debounceMs: 0,
    initialPrompt: PROMPT,
    examples: [
      {
        prompt: PROMPT,
        subject: "Ralkrok Stennos",
        attribute: " Parrow",
        counterfactual: { prompt: CF, subject: "Nerzessar Pelpan", attribute: " Tessari" },
      },
    ],
  });
  port = new FakePort();
  store.getState().connect(port);
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
});

describe("the subject", () => {
  it("is filled in from the known fact once the prompt's tokens are known", () => {
    expect(store.getState().trace.settings.subjectRange).toBeNull();
    ready();
    const st = store.getState().trace.settings;
    expect(st.subjectText).toBe("Ralkrok Stennos");
    expect(st.subjectRange).toEqual([0, 5]);
    expect(st.counterfactual).toBe(CF);
  });

  it("typed text is found in the tokens; text not in the prompt is a clear error", () => {
    ready();
    store.getState().setSubjectText("Stennos");
    expect(store.getState().trace.settings.subjectRange).toEqual([3, 5]);
    store.getState().setSubjectText("Eiffel Tower");
    const { subjectError, settings } = store.getState().trace;
    expect(settings.subjectRange).toBeNull();
    expect(subjectError?.code).toBe("subject_not_found");
    expect(subjectError?.message).toContain("Eiffel Tower");
    store.getState().runTrace();
    expect(port.runs).toHaveLength(0);
    expect(store.getState().trace.formError?.code).toBe("subject_not_found");
  });

  it("picked on the token strip: the range wins and the box shows its text", () => {
    ready();
    store.getState().selectSubjectRange([3, 5]);
    const st = store.getState().trace.settings;
    expect(st.subjectRange).toEqual([3, 5]);
    expect(st.subjectText).toBe("Stennos");
    store.getState().runTrace();
    const job = port.lastRun().job;
    expect(job.type === "trace" && job.spec.subject).toEqual([3, 5]);
  });

  it("follows the prompt: a new prompt re-finds the typed subject in its tokens", () => {
    ready();
    store.getState().setSubjectText("Stennos");
    store.getState().setPrompt("Ralkrok Stennos works as a");
    store.getState().runPrediction();
    answerPrediction("Ralkrok Stennos works as a", [
      "R",
      "al",
      "krok",
      " Sten",
      "nos",
      " works",
      " as",
      " a",
    ]);
    expect(store.getState().trace.settings.subjectRange).toEqual([3, 5]);
    store.getState().setPrompt("Nobody works as a");
    store.getState().runPrediction();
    answerPrediction("Nobody works as a", ["Nobody", " works", " as", " a"]);
    expect(store.getState().trace.subjectError?.code).toBe("subject_not_found");
  });

  it("noise corruption without a subject is refused before reaching the worker", () => {
    store = createCausewayStore({ debounceMs: 0, initialPrompt: PROMPT });
    port = new FakePort();
    store.getState().connect(port);
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    ready();
    store.getState().runTrace();
    expect(port.runs).toHaveLength(0);
    expect(store.getState().trace.formError?.code).toBe("bad_subject");
  });
});

describe("a trace run", () => {
  it("sends the settings as a job: three kinds, ROME's defaults, target only when given", () => {
    ready();
    store.getState().runTrace();
    const { job } = port.lastRun();
    expect(job).toEqual({
      type: "trace",
      kinds: ["hidden", "mlp", "attn"],
      spec: {
        prompt: PROMPT,
        subject: [0, 5],
        samples: 10,
        noise: 3,
        seed: 1,
        corruption: { type: "noise" },
      },
    });
    store.getState().setTraceSettings({ target: "Tessari", samples: 3, window: 2, seed: 7 });
    store.getState().runTrace();
    const j2 = port.lastRun().job;
    expect(j2.type === "trace" && j2.spec).toMatchObject({
      target: "Tessari",
      samples: 3,
      window: 2,
      seed: 7,
    });
  });

  it("a counterfactual prompt is sent as prompt corruption", () => {
    ready();
    store.getState().setTraceSettings({ corruption: "prompt" });
    store.getState().runTrace();
    const j = port.lastRun().job;
    expect(j.type === "trace" && j.spec.corruption).toEqual({ type: "prompt", prompt: CF });
  });

  it("baseline makes an empty T × L grid per kind; rows fill it; done reports the balance", () => {
    ready();
    store.getState().runTrace();
    const id = port.lastRun().reqId;
    const s = () => store.getState();
    expect(s().trace.run.status).toBe("running");
    s().receive(baseline("hidden", id), "run");
    const g0 = s().trace.result!.grids.hidden!;
    expect([g0.rows, g0.cols, g0.filled]).toEqual([10, L, 0]);
    expect(s().trace.result!.tokens).toEqual(TOKENS);
    s().receive(row(id, "hidden", 3), "run");
    s().receive(row(id, "hidden", 0), "run");
    const g1 = s().trace.result!.grids.hidden!;
    expect(g1.filled).toBe(2 * L);
    expect(g1.values[3 * L]).toBeCloseTo(0.3, 6);
    expect(Number.isNaN(g1.values[L])).toBe(true);
    expect(g0.filled).toBe(0); // the old state object is untouched
    s().receive(
      {
        type: "progress",
        request: "run",
        reqId: id,
        phase: "sweep",
        kind: "hidden",
        done: 50,
        total: 200,
        etaMs: 900,
      },
      "run",
    );
    expect(s().trace.run.progress).toEqual({
      phase: "sweep",
      kind: "hidden",
      done: 50,
      total: 200,
      etaMs: 900,
    });
    s().receive({ type: "done", reqId: id, ms: 1234, tensorsLeft: 0, evaluations: 9000 }, "run");
    expect(s().trace.run).toMatchObject({
      status: "done",
      ms: 1234,
      tensorsLeft: 0,
      evaluations: 9000,
    });
  });

  it("answers of an older run are ignored", () => {
    ready();
    store.getState().runTrace();
    const old = port.lastRun().reqId;
    store.getState().runTrace();
    const id = port.lastRun().reqId;
    store.getState().receive(baseline("hidden", old), "run");
    expect(store.getState().trace.result).toBeNull();
    store.getState().receive(baseline("hidden", id), "run");
    store.getState().receive(row(old, "hidden", 1), "run");
    expect(store.getState().trace.result!.grids.hidden!.filled).toBe(0);
  });

  it("cancel: asks the worker, says cancelling, then cancelled with the tensor balance", () => {
    ready();
    store.getState().runTrace();
    const id = port.lastRun().reqId;
    store.getState().receive(baseline("hidden", id), "run");
    store.getState().receive(row(id, "hidden", 0), "run");
    store.getState().cancelRun();
    expect(port.cancels).toBe(1);
    expect(store.getState().trace.run.status).toBe("cancelling");
    store
      .getState()
      .receive(
        { type: "done", reqId: id, ms: 50, tensorsLeft: 0, cancelled: true, evaluations: 10 },
        "run",
      );
    const t = store.getState().trace;
    expect(t.run.status).toBe("cancelled");
    expect(t.run.tensorsLeft).toBe(0);
    expect(t.result!.grids.hidden!.filled).toBe(L); // what was computed stays on screen
    store.getState().cancelRun(); // nothing left to cancel
    expect(port.cancels).toBe(1);
  });

  it("an engine error is shown with its code", () => {
    ready();
    store.getState().runTrace();
    const id = port.lastRun().reqId;
    store.getState().receive(
      {
        type: "error",
        reqId: id,
        code: "length_mismatch",
        message: "the counterfactual prompt has 9 tokens",
      },
      "run",
    );
    expect(store.getState().trace.run.status).toBe("error");
    expect(store.getState().trace.run.error?.code).toBe("length_mismatch");
  });

  it("a patch run started meanwhile replaces the trace, which says so", () => {
    ready();
    store.getState().runTrace();
    store.getState().runPatch();
    const t = store.getState().trace.run;
    expect(t.status).toBe("cancelled");
    expect(t.note).toMatch(/replaced by activation patching/);
    expect(store.getState().patch.run.status).toBe("running");
  });

  it("loading another model clears the trace", () => {
    ready();
    store.getState().runTrace();
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    expect(store.getState().trace.run.status).toBe("idle");
    expect(store.getState().trace.result).toBeNull();
  });

  it("a run refused by the worker before its first baseline leaves the trace on screen", () => {
    ready();
    store.getState().runTrace();
    const first = port.lastRun().reqId;
    store.getState().receive(baseline("hidden", first), "run");
    for (let t = 0; t < TOKENS.length; t++)
      store.getState().receive(row(first, "hidden", t), "run");
    store.getState().receive({ type: "done", reqId: first, ms: 1, tensorsLeft: 0 }, "run");
    const shown = store.getState().trace.result;
    expect(shown?.grids.hidden?.filled).toBe(TOKENS.length * L);

    // a counterfactual of another length: the worker refuses it
    store.getState().setTraceSettings({ corruption: "prompt", counterfactual: "Paris is in" });
    store.getState().runTrace();
    const second = port.lastRun().reqId;
    expect(store.getState().trace.result).toBe(shown); // still on screen while it starts
    expect(store.getState().trace.pending?.job.spec.corruption).toEqual({
      type: "prompt",
      prompt: "Paris is in",
    });
    store
      .getState()
      .receive({ type: "error", reqId: second, code: "length_mismatch", message: "…" }, "run");
    const t = store.getState().trace;
    expect(t.run.status).toBe("error");
    expect(t.result).toBe(shown); // the 10 × 6 grid is not erased

    // a cancelled run that produced nothing leaves it too
    store.getState().setTraceSettings({ corruption: "noise" });
    store.getState().runTrace();
    const third = port.lastRun().reqId;
    store.getState().cancelRun();
    store
      .getState()
      .receive({ type: "done", reqId: third, ms: 1, tensorsLeft: 0, cancelled: true }, "run");
    expect(store.getState().trace.result).toBe(shown);

    // the next run's first baseline replaces it
    store.getState().runTrace();
    const fourth = port.lastRun().reqId;
    store.getState().receive(baseline("mlp", fourth), "run");
    expect(store.getState().trace.result).not.toBe(shown);
    expect(store.getState().trace.result?.grids.mlp?.filled).toBe(0);
    expect(store.getState().trace.pending).toBeNull();
  });

  it("a prompt longer than the context is refused before the worker, with the prediction's reason", () => {
    ready();
    const long = `${PROMPT} ${"and again ".repeat(40)}`;
    store.getState().setPrompt(long);
    store.getState().runPrediction();
    const p = port.predicts.at(-1);
    expect(p?.prompt).toBe(long);
    store.getState().receive(
      {
        type: "error",
        reqId: p!.reqId,
        code: "prompt_too_long",
        message: "The prompt has 90 tokens, longer than the model's context of 64 tokens.",
      },
      "predict",
    );
    const runs = port.runs.length;
    store.getState().runTrace();
    expect(port.runs).toHaveLength(runs);
    expect(store.getState().trace.formError?.code).toBe("prompt_too_long");
  });

  it("refuses to run before the model is ready", () => {
    store.getState().runTrace();
    expect(port.runs).toHaveLength(0);
    expect(store.getState().trace.formError?.code).toBe("no_model");
  });
});

describe("the command line under the trace (components/TracePanel.tsx traceCommandText)", () => {
  const command = () => traceCommandText(store.getState().trace, "tiny-facts");

  it("is the finished trace's; a run that fails after its baseline leaves none", () => {
    ready();
    expect(command()).toBeNull(); // no trace yet
    store.getState().runTrace();
    const first = port.lastRun().reqId;
    store.getState().receive(baseline("hidden", first), "run");
    store.getState().receive({ type: "done", reqId: first, ms: 1, tensorsLeft: 0 }, "run");
    const done = command();
    expect(done).toMatch(/^npx causeway trace --model tiny-facts .*--samples 10 /);

    // 200 samples, which fail after some rows (the worker stopped): the rows stay, no command
    store.getState().setTraceSettings({ samples: 200 });
    store.getState().runTrace();
    const second = port.lastRun().reqId;
    store.getState().receive(baseline("hidden", second), "run");
    store.getState().receive(row(second, "hidden", 0), "run");
    expect(command()).toMatch(/--samples 200 /); // running: the trace filling in
    store
      .getState()
      .receive({ type: "error", reqId: second, code: "worker_failed", message: "…" }, "run");
    expect(store.getState().trace.result?.grids.hidden?.filled).toBe(L);
    expect(command()).toBeNull();
  });

  it("a run that fails before its baseline leaves the previous trace, and its command", () => {
    ready();
    store.getState().runTrace();
    const first = port.lastRun().reqId;
    store.getState().receive(baseline("hidden", first), "run");
    store.getState().receive({ type: "done", reqId: first, ms: 1, tensorsLeft: 0 }, "run");
    const done = command();
    store.getState().setTraceSettings({ samples: 200 });
    store.getState().runTrace();
    const second = port.lastRun().reqId;
    store
      .getState()
      .receive({ type: "error", reqId: second, code: "length_mismatch", message: "…" }, "run");
    expect(done).not.toBeNull();
    expect(command()).toBe(done);
  });
});
