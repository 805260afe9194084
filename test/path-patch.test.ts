/**
 * Path patching (lib/interp/path-patch.ts) against the numpy reference
 * (scripts/reference/path_patch_ref.py → test/fixtures/path-patch/goldens.json) on the random F16
 * GPT-2 and the bundled tiny-facts model: every receiver's effect and the joint effect within
 * 1e-4; refused specs; no tensors left; cancellation.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import { runPathPatch } from "../lib/interp/path-patch";
import { TraceError } from "../lib/interp/spec";
import { selectBackend } from "../lib/model/backend";
import {
  type PathGolden,
  pathSpecOf,
  readPathGoldens,
  receiverGridDiff,
} from "./helpers/path-goldens";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const TOL = 1e-4;

const goldens = readPathGoldens("goldens.json");

const engines: Record<string, Engine> = {};

beforeAll(async () => {
  await selectBackend(["wasm"]);
  const sha = createHash("sha256")
    .update(readFileSync(path.join(BUNDLED_DIR, "model.safetensors")))
    .digest("hex");
  if (sha !== goldens.bundledSha256)
    throw new Error(
      "path-patch goldens are for another tiny-facts: re-run scripts/reference/path_patch_ref.py",
    );
  engines["random-gpt2-f16"] = await loadEngine("random-gpt2-f16");
  engines["tiny-facts"] = await loadEngine(BUNDLED_DIR);
});
afterAll(() => {
  for (const e of Object.values(engines)) e.dispose();
});

describe("path patching (numpy reference)", () => {
  for (const c of goldens.cases) {
    it(`${c.name}: every receiver and the joint effect within ${TOL}`, async () => {
      const before = tf.memory().numTensors;
      const rows: number[] = [];
      const r = await runPathPatch(engines[c.model], pathSpecOf(c), {
        onRow: ({ index }) => rows.push(index),
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(r.clean_logit_diff - c.clean_logit_diff)).toBeLessThan(TOL);
      expect(Math.abs(r.corrupt_logit_diff - c.corrupt_logit_diff)).toBeLessThan(TOL);
      const d = receiverGridDiff(r.scores, c.scores);
      console.log(`${c.name}: max |Δ| ${d.toExponential(2)}`);
      expect(d).toBeLessThan(TOL);
      // the grid is not trivially zero: some path carries something
      expect(
        Math.max(
          ...r.scores
            .flat()
            .filter((v) => !Number.isNaN(v))
            .map(Math.abs),
        ),
      ).toBeGreaterThan(1e-3);
      if (c.joint !== undefined) expect(Math.abs((r.joint as number) - c.joint)).toBeLessThan(TOL);
      else expect(r.joint).toBeNull();
      expect(rows).toEqual(
        Array.from(
          { length: r.n_layer - c.spec.sender[0] - 1 },
          (_, i) => c.spec.sender[0] + 1 + i,
        ),
      );
    });
  }
});

describe("path patching refuses bad specs", () => {
  const c = goldens.cases[0];
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ sender: { layer: 1, head: 0 } }, /last layer/],
    [{ sender: { layer: 0, head: 9 } }, /sender must be a head/],
    [{ sender: { layer: -1, head: 0 } }, /sender must be a head/],
    [{ receivers: [{ layer: 0, head: 1 }] }, /not after the sender/],
    [
      {
        receivers: [
          { layer: 1, head: 1 },
          { layer: 1, head: 1 },
        ],
      },
      /twice/,
    ],
    [{ inputs: [] }, /inputs/],
    [{ inputs: ["q", "q"] }, /inputs/],
    [{ inputs: ["x"] }, /inputs/],
    [{ corrupt: c.spec.corrupt.slice(1) }, /same number of tokens/],
  ];
  for (const [change, msg] of cases) {
    it(`refuses ${JSON.stringify(change)}`, async () => {
      const before = tf.memory().numTensors;
      const err = await runPathPatch(engines[c.model], {
        ...pathSpecOf(c),
        ...change,
      } as never).catch((e) => e);
      expect(err).toBeInstanceOf(TraceError);
      expect((err as Error).message).toMatch(msg);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("stops between receiver layers when cancelled, leaving no tensors", async () => {
    const t = goldens.cases.find((x) => x.model === "tiny-facts") as PathGolden;
    const before = tf.memory().numTensors;
    const signal = { cancelled: false };
    let rows = 0;
    const err = await runPathPatch(engines[t.model], pathSpecOf(t), {
      signal,
      onRow: () => {
        rows += 1;
        signal.cancelled = true;
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(rows).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
