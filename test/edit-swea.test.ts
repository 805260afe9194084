/**
 * SWEA⊕OS (lib/edit/swea*.ts) against the torch reference scripts/reference/swea_ref.py
 * (test/fixtures/swea/swea.json): on the small random GPT-2 of test/fixtures/edit/random-model.ts,
 * the optimised offsets' loss curve, the integrated-gradients scores and suppressed dimensions,
 * the fused offsets, and the edited forward's logits (the subject once, twice, and not at all);
 * then the lookup at inference on a Llama (the bundled tiny-facts-llama), the format (file, link,
 * --save), and bad input, each error naming its case. No tensor is left behind.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { applyBatchEdit } from "../lib/edit/batch-edit";
import { editedCheckpoint } from "../lib/edit/checkpoint";
import { parseEditFile, serializeEdits } from "../lib/edit/parse";
import { learnSwea } from "../lib/edit/swea";
import { knDims, knScores } from "../lib/edit/swea-kn";
import { sweaHits } from "../lib/edit/swea-site";
import { describeEdit, type SweaEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { matchSpans } from "../lib/model/token-match";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";
import { randomWeights, SMALL, charTokenizer as tok } from "./fixtures/edit/random-model";

interface Spelling {
  tokens: number[];
  prompt: string;
  losses: number[];
  scores: number[];
  cut: number;
  suppressed: number[][];
  offsets: number[];
}
interface Golden {
  request: SweaEdit["params"]["requests"][0];
  hparams: Record<string, number>;
  spellings: Spelling[];
  logits: { prompt: string; matches: [number, number][]; original: number[]; edited: number[] }[];
}
const golden: Golden = JSON.parse(
  readFileSync(path.resolve(__dirname, "fixtures/swea/swea.json"), "utf8"),
);

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

let model: Gpt2Model;
let learned: SweaEdit;
const recipe = (): SweaEdit => ({
  kind: "swea",
  params: {
    requests: [{ ...golden.request }],
    ...golden.hparams,
    v_init: "embedding",
    mode: "kn+optimize",
    context: { per_length: 0 },
  },
});

async function lastLogits(m: Gpt2Model | ReturnType<typeof applyEdits>, text: string) {
  const t = m.forward({ inputIds: [tok.encode(text)], logitPositions: "last" }).logits;
  const d = await t.data();
  t.dispose();
  return d;
}

beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, randomWeights());
  await learnSwea(model, tok, recipe()); // (tfjs keeps a few constants from a first use)
  const before = tf.memory().numTensors;
  learned = await learnSwea(model, tok, recipe());
  expect(tf.memory().numTensors).toBe(before);
});
afterAll(() => model?.dispose());

describe("SWEA⊕OS against the torch reference", () => {
  it("optimises δ as SWEA's code does, for each spelling: the same loss at every step", () => {
    const got = learned.learned!.info!.requests[0].spellings;
    expect(got.map((x) => x.tokens)).toEqual(golden.spellings.map((x) => x.tokens));
    expect(got.map((x) => x.prompt)).toEqual(golden.spellings.map((x) => x.prompt));
    for (const [k, g] of golden.spellings.entries()) {
      expect(got[k].losses).toHaveLength(g.losses.length);
      for (const [i, l] of g.losses.entries()) expect(got[k].losses[i]).toBeCloseTo(l, 3);
    }
  });

  it("attributes the old object to the same embedding dimensions (integrated gradients)", async () => {
    for (const [k, g] of golden.spellings.entries()) {
      const ids = tok.encode(g.prompt);
      const scores = await knScores({
        model,
        ids,
        first: 0,
        last: g.tokens.length - 1,
        trueIds: tok.encode(" q"),
        steps: golden.hparams.kn_steps,
        threshold: golden.hparams.kn_threshold,
      });
      const flat = scores.flatMap((s) => [...s]);
      const scale = Math.max(...g.scores.map(Math.abs));
      expect(maxAbs(flat, g.scores) / scale).toBeLessThan(1e-4);
      expect(knDims(scores, golden.hparams.kn_threshold)).toEqual(g.suppressed);
      expect(learned.learned!.info!.requests[0].spellings[k].suppressed).toEqual(g.suppressed);
    }
  });

  it("fuses δ − 0.5 · mask ⊙ e into the offsets the reference gets", () => {
    const f = learned.learned!.fusions;
    expect(f.map((x) => x.tokens)).toEqual(golden.spellings.map((x) => x.tokens));
    expect(learned.learned!.info!.requests[0].skipped_keys).toEqual([]);
    for (const [k, g] of golden.spellings.entries()) {
      const scale = Math.max(...g.offsets.map(Math.abs));
      expect(maxAbs(f[k].offsets, g.offsets) / scale).toBeLessThan(2e-4);
    }
  });

  it("adds the offsets wherever the subject's tokens occur, and nowhere else", async () => {
    const edited = applyEdits(model, [learned]);
    try {
      for (const g of golden.logits) {
        const orig = await lastLogits(model, g.prompt);
        const got = await lastLogits(edited, g.prompt);
        const keys = learned.learned!.fusions.map((f) => f.tokens);
        const spans = matchSpans([tok.encode(g.prompt)], keys).map((x) => [x.key, x.start]);
        expect(spans, g.prompt).toEqual(g.matches); // "I met bob. bob is": " bob" twice
        expect(maxAbs(orig, g.original), g.prompt).toBeLessThan(1e-4);
        expect(maxAbs(got, g.edited), g.prompt).toBeLessThan(2e-3);
      }
      // "amy is": no subject, a no-op (exactly the original numbers), and the summary says so
      expect(sweaHits(learned, tok.encode("amy is"))).toEqual([]);
      expect(sweaHits(learned, tok.encode("I met bob. bob is"))).toEqual([0]);
      expect(await lastLogits(edited, "amy is")).toEqual(await lastLogits(model, "amy is"));
      expect(describeEdit(learned)).toMatch(/only where the subject's tokens occur/);
      expect(edited.plan.patches).toEqual([]); // weights untouched
    } finally {
      edited.dispose();
    }
  });
});

describe("SWEA⊕OS with the subject in mid-prompt (fixtures/swea/swea-mid.json)", () => {
  // "I met {} in": what comes before the subject is computed once (lib/edit/prefix-kv.ts) while
  // δ is learned (" bob" from position 5) and attributed (positions 5-8 and 6-8)
  const mid: Golden = JSON.parse(
    readFileSync(path.resolve(__dirname, "fixtures/swea/swea-mid.json"), "utf8"),
  );

  it("learns the same losses, dimensions and offsets as the torch reference", async () => {
    const edit = await learnSwea(model, tok, {
      ...recipe(),
      params: { ...recipe().params, requests: [{ ...mid.request }] },
    });
    const got = edit.learned!.info!.requests[0].spellings;
    expect(got.map((x) => x.tokens)).toEqual(mid.spellings.map((x) => x.tokens));
    for (const [k, g] of mid.spellings.entries()) {
      expect(got[k].losses).toHaveLength(g.losses.length);
      for (const [i, l] of g.losses.entries()) expect(got[k].losses[i]).toBeCloseTo(l, 3);
      expect(got[k].suppressed).toEqual(g.suppressed);
      const scale = Math.max(...g.offsets.map(Math.abs));
      expect(maxAbs(edit.learned!.fusions[k].offsets, g.offsets) / scale).toBeLessThan(2e-4);
    }
  });
});

describe("the lookup (lib/model/token-match.ts, match_add)", () => {
  it("takes the longest key at each position, left to right, never overlapping", () => {
    const spans = matchSpans(
      [
        [1, 2, 3, 1, 2, 9],
        [2, 3, 1, 2, 3],
      ],
      [
        [1, 2],
        [1, 2, 3],
        [3, 1],
      ],
    );
    expect(spans).toEqual([
      { key: 1, row: 0, start: 0 },
      { key: 0, row: 0, start: 3 },
      { key: 2, row: 1, start: 1 },
    ]);
  });

  it("is refused at any hook but hook_embed, and without token ids", () => {
    const iv = {
      op: "match_add" as const,
      matches: [{ tokens: [1], value: new Array(32).fill(0) }],
    };
    expect(() =>
      model.hooks({ interventions: [{ hook: "blocks.0.hook_resid_post", ...iv }] }),
    ).toThrow(/match_add applies only at hook_embed/);
    const plan = model.hooks({ interventions: [{ hook: "hook_embed", ...iv }] });
    expect(() => tf.tidy(() => plan.apply("hook_embed", tf.zeros([1, 2, 32]), 0, {}))).toThrow(
      /needs the pass's \[1, 2\] token ids/,
    );
  });
});

describe("SWEA as data", () => {
  it("survives an edit file and a share link, and --save says why it is not in the checkpoint", async () => {
    const back = parseEditFile(JSON.parse(serializeEdits([learned]))).edits[0];
    expect(back).toEqual(learned);
    const { hash } = await encodeSession({ ...DEFAULT_SESSION, edits: [learned] });
    const linked = (await decodeSession(hash)).edits[0] as SweaEdit;
    expect(linked.learned!.fusions[0].tokens).toEqual(golden.spellings[0].tokens);
    const ed = applyEdits(model, [linked]);
    try {
      const d = maxAbs(await lastLogits(ed, "bob lives in"), golden.logits[0].edited);
      expect(d).toBeLessThan(2e-2); // f16 offsets
    } finally {
      ed.dispose();
    }
    const ck = editedCheckpoint(model.config, randomWeights(), [learned]);
    expect(ck.weightEdits).toEqual([]);
    expect(ck.notWeightEdits[0].reason).toMatch(/SWEA.*cannot be saved into a checkpoint/);
  });

  it("refuses bad input, naming the case", async () => {
    const req = golden.request;
    const run = (requests: SweaEdit["params"]["requests"]) =>
      learnSwea(model, tok, { kind: "swea", params: { requests, v_num_grad_steps: 1 } });
    await expect(run([{ ...req, prompt: "lives in" }])).rejects.toThrow(
      /request 0 \("bob"\).*no "\{\}" for the subject/,
    );
    await expect(run([req, { ...req, target_new: "y" }])).rejects.toThrow(
      /request 1 \("bob"\).*same subject as request 0/,
    );
    expect(() =>
      parseEditFile([{ kind: "swea", params: { requests: [req], kn_threshold: 2 } }]),
    ).toThrow(/edit 0: params.kn_threshold must be 0 to 1/);
    expect(() =>
      parseEditFile([{ kind: "swea", site: { layer: 1 }, params: { requests: [req] } }]),
    ).toThrow(/edit 0: swea has no site/);
    const bad = {
      ...learned,
      learned: { fusions: [{ ...learned.learned!.fusions[0], offsets: [1] }] },
    };
    expect(() => applyEdits(model, [bad])).toThrow(/learned.fusions\[0\].offsets must be 3 × 32/);
    await expect(
      applyBatchEdit({ model, tok, method: "swea", requests: [req], blue: true }),
    ).rejects.toThrow(/BLUE .* not of swea/);
    await expect(
      applyBatchEdit({
        model,
        tok,
        method: "swea",
        requests: [req],
        hparams: JSON.parse(`{"mode": "x"}`),
      }),
    ).rejects.toThrow(/params.mode must be one of kn\+optimize, optimize/);
  });
});
