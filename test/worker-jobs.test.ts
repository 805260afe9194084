/**
 * The worker's sweep lane (workers/jobs.ts) on the bundled model, in Node on the wasm backend:
 * the message order of a run (baseline → rows → progress → done), rows transferred and equal to
 * the engine's own numbers, cancellation between passes arriving as a separate macrotask (as a
 * worker message does), latest-run-wins, errors with codes, and no tensors left behind.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../lib/engine";
import { parseKnownFacts } from "../lib/interp/dataset";
import { runPatch } from "../lib/interp/patch";
import { runPathPatch } from "../lib/interp/path-patch";
import { runTrace } from "../lib/interp/trace";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { type FromWorker, isProgressOf, type RunJob } from "../lib/protocol";
import { RunLane, SideJobs } from "../workers/jobs";
import { BUNDLED_DIR } from "./interp-helpers";

const PROMPT = "Ralkrok Stennos lives in the city of";
const SUBJECT = "Ralkrok Stennos";
const CF = "Nerzessar Pelpan lives in the city of";

let engine: Engine;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await Engine.load(directorySource(BUNDLED_DIR), "tiny-facts");
});

afterAll(() => engine?.dispose());

type Msg = FromWorker;

/** A lane whose posts are structured-cloned with their transfer list, as postMessage does. */
function harness(opts: { engine?: Engine | null; onPost?: (m: Msg, lane: RunLane) => void } = {}) {
  const messages: Msg[] = [];
  const detached: boolean[] = [];
  const side = new SideJobs();
  const waiters: { reqId: number; resolve: () => void }[] = [];
  const lane: RunLane = new RunLane({
    post: (m, transfer) => {
      const buffers = (transfer ?? []) as ArrayBuffer[];
      const copy = structuredClone(m, { transfer: buffers });
      for (const b of buffers) detached.push(b.byteLength === 0);
      messages.push(copy);
      opts.onPost?.(copy, lane);
      if (copy.type === "done" || copy.type === "error") {
        for (const w of waiters.filter((w) => w.reqId === copy.reqId)) w.resolve();
      }
    },
    engine: async () => (opts.engine === undefined ? engine : opts.engine),
    quiet: () => side.quiet(),
    facts: async () =>
      parseKnownFacts(JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8"))),
    progressIntervalMs: 0,
  });
  const finished = (reqId: number) =>
    new Promise<void>((resolve) => waiters.push({ reqId, resolve }));
  let next = 1;
  const submit = (job: RunJob) => {
    const reqId = next++;
    lane.submit({ type: "run", reqId, job });
    return reqId;
  };
  const of = (reqId: number) => messages.filter((m) => m.reqId === reqId);
  return { lane, messages, detached, submit, finished, of, side };
}

const traceJob = (kinds: ("hidden" | "mlp" | "attn")[], samples = 3): RunJob => ({
  type: "trace",
  kinds,
  spec: { prompt: PROMPT, subject: SUBJECT, samples },
});

describe("trace runs", () => {
  it("streams baseline, rows and progress, then done; rows equal runTrace's scores", async () => {
    const h = harness();
    const id = h.submit(traceJob(["hidden"]));
    await h.finished(id);
    const msgs = h.of(id);
    const types = msgs.map((m) => m.type);
    expect(types[0]).toBe("progress"); // the clean run starts
    const firstRow = types.indexOf("rows");
    expect(types.indexOf("baseline")).toBeGreaterThan(-1);
    expect(types.indexOf("baseline")).toBeLessThan(firstRow);
    expect(types[types.length - 1]).toBe("done");

    const base = msgs.find((m) => m.type === "baseline")!;
    if (base.type !== "baseline" || base.baseline.job !== "trace") throw new Error("baseline");
    const T = base.baseline.tokens.length;
    const L = base.baseline.nLayer;
    expect(base.baseline.subject).toEqual([0, 5]);
    expect(base.baseline.samples).toBe(3);

    const rows = msgs.filter((m) => m.type === "rows");
    expect(rows).toHaveLength(T);
    expect(h.detached.every(Boolean)).toBe(true); // every row's buffer was transferred
    const ref = await runTrace(engine, { prompt: PROMPT, subject: SUBJECT, samples: 3 });
    for (const r of rows) {
      if (r.type !== "rows") continue;
      expect(r.kind).toBe("hidden");
      expect(r.width).toBe(L);
      const t = r.rows[0];
      expect(Array.from(r.values)).toEqual(ref.scores[t].map((v) => Math.fround(v)));
    }
    expect(base.baseline.high).toBeCloseTo(ref.high, 12);
    expect(base.baseline.low).toBeCloseTo(ref.low, 12);

    const progress = msgs.filter((m) => m.type === "progress");
    const last = progress[progress.length - 1];
    if (last.type !== "progress") throw new Error("progress");
    expect(last.done).toBe(last.total);
    expect(progress.some((p) => isProgressOf(p, "run") && p.etaMs !== undefined)).toBe(true);

    const done = msgs[msgs.length - 1];
    if (done.type !== "done") throw new Error("done");
    expect(done.cancelled).toBeUndefined();
    expect(done.tensorsLeft).toBe(0);
    expect(done.evaluations).toBe(ref.evaluations);
    expect(done.stages?.hidden.evaluations).toBe(ref.evaluations);
  });

  it("three kinds: each kind's baseline comes before its rows; progress never goes back", async () => {
    const h = harness();
    const id = h.submit(traceJob(["hidden", "mlp", "attn"], 2));
    await h.finished(id);
    const msgs = h.of(id);
    for (const kind of ["hidden", "mlp", "attn"]) {
      const b = msgs.findIndex((m) => m.type === "baseline" && m.kind === kind);
      const r = msgs.findIndex((m) => m.type === "rows" && m.kind === kind);
      expect(b).toBeGreaterThan(-1);
      expect(r).toBeGreaterThan(b);
      expect(msgs.filter((m) => m.type === "rows" && m.kind === kind)).toHaveLength(10);
    }
    const fractions = msgs
      .filter((m) => m.type === "progress")
      .map((m) => (m.type === "progress" && m.total > 0 ? m.done / m.total : 0));
    for (let i = 1; i < fractions.length; i++) {
      expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1] - 0.05); // estimates only
    }
    const done = msgs[msgs.length - 1];
    if (done.type !== "done") throw new Error("done");
    expect(done.tensorsLeft).toBe(0);
    expect(Object.keys(done.stages ?? {})).toEqual(["hidden", "mlp", "attn"]);
  });

  it("a spec error is an error message with the engine's code", async () => {
    const h = harness();
    const id = h.submit({
      type: "trace",
      kinds: ["hidden"],
      spec: { prompt: PROMPT, subject: "Eiffel Tower" },
    });
    await h.finished(id);
    const err = h.of(id).at(-1)!;
    expect(err).toMatchObject({ type: "error", code: "subject_not_found" });
    expect(err.type === "error" && err.message).toContain("Eiffel Tower");
  });

  it("bad kinds and no model are refused with codes", async () => {
    const h = harness();
    const id = h.submit({ type: "trace", kinds: [], spec: { prompt: PROMPT, subject: SUBJECT } });
    await h.finished(id);
    expect(h.of(id).at(-1)).toMatchObject({ type: "error", code: "bad_spec" });
    const h2 = harness({ engine: null });
    const id2 = h2.submit(traceJob(["hidden"]));
    await h2.finished(id2);
    expect(h2.of(id2).at(-1)).toMatchObject({ type: "error", code: "no_model" });
  });
});

describe("cancel and latest-wins", () => {
  it("cancel (a separate macrotask, as a worker message) stops between passes; nothing leaks", async () => {
    let rowsSeen = 0;
    const h = harness({
      onPost: (m, lane) => {
        if (m.type === "rows" && ++rowsSeen === 2) setTimeout(() => lane.cancel(m.reqId), 0);
      },
    });
    const id = h.submit(traceJob(["hidden", "mlp", "attn"], 3));
    await h.finished(id);
    const msgs = h.of(id);
    const done = msgs.at(-1)!;
    expect(done).toMatchObject({ type: "done", cancelled: true, tensorsLeft: 0 });
    const rows = msgs.filter((m) => m.type === "rows").length;
    expect(rows).toBeGreaterThanOrEqual(2);
    expect(rows).toBeLessThan(30);
    // the lane is free again: a new run goes through
    const id2 = h.submit(traceJob(["hidden"], 1));
    await h.finished(id2);
    expect(h.of(id2).at(-1)).toMatchObject({ type: "done", tensorsLeft: 0 });
  });

  it("a newer run replaces the one in flight, which posts nothing more", async () => {
    let second = 0;
    const h = harness({
      onPost: (m, lane) => {
        if (m.type === "rows" && m.reqId === 1 && second === 0) {
          setTimeout(() => {
            second = 2;
            lane.submit({ type: "run", reqId: 2, job: traceJob(["hidden"], 1) });
          }, 0);
        }
      },
    });
    h.submit(traceJob(["hidden", "mlp", "attn"], 3));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (h.messages.some((m) => m.reqId === 2 && m.type === "done")) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await h.lane.idle();
    const first = h.of(1);
    expect(first.some((m) => m.type === "done" || m.type === "error")).toBe(false);
    expect(first.filter((m) => m.type === "rows").length).toBeLessThan(30);
    expect(h.of(2).at(-1)).toMatchObject({ type: "done", tensorsLeft: 0 });
    expect(h.of(2).filter((m) => m.type === "rows")).toHaveLength(10);
  });

  it("cancelling a queued run acknowledges it at once; stale cancels are ignored", async () => {
    const h = harness();
    const a = h.submit(traceJob(["hidden"], 2));
    const b = h.submit(traceJob(["hidden"], 2));
    expect(h.lane.cancel(a)).toBe(false); // no longer the latest
    expect(h.lane.cancel(b)).toBe(true);
    await h.lane.idle();
    expect(h.of(b).at(-1)).toMatchObject({ type: "done", cancelled: true, tensorsLeft: 0 });
    expect(h.of(a).filter((m) => m.type === "done" || m.type === "error")).toHaveLength(0);
  });
});

describe("patch and dataset runs", () => {
  it("head_out streams rows by layer; defaults are the clean and corrupted top-1", async () => {
    const h = harness();
    const id = h.submit({
      type: "patch",
      spec: { clean: PROMPT, corrupt: CF, site: "head_out" },
    });
    await h.finished(id);
    const msgs = h.of(id);
    const base = msgs.find((m) => m.type === "baseline");
    if (base?.type !== "baseline" || base.baseline.job !== "patch") throw new Error("baseline");
    const { nLayer, nHead, target, foil } = base.baseline;
    expect(base.baseline.corruptIds).toEqual(engine.tokenize(CF).ids);
    expect(base.baseline.strategy).toBe("fast");
    expect(target.token).toBe(" Parrow");
    expect(foil.id).not.toBe(target.id);
    const rows = msgs.filter((m) => m.type === "rows");
    expect(rows).toHaveLength(nLayer);
    const ref = await runPatch(engine, {
      clean: PROMPT,
      corrupt: CF,
      site: "head_out",
      target: target.id,
      foil: foil.id,
    });
    for (const r of rows) {
      if (r.type !== "rows") continue;
      expect(r.width).toBe(nHead);
      const l = r.rows[0];
      const want = (ref.scores as number[][])[l];
      for (let hd = 0; hd < nHead; hd++) expect(r.values[hd]).toBeCloseTo(want[hd], 6);
    }
    expect(msgs.at(-1)).toMatchObject({ type: "done", tensorsLeft: 0 });
  });

  it("path: baseline, one row per receiver layer equal to runPathPatch's, then done", async () => {
    const h = harness();
    const sender = { layer: 3, head: 0 };
    const id = h.submit({ type: "path", spec: { clean: PROMPT, corrupt: CF, sender } });
    await h.finished(id);
    const msgs = h.of(id);
    const base = msgs.find((m) => m.type === "baseline");
    if (base?.type !== "baseline" || base.baseline.job !== "path") throw new Error("baseline");
    const { nLayer, nHead, target, foil } = base.baseline;
    expect(base.baseline.inputs).toEqual(["q", "k", "v"]);
    const ref = await runPathPatch(engine, {
      clean: PROMPT,
      corrupt: CF,
      target: target.id,
      foil: foil.id,
      sender,
    });
    const rows = msgs.filter((m) => m.type === "rows");
    expect(rows.map((r) => (r.type === "rows" ? r.rows[0] : -1))).toEqual([4, 5]);
    for (const r of rows) {
      if (r.type !== "rows") continue;
      expect(r.width).toBe(nHead);
      for (let hd = 0; hd < nHead; hd++)
        expect(r.values[hd]).toBeCloseTo(ref.scores[r.rows[0]][hd], 6);
    }
    expect(nLayer).toBe(6);
    expect(msgs.at(-1)).toMatchObject({ type: "done", tensorsLeft: 0 });
  });

  it("path into a receiver set only (perHead false): baseline, no rows, pathJoint as runPathPatch's", async () => {
    const h = harness();
    const sender = { layer: 1, head: 1 };
    const receivers = [
      { layer: 3, head: 0 },
      { layer: 4, head: 2 },
    ];
    const spec = { clean: PROMPT, corrupt: CF, sender, receivers, perHead: false };
    const id = h.submit({ type: "path", spec });
    await h.finished(id);
    const msgs = h.of(id);
    const base = msgs.find((m) => m.type === "baseline");
    if (base?.type !== "baseline" || base.baseline.job !== "path") throw new Error("baseline");
    expect(msgs.filter((m) => m.type === "rows")).toHaveLength(0);
    const joint = msgs.find((m) => m.type === "pathJoint");
    if (joint?.type !== "pathJoint") throw new Error("no pathJoint answer");
    const { target, foil } = base.baseline;
    const ref = await runPathPatch(engine, { ...spec, target: target.id, foil: foil.id });
    expect(joint.receivers).toEqual(receivers);
    expect(joint.joint).toBeCloseTo(ref.joint as number, 6);
    expect(msgs.at(-1)).toMatchObject({ type: "done", evaluations: 4, tensorsLeft: 0 });
  });

  it("path with a sender in the last layer is refused with bad_spec", async () => {
    const h = harness();
    const id = h.submit({
      type: "path",
      spec: { clean: PROMPT, corrupt: CF, sender: { layer: 5, head: 0 } },
    });
    await h.finished(id);
    expect(h.of(id).at(-1)).toMatchObject({ type: "error", code: "bad_spec" });
  });

  it("a patch with prompts of different lengths is refused with length_mismatch", async () => {
    const h = harness();
    const id = h.submit({
      type: "patch",
      spec: { clean: PROMPT, corrupt: "Paris lives in the city of", site: "head_out" },
    });
    await h.finished(id);
    expect(h.of(id).at(-1)).toMatchObject({ type: "error", code: "length_mismatch" });
  });

  it("dataset: progress per fact, then the averaged curves, then done", async () => {
    const h = harness();
    const id = h.submit({ type: "dataset", kinds: ["hidden"], samples: 2, limit: 3 });
    await h.finished(id);
    const msgs = h.of(id);
    const result = msgs.find((m) => m.type === "dataset");
    if (result?.type !== "dataset") throw new Error("dataset");
    expect(result.result.n_facts).toBe(3);
    expect(result.result.kinds.hidden?.groups).toHaveLength(6);
    const progress = msgs.filter((m) => m.type === "progress" && m.phase === "dataset");
    expect(progress.at(-1)).toMatchObject({ done: 3, total: 3 });
    expect(msgs.at(-1)).toMatchObject({ type: "done", tensorsLeft: 0 });
  });
});
