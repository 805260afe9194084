/**
 * The heads slice through the real worker lane (workers/heads-job.ts on the bundled model, in
 * Node on wasm), answers de-staled as the client does: the scores the store holds equal what
 * `causeway heads --json` prints for the same prompt and subject; pins (at most two), sort,
 * cancel, a refused run keeping the results, results tied to their model; and the view's state
 * in a share link, which reopens in a fresh store with the heads recomputed to the same numbers.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { HEAD_SCORE_NAMES } from "../lib/interp/head-scores";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { decodeSession, encodeSession } from "../lib/share/link";
import { openSession } from "../lib/share/open";
import { sessionOf } from "../lib/share/store";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { headsCurrent } from "../lib/store/heads-slice";
import { headsLane } from "../workers/heads-job";
import { SideJobs } from "../workers/jobs";
import { runCli } from "./helpers/run-cli";
import { BUNDLED_DIR, loadEngine, maxDiff } from "./interp-helpers";
import { FakePort } from "./store-fake-port";

const PROMPT = "Ralkrok Stennos lives in the city of";
const SUBJECT = "Ralkrok Stennos";
const FACTS = [{ prompt: PROMPT, subject: SUBJECT, attribute: " Parrow" }];

let engine: Engine;
// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON
let cli: any;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
  const r = await runCli(["heads", "--prompt", PROMPT, "--subject", SUBJECT, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  cli = JSON.parse(r.stdout);
});
afterAll(() => engine?.dispose());

/** A fake port whose heads requests run on the real lane; answers pass the latest-request table. */
class HeadsPort extends FakePort {
  readonly headsCalls: { reqId: number; prompt: string; subject?: [number, number] }[] = [];
  headsCancels = 0;
  private readonly side = new SideJobs();
  private readonly lane = headsLane({
    post: (m, transfer) => {
      const copy = structuredClone(m, { transfer: (transfer ?? []) as ArrayBuffer[] });
      this.deliver(copy);
      if (copy.type === "done" || copy.type === "error") this.ended.get(copy.reqId)?.();
    },
    engine: async () => engine,
    track: (p) => this.side.track(p),
  });
  private readonly ended = new Map<number, () => void>();
  heads(prompt: string, subject?: [number, number]): number {
    const reqId = this.latest.issue("heads");
    this.headsCalls.push({ reqId, prompt, subject });
    this.lane.submit({ type: "heads", reqId, prompt, ...(subject ? { subject } : {}) });
    return reqId;
  }
  cancelHeads(): void {
    this.headsCancels++;
    this.lane.cancel(this.latest.current("heads"));
  }
  /** Resolves when request `reqId` has answered done or error. */
  finished(reqId: number): Promise<void> {
    return new Promise((resolve) => this.ended.set(reqId, resolve));
  }
}

/** A store with the bundled model "loaded" and the prompt's prediction answered. */
async function readyStore(prompt = PROMPT): Promise<{ store: CausewayStore; port: HeadsPort }> {
  const store = createCausewayStore({ debounceMs: 0, initialPrompt: prompt, examples: FACTS });
  const port = new HeadsPort();
  port.listen((msg, lane) => store.getState().receive(msg, lane));
  store.getState().connect(port);
  store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
  await answerLoad(port);
  await answerPredict(port);
  return { store, port };
}

async function answerLoad(port: HeadsPort) {
  const info = { name: "tiny-facts", nParams: 1, config: engine.model.config };
  port.deliver({ type: "load", reqId: port.loads.at(-1)!.reqId, backend: "wasm", model: info });
}

async function answerPredict(port: HeadsPort) {
  await new Promise((r) => setTimeout(r, 5)); // the debounced prediction request
  const p = port.predicts.at(-1)!;
  const prediction = await engine.predict(p.prompt, 5);
  port.deliver({ type: "predict", reqId: p.reqId, prediction, ms: 1 } as FromWorker);
}

async function runToEnd(store: CausewayStore, port: HeadsPort) {
  store.getState().runHeads();
  await port.finished(port.headsCalls.at(-1)!.reqId);
}

describe("heads slice", () => {
  it("holds the patterns and the scores of causeway heads --json for the prompt and subject", async () => {
    const { store, port } = await readyStore();
    await runToEnd(store, port);
    const h = store.getState().heads;
    expect(port.headsCalls.at(-1)?.subject).toEqual(cli.subject_range); // the synced subject
    expect(h.run.status).toBe("done");
    expect(h.run.tensorsLeft).toBe(engine.tensorsInUse());
    expect(h.patterns?.tokens).toEqual(cli.input_tokens);
    expect(h.patterns?.patterns?.length).toBe(6 * 4 * cli.input_ids.length ** 2);
    for (const name of HEAD_SCORE_NAMES) {
      expect(maxDiff(h.scores?.scores[name], cli.scores[name]), name).toBeLessThan(1e-6);
    }
    expect(headsCurrent(store.getState())).toBe(true);
  });

  it("pins at most two heads (a third drops the oldest, a pinned one unpins); sort flips", () => {
    const store = createCausewayStore();
    const s = () => store.getState();
    s().pinHead(1, 2);
    s().pinHead(3, 0);
    s().pinHead(5, 3);
    expect(s().heads.view.pinned).toEqual([
      { layer: 3, head: 0 },
      { layer: 5, head: 3 },
    ]);
    s().pinHead(3, 0);
    expect(s().heads.view.pinned).toEqual([{ layer: 5, head: 3 }]);
    s().sortHeads("induction");
    expect(s().heads.view).toMatchObject({ sort: "induction", desc: true });
    s().sortHeads("induction");
    expect(s().heads.view).toMatchObject({ sort: "induction", desc: false });
    s().sortHeads("head");
    expect(s().heads.view).toMatchObject({ sort: "head", desc: false });
  });

  it("a refused run keeps the results on screen; another model's results are not current", async () => {
    const { store, port } = await readyStore();
    await runToEnd(store, port);
    const scores = store.getState().heads.scores;
    store.getState().setPrompt("");
    store.getState().runHeads();
    expect(store.getState().heads.formError?.code).toBe("empty_prompt");
    expect(store.getState().heads.scores).toBe(scores);
    store.getState().loadModel({ kind: "hub", repo: "gpt2" });
    expect(headsCurrent(store.getState())).toBe(false);
  });

  it("cancel: acknowledged as cancelled between the phases", async () => {
    const { store, port } = await readyStore();
    store.getState().runHeads();
    const reqId = port.headsCalls.at(-1)!.reqId;
    store.getState().cancelHeads();
    expect(store.getState().heads.run.status).toBe("cancelling");
    await port.finished(reqId);
    expect(store.getState().heads.run.status).toBe("cancelled");
    expect(store.getState().heads.scores).toBe(null);
  });

  it("a share link carries pins and sort and reopens with the same numbers", async () => {
    const a = await readyStore();
    await runToEnd(a.store, a.port);
    a.store.getState().pinHead(4, 1);
    a.store.getState().pinHead(0, 3);
    a.store.getState().sortHeads("induction");
    const { hash } = await encodeSession(sessionOf(a.store.getState()));
    const session = await decodeSession(hash);
    expect(session.heads).toEqual({
      pinned: [
        { layer: 4, head: 1 },
        { layer: 0, head: 3 },
      ],
      sort: "induction",
      desc: true,
    });

    const store = createCausewayStore({ debounceMs: 0, examples: FACTS });
    const port = new HeadsPort();
    port.listen((msg, lane) => store.getState().receive(msg, lane));
    store.getState().connect(port);
    store.getState().loadModel({ kind: "bundled", name: "tiny-facts" });
    const stop = openSession(store, session, () => {});
    await answerLoad(port);
    expect(port.headsCalls).toHaveLength(0); // not before the prompt's tokens are known
    await answerPredict(port);
    expect(port.headsCalls).toHaveLength(1);
    await port.finished(port.headsCalls[0].reqId);
    stop();
    const h = store.getState().heads;
    expect(h.view).toEqual(a.store.getState().heads.view);
    expect(h.request?.subject).toEqual(a.store.getState().heads.request?.subject);
    expect(h.scores?.scores).toEqual(a.store.getState().heads.scores?.scores);
  });

  it("a link's pins that name no head of the model are dropped when the patterns come", async () => {
    const { store, port } = await readyStore();
    store.getState().setHeadsView({
      pinned: [
        { layer: 9, head: 0 },
        { layer: 1, head: 1 },
      ],
      sort: "head",
      desc: false,
    });
    await runToEnd(store, port);
    expect(store.getState().heads.view.pinned).toEqual([{ layer: 1, head: 1 }]);
  });
});
