/**
 * A model worker that stops (issue 12): a wasm pthread's report on the worker's failure channel
 * (lib/worker-channel.ts) or the worker's own error fails every request still waiting, once,
 * with "worker_failed", and terminates the worker; later requests fail at once; the restart
 * button's action starts a fresh single-threaded worker, reloads the same model and re-sends the
 * edit stack with its learned values, and the results on screen stay; the backend badge says the
 * worker stopped until then. A fake Worker and a fake BroadcastChannel stand in for the browser's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { badgeView } from "../components/BackendBadge";
import type { Edit, RomeEdit } from "../lib/edit/types";
import type { BackendChoice } from "../lib/model/backend-choice";
import type { FromWorker, ToWorker } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import {
  modelWorkerName,
  parseModelWorkerName,
  parseThreadReport,
  pthreadPreamble,
} from "../lib/worker-channel";
import { type LaneKey, WORKER_FAILED, WorkerClient } from "../lib/worker-client";

class FakeChannel {
  static open: FakeChannel[] = [];
  onmessage: ((ev: MessageEvent) => void) | null = null;
  closed = false;
  constructor(readonly name: string) {
    FakeChannel.open.push(this);
  }
  /** As BroadcastChannel: every other open channel of the same name receives it. */
  postMessage(data: unknown): void {
    for (const c of FakeChannel.open)
      if (c !== this && !c.closed && c.name === this.name) c.onmessage?.({ data } as MessageEvent);
  }
  close(): void {
    this.closed = true;
  }
}

class FakeWorker {
  static all: FakeWorker[] = [];
  readonly posted: ToWorker[] = [];
  readonly name: string;
  terminated = false;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  constructor(_url: URL, opts?: { name?: string }) {
    this.name = opts?.name ?? "";
    FakeWorker.all.push(this);
  }
  postMessage(msg: ToWorker): void {
    if (!this.terminated) this.posted.push(structuredClone(msg));
  }
  terminate(): void {
    this.terminated = true;
  }
  /** An answer from this worker's model code. */
  answer(msg: FromWorker): void {
    this.onmessage?.({ data: msg } as MessageEvent);
  }
  /** A report from one of its pthreads, as the preamble posts it. */
  threadReport(message: string): void {
    const channel = parseModelWorkerName(this.name)?.channel;
    if (!channel) throw new Error("this worker has no failure channel");
    new FakeChannel(channel).postMessage({ source: "causeway-pthread", kind: "error", message });
  }
  crash(message: string): void {
    this.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  }
  last<T extends ToWorker["type"]>(type: T): Extract<ToWorker, { type: T }> {
    const m = this.posted.filter((p) => p.type === type).at(-1);
    if (!m) throw new Error(`no ${type} request was posted`);
    return m as Extract<ToWorker, { type: T }>;
  }
}

const INFO = {
  name: "tiny-facts",
  nParams: 1,
  config: { nLayer: 6, nHead: 4, dModel: 128, nCtx: 64, vocabSize: 1303 } as never,
};

beforeEach(() => {
  FakeWorker.all = [];
  FakeChannel.open = [];
  vi.stubGlobal("Worker", FakeWorker);
  vi.stubGlobal("BroadcastChannel", FakeChannel);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("WorkerClient when its worker stops", () => {
  let heard: { msg: FromWorker; lane: LaneKey }[];
  let client: WorkerClient;
  const worker = () => FakeWorker.all[0];
  const failures = () => heard.filter((h) => h.msg.type === "error");

  beforeEach(() => {
    heard = [];
    client = new WorkerClient((msg, lane) => heard.push({ msg, lane }));
  });

  it("names the worker with its own channel, threads allowed", () => {
    const settings = parseModelWorkerName(worker().name);
    expect(settings?.threads).toBe(true);
    expect(settings?.channel).toMatch(/^causeway-threads-[0-9a-f]{24}$/);
    expect(FakeChannel.open.map((c) => c.name)).toEqual([settings?.channel]);
  });

  it("a thread report fails each waiting request once and terminates the worker", () => {
    const load = client.load({ kind: "bundled", name: "tiny-facts" });
    worker().answer({ type: "load", reqId: load, backend: "wasm", model: INFO });
    const predict = client.predict("a prompt", 5);
    worker().answer({
      type: "predict",
      reqId: predict,
      prediction: { inputIds: [], inputTokens: [], top: [] },
      ms: 1,
    });
    worker().answer({ type: "done", reqId: predict, ms: 1, tensorsLeft: 0 });
    const edits = client.setEdits([]);
    const run = client.run({ kind: "trace" } as never);
    worker().answer({
      type: "progress",
      reqId: run,
      request: "run",
      phase: "sweep",
      kind: "hidden",
      done: 1,
      total: 9,
    });
    heard = [];

    worker().threadReport("RuntimeError: memory access out of bounds");

    // the finished load and prediction are not failed again; the model's loss reaches "load"
    expect(failures().map((h) => [h.lane, h.msg.reqId])).toEqual([
      ["load", -1],
      ["setEdits", edits],
      ["run", run],
    ]);
    for (const { msg } of failures()) {
      expect(msg).toMatchObject({ code: WORKER_FAILED });
      expect((msg as { message: string }).message).toBe(
        "The model worker stopped: a thread of the WASM backend failed (RuntimeError: memory access out of bounds)",
      );
    }
    expect(worker().terminated).toBe(true);
    expect(FakeChannel.open[0].closed).toBe(true); // the client's channel

    // more reports of the same death (another thread, the worker's own error) change nothing
    const before = heard.length;
    worker().threadReport("RuntimeError: unreachable");
    worker().crash("Uncaught RuntimeError: unreachable");
    worker().onmessageerror?.();
    worker().answer({ type: "done", reqId: run, ms: 1, tensorsLeft: 0 });
    expect(heard.length).toBe(before);
  });

  it("the worker's own uncaught error stops it the same way", () => {
    const run = client.run({ kind: "trace" } as never);
    worker().crash("Uncaught Error: out of memory");
    expect(failures().map((h) => [h.lane, h.msg.reqId])).toEqual([
      ["load", -1],
      ["run", run],
    ]);
    expect((failures()[1].msg as { message: string }).message).toBe(
      "The model worker stopped: Error: out of memory",
    );
    expect(worker().terminated).toBe(true);
  });

  it("ignores channel messages that are not thread reports", () => {
    const run = client.run({ kind: "trace" } as never);
    const channel = parseModelWorkerName(worker().name)?.channel ?? "";
    const other = new FakeChannel(channel);
    other.postMessage("hello");
    other.postMessage({ source: "causeway-pthread", kind: "log", message: "x" });
    other.postMessage({ source: "someone", kind: "error", message: "x" });
    expect(failures()).toEqual([]);
    expect(worker().terminated).toBe(false);
    expect(worker().last("run").reqId).toBe(run);
  });

  it("a request after the stop fails at once (after it returned its reqId), nothing is posted", async () => {
    worker().threadReport("RuntimeError: unreachable");
    heard = [];
    const posted = worker().posted.length;
    const reqId = client.predict("later", 5);
    expect(heard).toEqual([]); // not inside the call: the caller notes its reqId first
    await Promise.resolve();
    expect(heard).toEqual([
      {
        lane: "predict",
        msg: {
          type: "error",
          reqId,
          code: WORKER_FAILED,
          message:
            "The model worker stopped: a thread of the WASM backend failed (RuntimeError: unreachable)",
        },
      },
    ]);
    expect(worker().posted.length).toBe(posted);
  });

  it("restart starts a fresh worker without threads on a new channel; the old one is ignored", () => {
    const old = worker();
    old.threadReport("RuntimeError: unreachable");
    client.restart();
    expect(FakeWorker.all).toHaveLength(2);
    const fresh = FakeWorker.all[1];
    const settings = parseModelWorkerName(fresh.name);
    expect(settings?.threads).toBe(false);
    expect(settings?.channel).not.toBe(parseModelWorkerName(old.name)?.channel);
    heard = [];
    const load = client.load({ kind: "bundled", name: "tiny-facts" }, ["wasm"]);
    expect(fresh.last("load")).toMatchObject({ reqId: load, backends: ["wasm"] });
    old.threadReport("RuntimeError: late"); // a dying thread of the old worker
    old.answer({ type: "load", reqId: load, backend: "wasm", model: INFO });
    expect(heard).toEqual([]);
    fresh.answer({ type: "load", reqId: load, backend: "wasm", model: INFO });
    expect(heard.map((h) => h.msg.type)).toEqual(["load"]);
  });

  it("restart of a running worker fails its waiting requests first", () => {
    const run = client.run({ kind: "trace" } as never);
    client.restart();
    expect(FakeWorker.all[0].terminated).toBe(true);
    expect(failures().map((h) => [h.lane, h.msg.reqId])).toEqual([
      ["load", -1],
      ["run", run],
    ]);
  });
});

describe("the pthread preamble", () => {
  it("posts a thread's uncaught error and rejection on the channel, and nothing else", () => {
    const listeners = new Map<string, (ev: unknown) => void>();
    const self = { addEventListener: (t: string, f: (ev: unknown) => void) => listeners.set(t, f) };
    new Function("self", "BroadcastChannel", pthreadPreamble("chan-1"))(self, FakeChannel);
    const page = new FakeChannel("chan-1");
    const got: unknown[] = [];
    page.onmessage = (ev) => got.push(ev.data);
    listeners.get("error")?.({
      error: new RangeError("bad index"),
      message: "Uncaught RangeError",
    });
    listeners.get("unhandledrejection")?.({ reason: "no memory" });
    expect(got.map(parseThreadReport)).toEqual([
      { source: "causeway-pthread", kind: "error", message: "RangeError: bad index" },
      { source: "causeway-pthread", kind: "unhandledrejection", message: "no memory" },
    ]);
    expect([...listeners.keys()].sort()).toEqual(["error", "unhandledrejection"]);
  });

  it("starts with the script's strict directive", () => {
    expect(pthreadPreamble("c").startsWith('"use strict";')).toBe(true);
    expect(parseModelWorkerName(modelWorkerName({ channel: "c", threads: false }))).toEqual({
      channel: "c",
      threads: false,
    });
    expect(parseModelWorkerName("some other worker")).toBeNull();
  });
});

describe("restarting from the store", () => {
  let store: CausewayStore;
  const st = () => store.getState();
  const rome: RomeEdit = {
    kind: "rome",
    site: { layer: 0 },
    params: { prompt: "{} lives in the city of", subject: "Ralkrok Stennos", target_new: "Halvek" },
  };

  beforeEach(() => {
    store = createCausewayStore({ debounceMs: 0 });
    const client = new WorkerClient((msg, lane) => st().receive(msg, lane));
    st().connect(client);
  });

  it("reloads the same model on WASM and re-sends the stack as learned; results stay", () => {
    st().loadModel({ kind: "bundled", name: "tiny-facts" });
    const first = FakeWorker.all[0];
    first.answer({ type: "load", reqId: first.last("load").reqId, backend: "wasm", model: INFO });
    st().addEdit(rome);
    const sent = first.last("setEdits");
    const learned = sent.edits.map((e) => ({ ...e, learned: { u: [1, 2], v: [3], k: [4] } }));
    first.answer({ type: "setEdits", reqId: sent.reqId, edits: learned as Edit[] });
    expect(st().edits.status).toBe("ready");
    // a result on screen (as a finished trace leaves it), and a second edit learning now
    const result = { marker: "trace on screen" } as never;
    store.setState((s) => ({ trace: { ...s.trace, result } }));
    st().addEdit({ ...rome, params: { ...rome.params, target_new: "Parrow" } });
    expect(st().edits.status).toBe("learning");

    first.threadReport("RuntimeError: unreachable");

    expect(st().model.status).toBe("error");
    expect(st().model.error).toEqual({
      code: WORKER_FAILED,
      message:
        "The model worker stopped: a thread of the WASM backend failed (RuntimeError: unreachable)",
    });
    // the learning in flight is lost, the applied (learned) stack stays, and so does the trace
    expect(st().edits.stack).toHaveLength(1);
    expect(st().edits.stack[0]).toMatchObject({ learned: { u: [1, 2], v: [3], k: [4] } });
    expect(st().trace.result).toBe(result);

    st().restartWorker();
    const fresh = FakeWorker.all[1];
    expect(parseModelWorkerName(fresh.name)?.threads).toBe(false);
    expect(st().model.status).toBe("loading");
    const load = fresh.last("load");
    expect(load).toMatchObject({
      source: { kind: "bundled", name: "tiny-facts" },
      backends: ["wasm"],
    });
    expect(st().trace.result).toBe(result);
    fresh.answer({ type: "load", reqId: load.reqId, backend: "wasm", model: INFO });

    expect(st().model.status).toBe("ready");
    const resent = fresh.last("setEdits");
    expect(resent.edits).toHaveLength(1);
    expect(resent.edits[0]).toMatchObject({ kind: "rome", learned: { u: [1, 2], v: [3], k: [4] } });
    expect(st().edits.status).toBe("idle"); // applied, not learned again
    expect(st().trace.result).toBe(result);
    expect(fresh.posted.some((m) => m.type === "predict")).toBe(false); // no prompt here
  });

  it("the backend badge says the worker stopped, then shows the restarted worker's backend", () => {
    // the badge's last choice: the threaded build on 2 threads (as ?backend=wasm on a COOP page)
    const threaded: BackendChoice = {
      chosen: "wasm",
      threads: 2,
      how: "override",
      timings: [],
      key: "k",
      at: 0,
    };
    st().loadModel({ kind: "bundled", name: "tiny-facts" });
    const first = FakeWorker.all[0];
    first.answer({ type: "load", reqId: first.last("load").reqId, backend: "wasm", model: INFO });
    expect(badgeView(st().model, threaded)).toMatchObject({ state: "running", name: "WASM ×2" });

    first.threadReport("RuntimeError: unreachable");
    expect(badgeView(st().model, threaded)).toEqual({
      state: "stopped",
      name: "worker stopped",
      title: [
        "The model worker stopped: a thread of the WASM backend failed (RuntimeError: unreachable)",
        "It ran on WASM ×2.",
        "Nothing runs until the worker is restarted.",
      ].join("\n"),
    });

    st().restartWorker();
    // the old choice no longer applies while the fresh worker loads
    expect(badgeView(st().model, threaded)).toMatchObject({
      state: "none",
      name: "choosing backend…",
    });
    const fresh = FakeWorker.all[1];
    fresh.answer({ type: "load", reqId: fresh.last("load").reqId, backend: "wasm", model: INFO });
    expect(badgeView(st().model, null)).toMatchObject({ state: "running", name: "WASM" });
  });
});
