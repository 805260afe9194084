/**
 * Runaway and non-finite edits (issue 10, items 13 and 14): every count and scale of an edit has
 * a documented upper bound (lib/edit/bounds.ts) checked by the parser before any work starts,
 * and a stack whose outputs are NaN or Infinity is refused with the edit that broke them named
 * (lib/edit/finite.ts, run by learnStack) instead of showing "NaN%" and arbitrary tokens.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDIT_BOUNDS } from "../lib/edit/bounds";
import { learnStack } from "../lib/edit/learn";
import { parseEdit, parseEditFile } from "../lib/edit/parse";
import type { Edit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

const rome = (params: object) => ({
  kind: "rome",
  site: { layer: 0 },
  params: { prompt: "{} lives in", subject: "Ann", target_new: " Paris", ...params },
});
const lora = (params: object) => ({
  kind: "lora",
  params: { prefix: "a b", suffix: " c", ...params },
});
const loreft = (params: object) => ({ kind: "loreft", site: { layers: [0] }, params });
const steer = (alpha: number, vector = [1]) => ({
  kind: "resid_steer",
  site: { layer: 0 },
  params: { alpha, vector },
});

describe("edit bounds", () => {
  const bad = (x: object, re: RegExp) => expect(() => parseEdit(x, 2)).toThrow(re);

  it("counts above their bound are refused before any work, with the field and the range", () => {
    bad(
      rome({ steps: 1e9 }),
      /edit 2: params.steps must be at most 1000 \(ROME's optimisation steps: from 1 to 1000\)/,
    );
    bad(rome({ steps: 0 }), /params.steps must be at least 1/);
    bad(rome({ cov_texts: 1e6 }), /params.cov_texts must be at most 10000/);
    bad(rome({ context: { per_length: 1e6 } }), /params.context.per_length must be at most 32/);
    bad(rome({ context: { lengths: [5, 1e5] } }), /params.context.lengths\[1\] must be at most 64/);
    bad(rome({ kl_prompts: Array(17).fill("{} is") }), /params.kl_prompts has 17 entries/);
    bad(lora({ steps: 1e9 }), /params.steps must be at most 1000/);
    bad(lora({ rank: 1e6 }), /params.rank must be at most 256/);
    bad(lora({ texts: 1e7 }), /params.texts must be at most 10000/);
    bad(loreft({ steps: 5000 }), /params.steps must be at most 1000/);
    bad(loreft({ n_train: 1e6 }), /params.n_train must be at most 10000/);
    bad(
      { kind: "loreft", site: { layers: Array.from({ length: 2000 }, (_, i) => i) }, params: {} },
      /site.layers has 2000 entries/,
    );
    bad(
      {
        kind: "head_ablate",
        site: { layer: 0, head: 0, position: [1e9] },
        params: { mode: "zero" },
      },
      /site.position\[0\] must be at most 65535/,
    );
    bad(
      {
        kind: "head_steer",
        site: { top_k: 1e6 },
        params: { alpha: 1, positive: ["a"], negative: ["b"] },
      },
      /site.top_k must be at most 4096/,
    );
    bad(
      {
        kind: "head_steer",
        site: { top_k: 2 },
        params: { alpha: 1, positive: Array(20_000).fill("a"), negative: ["b"] },
      },
      /params.positive has 20000 entries, more than 10000/,
    );
  });

  it("scales and α beyond the float range's reach are refused", () => {
    bad(steer(1e308), /params.alpha must be at most 1000 \(α: from -1000 to 1000\)/);
    bad(steer(-1e308), /params.alpha must be at least -1000/);
    bad(
      { kind: "head_scale", site: { layer: 0, head: 0 }, params: { scale: 1e308 } },
      /params.scale must be at most 1000/,
    );
    bad(lora({ alpha: 1e308 }), /params.alpha must be at most 1024/);
    bad(rome({ lr: 0 }), /params.lr must be above 0/);
    bad(lora({ epsilon: 1e7 }), /params.epsilon must be at most 1000000/);
    bad(lora({ epsilon: -1 }), /params.epsilon must be at least 0/);
  });

  it("long texts and huge stacks are refused", () => {
    bad(rome({ subject: "x".repeat(20_000) }), /params.subject has 20000 characters/);
    const many = Array.from({ length: 100_000 }, () => steer(1));
    expect(() => parseEditFile({ version: 1, edits: many })).toThrow(
      /100000 edits in one stack: at most 64/,
    );
    expect(() =>
      parseEditFile({ version: 1, edits: many.slice(0, EDIT_BOUNDS.edits.max) }),
    ).not.toThrow();
  });

  it("a link asking for 10⁹ ROME steps is refused when it is opened, before any learning", async () => {
    const edit = rome({ steps: 1e9 }) as Edit;
    const { hash } = await encodeSession({ ...DEFAULT_SESSION, edits: [edit] });
    await expect(decodeSession(hash)).rejects.toThrow(/params.steps must be at most 1000/);
  });

  it("values at the bounds are accepted", () => {
    expect(() => parseEdit(rome({ steps: 1000, lr: 100 }))).not.toThrow();
    expect(() => parseEdit(steer(-1000))).not.toThrow();
    expect(() => parseEdit(lora({ steps: 0, rank: 256, epsilon: 0 }))).not.toThrow();
  });
});

describe("non-finite outputs after an edit", () => {
  let model: Gpt2Model;
  const D = SMALL.dModel;
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    model = Gpt2Model.fromWeights(SMALL, randomWeights());
  });
  afterAll(() => model?.dispose());

  const vector = (x: number) => Array.from({ length: D }, (_, i) => (i % 2 ? x : -x));
  const ok: Edit = {
    kind: "head_scale",
    site: { layer: 0, head: 1, position: "all" },
    params: { scale: 2 },
  };
  // α within its bound, but a given vector of 1e36 per entry: 1e39 overflows float32
  const huge: Edit = {
    kind: "resid_steer",
    site: { layer: 1, position: "all" },
    params: { alpha: 1000, vector: vector(1e36) },
  };

  it("a stack with finite outputs is returned; tensors are balanced", async () => {
    const before = tf.memory().numTensors;
    const r = await learnStack(model, charTokenizer, [ok, steer(3, vector(0.5)) as Edit]);
    expect(r.edits).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("names the first edit whose outputs are NaN or Infinity", async () => {
    const before = tf.memory().numTensors;
    await expect(learnStack(model, charTokenizer, [ok, huge])).rejects.toThrow(
      /edit 1 \(steer resid_post L1 α=1000 \(raw\) @all\) makes the model's outputs NaN or Infinity/,
    );
    // a disabled breaking edit changes nothing
    await expect(
      learnStack(model, charTokenizer, [{ ...huge, enabled: false }, ok]),
    ).resolves.toBeDefined();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("an explicit position beyond the probe's default length is reached", async () => {
    const late: Edit = { ...huge, site: { layer: 1, position: [25] } };
    await expect(learnStack(model, charTokenizer, [late])).rejects.toThrow(
      /edit 0 .* NaN or Infinity/,
    );
  });
});
