/**
 * A cancelled model load and the edit stack: the worker keeps the previous model AND the stack
 * applied to it (it frees them only when the new model's download is done), so the store must
 * end up agreeing with it: the applied stack comes back (a refused change rolls back to it, not
 * to nothing), an unchanged stack is not relearned, and a stack changed during the load (or a
 * setEdits still in flight when it started) is sent again. Runs against a fake worker port.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { Edit, RomeEdit } from "../lib/edit/types";
import type { FromWorker, ModelInfo } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

class CancellingPort extends FakePort {
  cancelLoad(): void {}
}

const TINY: ModelInfo = {
  name: "tiny-facts",
  nParams: 1,
  config: { nLayer: 6, nHead: 4, dModel: 128, nCtx: 64, vocabSize: 1303 } as ModelInfo["config"],
};

let store: CausewayStore;
let port: CancellingPort;
const st = () => store.getState();
const receive = (msg: FromWorker, channel: "load" | "setEdits") => st().receive(msg, channel);
const lastLoad = () => port.loads.at(-1)!.reqId;

const recipe = (target: string): RomeEdit => ({
  kind: "rome",
  site: { layer: 0 },
  params: { prompt: "{} lives in the city of", subject: "Ralkrok Stennos", target_new: target },
});
const scale = (s: number): Edit => ({
  kind: "head_scale",
  site: { layer: 1, head: 2 },
  params: { scale: s },
});

/** Answers the latest setEdits as the worker would: every ROME recipe learned. */
function answerEdits() {
  const call = port.setEditsCalls.at(-1)!;
  receive(
    {
      type: "setEdits",
      reqId: call.reqId,
      edits: call.edits.map((e) =>
        e.kind === "rome" && !e.learned ? ({ ...e, learned: { u: [1], v: [2] } } as Edit) : e,
      ),
    },
    "setEdits",
  );
}

const startHubLoad = () => st().loadModel({ kind: "hub", repo: "gpt2" });
const cancelled = () =>
  receive(
    {
      type: "error",
      reqId: lastLoad(),
      code: "cancelled",
      message: "Loading was cancelled; tiny-facts is still loaded",
    },
    "load",
  );

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: "", examples: [] });
  port = new CancellingPort();
  st().connect(port);
  st().loadModel({ kind: "bundled", name: "tiny-facts" });
  receive({ type: "load", reqId: lastLoad(), backend: "wasm", model: TINY }, "load");
  st().addEdit(recipe("Halvek"));
  answerEdits();
  expect(st().edits.status).toBe("ready");
});

describe("edit stack across a cancelled load", () => {
  it("an unchanged stack stays applied: not resent, status ready, rollback target kept", () => {
    const applied = st().edits.stack;
    const sends = port.setEditsCalls.length;
    startHubLoad();
    expect(st().edits.status).toBe("idle"); // nothing is known to be applied while loading
    st().cancelLoad();
    cancelled();
    expect(st().model.status).toBe("ready");
    expect(st().model.info?.name).toBe("tiny-facts");
    expect(st().edits.stack).toBe(applied);
    expect(st().edits.status).toBe("ready");
    expect(port.setEditsCalls.length).toBe(sends); // the worker still has it: nothing relearned

    // The store knows what the worker applied: a refused change rolls back to that stack.
    st().addEdit(scale(2));
    const call = port.setEditsCalls.at(-1)!;
    expect(call.edits).toHaveLength(2);
    receive({ type: "error", reqId: call.reqId, code: "bad_edit", message: "no" }, "setEdits");
    expect(st().edits.stack).toEqual(applied);
    expect(st().edits.status).toBe("error");
  });

  it("a stack changed while loading is sent to the restored model", () => {
    startHubLoad();
    const sends = port.setEditsCalls.length;
    st().addEdit(scale(0.5)); // the model is loading: kept, not sent
    expect(port.setEditsCalls.length).toBe(sends);
    cancelled();
    const call = port.setEditsCalls.at(-1)!;
    expect(port.setEditsCalls.length).toBe(sends + 1);
    expect(call.edits.map((e) => e.kind)).toEqual(["rome", "head_scale"]);
    expect((call.edits[0] as RomeEdit).learned).toEqual({ u: [1], v: [2] }); // not relearned
    answerEdits();
    expect(st().edits.status).toBe("ready");
    expect(st().edits.stack).toHaveLength(2);
  });

  it("a setEdits in flight when the load started is sent again (its answer was dropped)", () => {
    st().addEdit(recipe("Orvane"));
    const inFlight = port.setEditsCalls.at(-1)!;
    expect(st().edits.status).toBe("learning");
    startHubLoad();
    cancelled();
    const again = port.setEditsCalls.at(-1)!;
    expect(again.reqId).not.toBe(inFlight.reqId);
    expect(again.edits).toEqual(inFlight.edits);
    expect(st().edits.status).toBe("learning");
    // the old request's answer no longer counts; the new one's does
    receive({ type: "setEdits", reqId: inFlight.reqId, edits: [] }, "setEdits");
    expect(st().edits.stack).toHaveLength(2);
    answerEdits();
    expect(st().edits.status).toBe("ready");
    expect(st().edits.stack.every((e) => (e as RomeEdit).learned !== undefined)).toBe(true);
  });

  it("a load that completes sends the stack to the new model; a cancel with no model sends nothing", () => {
    startHubLoad();
    const sends = port.setEditsCalls.length;
    receive({ type: "load", reqId: lastLoad(), backend: "wasm", model: TINY }, "load");
    expect(port.setEditsCalls.length).toBe(sends + 1);

    const fresh = createCausewayStore({ debounceMs: 0, initialPrompt: "", examples: [] });
    const p = new CancellingPort();
    fresh.getState().connect(p);
    fresh.getState().addEdit(scale(3));
    fresh.getState().loadModel({ kind: "hub", repo: "gpt2" });
    fresh
      .getState()
      .receive(
        { type: "error", reqId: p.loads[0].reqId, code: "cancelled", message: "cancelled" },
        "load",
      );
    expect(fresh.getState().model.status).toBe("error");
    expect(p.setEditsCalls).toHaveLength(0);
    expect(fresh.getState().edits.stack).toHaveLength(1);
  });
});
