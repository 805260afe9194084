/**
 * The edits slice with a fake worker: every change sends the whole stack, ids are unique, the
 * learned stack replaces the recipes (also in the history), progress streams into a loss curve,
 * undo restores the previous stack exactly, a refused stack is rolled back with its error, a
 * cancelled learning is rolled back without one (and the applied stack sent again),
 * predictions carry the original beside the edited one, and "re-trace edited" runs the trace's
 * job on the edited model while keeping the original grids.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { Edit, RomeEdit } from "../lib/edit/types";
import type { FromWorker } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { checkRetrace, isCompareStale } from "../lib/store/compare-slice";
import { stackKey } from "../lib/store/edits-slice";
import { FakePort } from "./store-fake-port";

const PROMPT = "Ralkrok Stennos lives in the city of";
const TOKENS = ["R", "al", "krok", " Sten", "nos", " lives", " in", " the", " city", " of"];

let store: CausewayStore;
let port: FakePort;

const st = () => store.getState();

function ready() {
  st().receive(
    {
      type: "load",
      reqId: port.loads[0].reqId,
      backend: "wasm",
      model: {
        name: "tiny-facts",
        nParams: 1,
        config: { nLayer: 6, nHead: 4, dModel: 128, nCtx: 64, vocabSize: 1303 } as never,
      },
    },
    "load",
  );
}

function predictionAnswer(top: string, original?: string): FromWorker {
  const p = port.predicts.at(-1)!;
  const pred = (t: string) => ({
    inputIds: TOKENS.map((_, i) => i),
    inputTokens: TOKENS,
    top: [{ id: 1, token: t, prob: 0.9 }],
  });
  return {
    type: "predict",
    reqId: p.reqId,
    ms: 1,
    prediction: pred(top),
    ...(original ? { original: pred(original) } : {}),
  };
}

const recipe = (target = "Halvek"): RomeEdit => ({
  kind: "rome",
  site: { layer: 0 },
  params: { prompt: "{} lives in the city of", subject: "Ralkrok Stennos", target_new: target },
});

const learnedOf = (e: Edit): Edit => ({ ...e, learned: { u: [1], v: [2] } }) as Edit;
const scale = (s: number): Edit => ({
  kind: "head_scale",
  site: { layer: 1, head: 2 },
  params: { scale: s },
});

/** Answers the latest setEdits as the worker would: every recipe learned. */
function answerEdits() {
  const call = port.setEditsCalls.at(-1)!;
  st().receive(
    {
      type: "setEdits",
      reqId: call.reqId,
      edits: call.edits.map((e) => (e.kind === "rome" && !e.learned ? learnedOf(e) : e)),
    },
    "setEdits",
  );
}

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: PROMPT });
  port = new FakePort();
  st().connect(port);
  st().loadModel({ kind: "bundled", name: "tiny-facts" });
  ready();
  st().receive(predictionAnswer(" Parrow"), "predict");
});

describe("edit stack", () => {
  it("addEdit assigns an id, sends the stack, learns with progress, then stores the learned edit", () => {
    st().addEdit(recipe());
    const e = st().edits;
    expect(e.stack).toHaveLength(1);
    expect(typeof e.stack[0].id).toBe("string");
    expect(e.status).toBe("learning");
    const call = port.setEditsCalls.at(-1)!;
    expect(call.edits).toEqual(e.stack);

    for (const [step, loss] of [
      [1, 4.2],
      [2, 2.1],
    ]) {
      st().receive(
        {
          type: "progress",
          request: "setEdits",
          reqId: call.reqId,
          phase: "learn",
          index: 0,
          done: step,
          total: 20,
          loss,
          pNew: step / 10,
        },
        "setEdits",
      );
    }
    expect(st().edits.progress).toEqual({
      index: 0,
      phase: "learn",
      step: 2,
      total: 20,
      loss: 2.1,
      pNew: 0.2,
    });
    expect(st().edits.curve).toEqual([
      { step: 1, loss: 4.2, pNew: 0.1 },
      { step: 2, loss: 2.1, pNew: 0.2 },
    ]);

    const predictsBefore = port.predicts.length;
    answerEdits();
    const after = st().edits;
    expect(after.status).toBe("ready");
    expect(after.progress).toBeNull();
    expect((after.stack[0] as RomeEdit).learned).toEqual({ u: [1], v: [2] });
    expect(after.stack[0].id).toBe(e.stack[0].id);
    // the model changed: the prediction is asked again (edited, with the original alongside)
    expect(port.predicts.length).toBe(predictsBefore + 1);
    st().receive(predictionAnswer(" Halvek", " Parrow"), "predict");
    expect(st().predict.result?.top[0].token).toBe(" Halvek");
    expect(st().predict.original?.top[0].token).toBe(" Parrow");
  });

  it("ids stay unique, also for edits that come with clashing ids", () => {
    st().setEditStack([{ ...scale(0), id: "a" }, { ...scale(2), id: "a" }, scale(3)]);
    const ids = st().edits.stack.map((e) => e.id);
    expect(ids[0]).toBe("a");
    expect(new Set(ids).size).toBe(3);
  });

  it("toggle, move and remove send the new stack; undo restores each previous stack exactly", () => {
    st().addEdit(recipe());
    answerEdits();
    st().addEdit(scale(0));
    answerEdits();
    const two = st().edits.stack;
    const [a, b] = two.map((e) => e.id!);

    st().toggleEdit(a);
    expect(st().edits.stack[0].enabled).toBe(false);
    expect(port.setEditsCalls.at(-1)!.edits[0].enabled).toBe(false);
    expect(st().edits.status).toBe("idle"); // nothing to learn, not applied yet
    answerEdits();
    expect(st().edits.status).toBe("ready");

    st().moveEdit(b, -1);
    expect(st().edits.stack.map((e) => e.id)).toEqual([b, a]);
    st().moveEdit(b, -1); // already first: nothing happens
    expect(st().edits.history).toHaveLength(4);
    answerEdits();

    st().removeEdit(a);
    expect(st().edits.stack.map((e) => e.id)).toEqual([b]);
    answerEdits();

    const sent = port.setEditsCalls.length;
    st().undoEdits(); // back to [b, a (off)]
    expect(st().edits.stack.map((e) => e.id)).toEqual([b, a]);
    expect(port.setEditsCalls.length).toBe(sent + 1);
    answerEdits();
    st().undoEdits(); // [a (off), b]
    answerEdits();
    st().undoEdits(); // [a, b]: the learned ROME edit comes back, not relearned
    expect(st().edits.stack).toEqual(two);
    expect(st().edits.status).not.toBe("learning");
    answerEdits();
    st().undoEdits(); // [a]
    answerEdits();
    st().undoEdits(); // []
    expect(st().edits.stack).toEqual([]);
    expect(st().edits.history).toEqual([]);
    st().undoEdits(); // nothing left: no request
    expect(port.setEditsCalls.at(-1)!.edits).toEqual([]);
  });

  it("undo after learning restores the learned edit (history is updated by the answer)", () => {
    st().addEdit(recipe());
    answerEdits();
    const learned = st().edits.stack[0];
    st().addEdit(scale(0));
    answerEdits();
    st().undoEdits();
    expect(st().edits.stack).toEqual([learned]);
    expect(port.setEditsCalls.at(-1)!.edits).toEqual([learned]);
  });

  it("redo restores an undone learned edit exactly, without relearning; a new change drops redo", () => {
    st().addEdit(recipe());
    answerEdits();
    const learned = st().edits.stack[0];
    expect((learned as RomeEdit).learned).toBeDefined();
    st().undoEdits();
    answerEdits();
    expect(st().edits.stack).toEqual([]);
    expect(st().edits.future).toEqual([[learned]]);

    st().redoEdits();
    expect(st().edits.stack).toEqual([learned]);
    expect(st().edits.stack[0]).toBe(learned); // the very learned data, not a copy of the recipe
    expect(port.setEditsCalls.at(-1)!.edits).toEqual([learned]);
    expect(st().edits.status).not.toBe("learning"); // nothing to learn: only re-applied
    expect(st().edits.future).toEqual([]);
    expect(st().edits.history).toEqual([[]]);
    answerEdits();

    // undo twice, redo twice: each stack comes back in order
    st().addEdit(scale(0));
    answerEdits();
    const two = st().edits.stack;
    st().undoEdits();
    st().undoEdits();
    expect(st().edits.stack).toEqual([]);
    st().redoEdits();
    expect(st().edits.stack).toEqual([learned]);
    st().redoEdits();
    expect(st().edits.stack).toEqual(two);
    st().redoEdits(); // nothing left to redo
    expect(st().edits.stack).toEqual(two);

    // a new change after an undo empties the redo history
    st().undoEdits();
    expect(st().edits.future).toHaveLength(1);
    st().toggleEdit(learned.id!);
    expect(st().edits.future).toEqual([]);
  });

  it("an edit learned after its stack was undone is learned in the redo history too", () => {
    st().addEdit(scale(0));
    answerEdits();
    st().addEdit(recipe());
    const learning = port.setEditsCalls.at(-1)!;
    // the answer to the learning arrives for the stack that is still current
    st().receive(
      {
        type: "setEdits",
        reqId: learning.reqId,
        edits: learning.edits.map((e) => (e.kind === "rome" ? learnedOf(e) : e)),
      },
      "setEdits",
    );
    const learned = st().edits.stack;
    st().undoEdits();
    answerEdits();
    st().redoEdits();
    expect(st().edits.stack).toEqual(learned);
    expect(st().edits.status).not.toBe("learning");
  });

  it("a refused stack is rolled back to the applied one, with the worker's message", () => {
    st().addEdit(scale(0));
    answerEdits();
    const applied = st().edits.stack;
    st().addEdit({ kind: "head_scale", site: { layer: 99, head: 0 }, params: { scale: 0 } });
    const call = port.setEditsCalls.at(-1)!;
    st().receive(
      { type: "error", reqId: call.reqId, code: "bad_edit", message: "edit 1: layer 99 …" },
      "setEdits",
    );
    const e = st().edits;
    expect(e.status).toBe("error");
    expect(e.error).toEqual({ code: "bad_edit", message: "edit 1: layer 99 …" });
    expect(e.stack).toEqual(applied);
    expect(e.history).toHaveLength(1); // the failed change left no undo step
  });

  it("cancelLearning rolls the stack back to the applied one, with no error", () => {
    st().addEdit(scale(0));
    answerEdits();
    const applied = st().edits.stack;
    const history = st().edits.history;
    st().cancelLearning(); // not learning: nothing to cancel
    expect(port.editCancels).toBe(0);
    expect(port.setEditsCalls).toHaveLength(1);

    st().addEdit(recipe());
    const learning = port.setEditsCalls.at(-1)!;
    st().receive(
      {
        type: "progress",
        request: "setEdits",
        reqId: learning.reqId,
        phase: "learn",
        index: 1,
        done: 1,
        total: 40,
        loss: 2,
      },
      "setEdits",
    );
    expect(st().edits.status).toBe("learning");
    st().cancelLearning();
    expect(port.editCancels).toBe(1);
    let e = st().edits;
    expect(e.stack).toEqual(applied);
    expect(e.history).toEqual(history); // the change is undone, as undo would
    expect(e.status).toBe("idle");
    expect(e.error).toBeNull();
    expect(e.progress).toBeNull();
    expect(e.curve).toEqual([]);
    // the applied stack is sent again (nothing to learn), in case the worker had applied the new one
    expect(port.setEditsCalls).toHaveLength(3);
    expect(port.setEditsCalls.at(-1)!.edits).toEqual(applied);
    // the worker's late acknowledgement changes nothing
    st().receive(
      {
        type: "error",
        reqId: learning.reqId,
        code: "cancelled",
        message: "Learning was cancelled",
      },
      "setEdits",
    );
    st().receive(
      {
        type: "progress",
        request: "setEdits",
        reqId: learning.reqId,
        phase: "learn",
        index: 1,
        done: 2,
        total: 40,
        loss: 1,
      },
      "setEdits",
    );
    e = st().edits;
    expect(e.error).toBeNull();
    expect(e.progress).toBeNull();
    answerEdits();
    expect(st().edits.status).toBe("ready");
    expect(st().edits.stack).toEqual(applied);
  });

  it("answers to an older setEdits are ignored", () => {
    st().addEdit(recipe("Halvek"));
    const first = port.setEditsCalls.at(-1)!;
    st().addEdit(scale(0));
    st().receive(
      { type: "setEdits", reqId: first.reqId, edits: first.edits.map(learnedOf) },
      "setEdits",
    );
    expect(st().edits.status).toBe("learning");
    expect((st().edits.stack[0] as RomeEdit).learned).toBeUndefined();
  });

  it("a new model gets the stack again once it is ready", () => {
    st().addEdit(scale(0));
    answerEdits();
    const n = port.setEditsCalls.length;
    st().loadModel({ kind: "bundled", name: "tiny-facts" });
    expect(port.setEditsCalls.length).toBe(n);
    st().receive(
      {
        type: "load",
        reqId: port.loads[1].reqId,
        backend: "wasm",
        model: st().model.info ?? ({} as never),
      },
      "load",
    );
    expect(port.setEditsCalls.length).toBe(n + 1);
    expect(port.setEditsCalls.at(-1)!.edits).toEqual(st().edits.stack);
  });
});

describe("re-trace edited", () => {
  function traced() {
    st().setTraceSettings({ subjectText: "Ralkrok Stennos", kinds: ["mlp"] });
    st().syncSubject();
    st().runTrace();
    const run = port.lastRun();
    expect(run.variant).toBe("original");
    const baseline: FromWorker = {
      type: "baseline",
      reqId: run.reqId,
      kind: "mlp",
      baseline: {
        job: "trace",
        kind: "mlp",
        ids: TOKENS.map((_, i) => i),
        tokens: TOKENS,
        subject: [0, 5],
        answer: { id: 1, token: " Parrow", ids: [1], tokens: [" Parrow"] },
        high: 0.9,
        low: 0.1,
        noiseSigma: 0.3,
        window: 1,
        nLayer: 6,
        samples: 10,
        corruption: "noise",
      },
    };
    st().receive(baseline, "run");
    st().receive({ type: "done", reqId: run.reqId, ms: 1, tensorsLeft: 0, evaluations: 1 }, "run");
    return run;
  }

  it("needs a trace and an edit that changes the model", () => {
    st().retraceEdited();
    expect(st().compare.error?.code).toBe("no_trace");
    traced();
    st().retraceEdited();
    expect(st().compare.error?.code).toBe("no_edits");
    st().addEdit({ ...scale(0), enabled: false });
    answerEdits();
    st().retraceEdited();
    expect(st().compare.error?.code).toBe("no_edits");
  });

  it("runs the trace's job on the edited model and keeps the original grids", () => {
    const original = traced();
    st().addEdit(recipe());
    answerEdits();
    st().retraceEdited();
    const run = port.lastRun();
    expect(run.variant).toBe("edited");
    expect(run.job).toEqual(original.job);
    const c = st().compare;
    expect(c.error).toBeNull();
    expect(c.original).toBe(st().trace.result);
    expect(c.run.status).toBe("running");
    st().receive(
      {
        type: "baseline",
        reqId: run.reqId,
        kind: "mlp",
        baseline: { ...c.original!.grids.mlp!.baseline, high: 0.5 },
      },
      "run",
    );
    st().receive(
      {
        type: "rows",
        reqId: run.reqId,
        kind: "mlp",
        rows: [4],
        values: new Float32Array(6).fill(0.7),
        width: 6,
      },
      "run",
    );
    st().receive({ type: "done", reqId: run.reqId, ms: 1, tensorsLeft: 0 }, "run");
    const after = st().compare;
    expect(after.run.status).toBe("done");
    expect(after.edited?.variant).toBe("edited");
    expect(after.edited?.grids.mlp?.baseline.high).toBe(0.5);
    expect(after.edited?.grids.mlp?.filled).toBe(6);
    // the original trace is untouched
    expect(st().trace.result?.grids.mlp?.baseline.high).toBe(0.9);
    expect(st().trace.result?.grids.mlp?.filled).toBe(0);
    st().closeCompare();
    expect(st().compare.edited).toBeNull();
  });

  it("the edited re-trace carries its stack: undo, toggle or an empty stack make it stale", () => {
    traced();
    st().addEdit(recipe());
    answerEdits();
    st().retraceEdited();
    const run = port.lastRun();
    const b = st().compare.original!.grids.mlp!.baseline;
    st().receive({ type: "baseline", reqId: run.reqId, kind: "mlp", baseline: b }, "run");
    st().receive({ type: "done", reqId: run.reqId, ms: 1, tensorsLeft: 0 }, "run");
    expect(isCompareStale(st())).toBe(false);
    expect(st().compare.stackKey).toBe(stackKey(st().edits.stack));

    st().undoEdits(); // the stack is empty now
    answerEdits();
    expect(isCompareStale(st())).toBe(true);
    expect(checkRetrace(st())?.code).toBe("no_edits");
    st().redoEdits(); // the very stack it was computed with: fresh again
    answerEdits();
    expect(isCompareStale(st())).toBe(false);
    st().toggleEdit(st().edits.stack[0].id!);
    expect(isCompareStale(st())).toBe(true);
    st().toggleEdit(st().edits.stack[0].id!); // on again: the same model
    expect(isCompareStale(st())).toBe(false);
    // other learned values for the same recipe are another model
    st().setEditStack([{ ...recipe(), learned: { u: [1], v: [3] } } as Edit]);
    expect(isCompareStale(st())).toBe(true);
  });

  it("stackKey ignores off edits, ids and labels, and tells learned values apart", () => {
    const a = learnedOf(recipe());
    expect(stackKey([])).toBe("");
    expect(stackKey([{ ...a, enabled: false }])).toBe("");
    expect(stackKey([a])).toBe(stackKey([{ ...a, id: "x", label: "mine" }]));
    expect(stackKey([a])).toBe(stackKey([structuredClone(a)])); // the worker's copy
    expect(stackKey([a])).not.toBe(stackKey([{ ...a, learned: { u: [1], v: [2.5] } } as Edit]));
    expect(stackKey([a])).not.toBe(stackKey([recipe()]));
    expect(stackKey([a, scale(0)])).not.toBe(stackKey([scale(0), a]));
    expect(stackKey([scale(0)])).not.toBe(stackKey([scale(2)]));
  });
});

describe("edit tools", () => {
  it("evalEdit asks the worker for a ROME edit only, and keeps the answer", () => {
    st().addEdit(scale(0));
    answerEdits();
    st().evalEdit(0);
    expect(st().editEval.status).toBe("error");
    expect(port.evals).toHaveLength(0);
    st().addEdit(recipe());
    answerEdits();
    st().evalEdit(1);
    expect(port.evals.at(-1)!.index).toBe(1);
    const reqId = port.evals.at(-1)!.reqId;
    st().receive(
      { type: "progress", request: "evalEdit", reqId, phase: "edited", done: 1, total: 4 },
      "evalEdit",
    );
    expect(st().editEval.progress).toEqual({ phase: "edited", done: 1, total: 4 });
    const result = {
      index: 1,
      description: "rome",
      source: "edit" as const,
      original: null,
      edited: null,
      generalText: { original: 2, edited: 2.1, ratio: 1.05, texts: 100 },
      note: null,
    };
    st().receive({ type: "evalEdit", reqId, result }, "evalEdit");
    expect(st().editEval.status).toBe("ok");
    expect(st().editEval.result).toEqual(result);
  });

  it("cancelEval tells the worker and marks the evaluation cancelled", () => {
    st().addEdit(recipe());
    answerEdits();
    st().evalEdit(0);
    st().cancelEval();
    expect(port.evalCancels).toBe(1);
    expect(st().editEval.status).toBe("cancelled");
  });
});

describe("α curve", () => {
  it("asks the worker with the recipe, alphas and eval, and keeps the latest answer", () => {
    const edit: Edit = {
      kind: "resid_steer",
      site: { layer: 3 },
      params: { alpha: 1, positive: ["a"], negative: ["b"] },
    };
    const ev = { prompts: ["x"], target: " positive", foil: " negative" };
    st().runAlphaCurve(edit, [0, 2], ev);
    const first = port.curves.at(-1)!;
    expect(first).toMatchObject({ edit, alphas: [0, 2], ev });
    st().runAlphaCurve(edit, [0, 4], ev);
    const second = port.curves.at(-1)!;
    const points = [{ alpha: 0, n: 1, mean_logprob_diff: -1, accuracy: 0 }];
    // answers pass the client's latest-request table, as from the worker
    port.listen((msg, lane) => st().receive(msg, lane));
    port.deliver({ type: "alphaCurve", reqId: first.reqId, points });
    expect(st().alphaCurve.status).toBe("running"); // an older answer is ignored
    port.deliver({ type: "alphaCurve", reqId: second.reqId, points });
    expect(st().alphaCurve).toEqual({ status: "ok", points, error: null });
  });
});
