/**
 * The worker's `heads` lane (workers/heads-job.ts) on the bundled model, in Node on wasm: the
 * answers in order (progress → headPatterns → progress → headScores → done), the scores equal to
 * what `causeway heads --json` prints for the same prompt and subject, the patterns shown in the
 * app checked against the numpy reference (scripts/reference/attrib_ref.py's goldens: the
 * previous-token, first-token and subject scores recomputed from the transferred patterns),
 * cancellation between phases, coded errors, and no tensors left behind.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { HEAD_SCORE_NAMES } from "../lib/interp/head-scores";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { ROOT } from "../scripts/reference/golden";
import { headsLane } from "../workers/heads-job";
import { SideJobs } from "../workers/jobs";
import { runCli } from "./helpers/run-cli";
import { BUNDLED_DIR, loadEngine, maxDiff } from "./interp-helpers";

const PROMPT = "Ralkrok Stennos lives in the city of";
const SUBJECT = "Ralkrok Stennos";
const TOL = 1e-4;

/** The numpy reference's case for this prompt (scripts/reference/attrib_ref.py). */
interface HeadsGolden {
  name: string;
  input_ids: number[];
  subject_range: [number, number];
  scores: Record<string, number[][]>;
}
const golden = (
  JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/attrib/goldens.json"), "utf8")) as {
    cases: HeadsGolden[];
  }
).cases.find((c) => c.name === "bundled-heads") as HeadsGolden;

let engine: Engine;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine?.dispose());

/** A heads lane whose posts are structured-cloned with their transfer list, as postMessage does. */
function harness(onPost?: (m: FromWorker) => void) {
  const messages: FromWorker[] = [];
  const side = new SideJobs();
  const waiters: { reqId: number; resolve: () => void }[] = [];
  const lane = headsLane({
    post: (m, transfer) => {
      const copy = structuredClone(m, { transfer: (transfer ?? []) as ArrayBuffer[] });
      messages.push(copy);
      onPost?.(copy);
      if (copy.type === "done" || copy.type === "error") {
        for (const w of waiters.filter((x) => x.reqId === copy.reqId)) w.resolve();
      }
    },
    engine: async () => engine,
    track: (p) => side.track(p),
  });
  const finished = (reqId: number) =>
    new Promise<void>((resolve) => waiters.push({ reqId, resolve }));
  const of = (reqId: number) => messages.filter((m) => m.reqId === reqId);
  return { lane, messages, finished, of };
}

/** mean over queries q of Σ_{k ∈ keys(q)} A[l, h, q, k], from the [L, H, T, T] patterns. */
function fromPatterns(
  a: Float32Array,
  dims: { L: number; H: number; T: number },
  queries: number[],
  keys: (q: number) => number[],
): number[][] {
  const { L, H, T } = dims;
  return Array.from({ length: L }, (_, l) =>
    Array.from({ length: H }, (_, h) => {
      let sum = 0;
      for (const q of queries) for (const k of keys(q)) sum += a[((l * H + h) * T + q) * T + k];
      return sum / queries.length;
    }),
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("heads lane", () => {
  it("answers patterns then scores; scores = causeway heads --json; patterns = numpy", async () => {
    const before = tf.memory().numTensors;
    const h = harness();
    const subject = golden.subject_range as [number, number];
    h.lane.submit({ type: "heads", reqId: 1, prompt: PROMPT, subject });
    await h.finished(1);
    expect(tf.memory().numTensors).toBe(before);
    const types = h.of(1).map((m) => (m.type === "progress" ? `progress:${m.phase}` : m.type));
    expect(types).toEqual([
      "progress:patterns",
      "headPatterns",
      "progress:scores",
      "headScores",
      "done",
    ]);
    const pat = h.of(1).find((m) => m.type === "headPatterns");
    const sc = h.of(1).find((m) => m.type === "headScores");
    if (pat?.type !== "headPatterns" || sc?.type !== "headScores") throw new Error("no answers");
    const done = h.of(1).at(-1);
    expect(done?.type === "done" && done.cancelled).toBeFalsy();

    // the CLI's numbers for the same prompt and subject (text there, the resolved range here)
    const cli = await runCli(["heads", "--prompt", PROMPT, "--subject", SUBJECT, "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    const out = JSON.parse(cli.stdout);
    expect(sc.result.input_ids).toEqual(out.input_ids);
    expect(sc.result.subject_range).toEqual(out.subject_range);
    expect(sc.result.repeat).toEqual(out.repeat);
    for (const name of HEAD_SCORE_NAMES) {
      const d = maxDiff(sc.result.scores[name], out.scores[name]);
      expect(d, name).toBeLessThan(1e-6); // the same code on the same backend
      expect(maxDiff(sc.result.scores[name], golden.scores[name]), name).toBeLessThan(TOL);
    }

    // the patterns the grid draws: [L, H, T, T], scores recomputed from them match numpy
    const { nLayer: L, nHead: H, tokens } = pat;
    const T = tokens.length;
    expect([L, H, T]).toEqual([6, 4, golden.input_ids.length]);
    expect(tokens).toEqual(out.input_tokens);
    const a = pat.patterns as Float32Array;
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(L * H * T * T);
    const dims = { L, H, T };
    const prev = fromPatterns(a, dims, range(1, T), (q) => [q - 1]);
    const first = fromPatterns(a, dims, range(1, T), () => [0]);
    const subj = fromPatterns(a, dims, [T - 1], () => range(subject[0], subject[1]));
    expect(maxDiff(prev, golden.scores.previous_token)).toBeLessThan(TOL);
    expect(maxDiff(first, golden.scores.first_token)).toBeLessThan(TOL);
    expect(maxDiff(subj, golden.scores.subject)).toBeLessThan(TOL);
    // causal: nothing above the diagonal; every row sums to 1
    for (let lh = 0; lh < L * H; lh++) {
      for (let q = 0; q < T; q++) {
        let s = 0;
        for (let k = 0; k < T; k++) {
          const v = a[(lh * T + q) * T + k];
          if (k > q) expect(v).toBe(0);
          s += v;
        }
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }
    }
  });

  it("a cancel between the phases is acknowledged with done {cancelled}; nothing leaks", async () => {
    const before = tf.memory().numTensors;
    const h = harness((m) => {
      // as a worker message would: the cancel arrives while the scores are computed
      if (m.type === "headPatterns") setImmediate(() => h.lane.cancel(7));
    });
    h.lane.submit({ type: "heads", reqId: 7, prompt: PROMPT });
    await h.finished(7);
    const last = h.of(7).at(-1);
    expect(last?.type === "done" && last.cancelled).toBe(true);
    expect(h.of(7).some((m) => m.type === "headScores")).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the latest request wins: an older one's answers stop once a newer one is submitted", async () => {
    const h = harness();
    h.lane.submit({ type: "heads", reqId: 1, prompt: PROMPT });
    h.lane.submit({ type: "heads", reqId: 2, prompt: "Nerzessar Pelpan speaks" });
    await h.finished(2);
    expect(h.of(1).some((m) => m.type === "headScores" || m.type === "done")).toBe(false);
    const sc = h.of(2).find((m) => m.type === "headScores");
    expect(sc?.type === "headScores" && sc.result.subject_range).toBe(null);
  });

  it("bad input is a coded error: empty prompt, a subject outside the prompt", async () => {
    const h = harness();
    h.lane.submit({ type: "heads", reqId: 3, prompt: "" });
    await h.finished(3);
    expect(h.of(3).at(-1)).toMatchObject({ type: "error", code: "empty_prompt" });
    h.lane.submit({ type: "heads", reqId: 4, prompt: PROMPT, subject: [3, 99] });
    await h.finished(4);
    expect(h.of(4).at(-1)).toMatchObject({ type: "error", code: "bad_subject" });
  });
});
