/**
 * Edit stacks on a small random GPT-2: applying edits as data (no weight is changed in place),
 * toggling them off (the original logits, exactly), α = 0 steering (the identity, exactly),
 * steering through a hook against the same edit folded into the output projection's bias
 * (ITI's weight form), per-row "last" positions in padded batches, the written checkpoint,
 * the JSON round trip, head probes and directions, and tensor hygiene.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { editedCheckpoint, writeSafetensors } from "../lib/edit/checkpoint";
import { learnHeadAblate, learnHeadSteer, massMeanDirection, probeHeads } from "../lib/edit/heads";
import { learnStack } from "../lib/edit/learn";
import { parseEditFile, serializeEdits } from "../lib/edit/parse";
import { planEdits } from "../lib/edit/plan";
import { fitLogistic, probe, splitIndices } from "../lib/edit/probe";
import { learnResidSteer } from "../lib/edit/steer";
import type { Edit, HeadSteerEdit, ResidSteerEdit } from "../lib/edit/types";
import { runTrace } from "../lib/interp/trace";
import { gpt2WeightsFromTensors } from "../lib/load/gpt2-checkpoint";
import { parseSafetensors } from "../lib/load/safetensors";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

let model: Gpt2Model;
const weights = randomWeights();
const tok = charTokenizer;
const D = SMALL.dModel;
const E = D / SMALL.nHead;
const IDS = [tok.encode("the cat sat on it"), tok.encode("a dog ran far, fast")].map((r) =>
  r.slice(0, 16),
);

const vec = (n: number, seed: number, scale = 1) =>
  Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 7.3 + i * 1.7));
const dir = (n: number, seed: number) => {
  const v = vec(n, seed);
  const s = Math.hypot(...v);
  return { direction: v.map((x) => x / s), norm: 2.5, sigma: 0.7 };
};

/** One learned edit of every kind (learned values made up: apply does not care). */
function stack(position: "all" | "last"): Edit[] {
  return [
    {
      kind: "rome",
      site: { layer: 1 },
      params: { prompt: "{} is", subject: "x", target_new: "y" },
      learned: { u: vec(SMALL.dMlp, 1, 0.1), v: vec(D, 2, 0.3) },
    },
    { kind: "head_ablate", site: { layer: 0, head: 1, position }, params: { mode: "zero" } },
    {
      kind: "head_ablate",
      site: { layer: 1, head: 0, position },
      params: { mode: "mean", prompts: ["ab"] },
      learned: { mean: vec(E, 3, 0.5) },
    },
    { kind: "head_scale", site: { layer: 1, head: 3, position }, params: { scale: 1.7 } },
    {
      kind: "head_steer",
      site: { heads: [{ layer: 0, head: 2 }], position },
      params: { alpha: 3, positive: ["a"], negative: ["b"] },
      learned: {
        heads: [
          { layer: 0, head: 2, ...dir(E, 4) },
          { layer: 1, head: 3, ...dir(E, 5) },
        ],
      },
    },
    {
      kind: "resid_steer",
      site: { layer: 0, hook: "resid_post", position },
      params: { alpha: 2, vector: vec(D, 6) },
      learned: dir(D, 6),
    },
    {
      kind: "resid_steer",
      site: { layer: 1, hook: "resid_mid", position },
      params: { alpha: -1, scale: "iti", vector: vec(D, 7) },
      learned: dir(D, 7),
    },
    {
      kind: "resid_steer",
      site: { layer: 1, hook: "resid_pre", position },
      params: { alpha: 0.5, vector: vec(D, 8) },
      learned: dir(D, 8),
    },
  ];
}

async function logitsOf(m: { forward: Gpt2Model["forward"] }, ids = IDS): Promise<Float32Array> {
  const { logits, activations } = m.forward({ inputIds: ids });
  const d = Float32Array.from(await logits.data());
  logits.dispose();
  tf.dispose([...activations.values()]);
  return d;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

let original: Float32Array;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, weights);
  original = await logitsOf(model);
});
afterAll(() => model?.dispose());

describe("applying and toggling", () => {
  it("every kind changes the logits; the stack leaves no tensor behind", async () => {
    const before = tf.memory().numTensors;
    for (const [i, e] of stack("all").entries()) {
      const edited = applyEdits(model, [e]);
      const d = await logitsOf(edited);
      expect(maxAbs(d, original), `edit ${i} (${e.kind})`).toBeGreaterThan(1e-4);
      edited.dispose();
    }
    const all = applyEdits(model, stack("last"));
    await logitsOf(all);
    all.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("toggled-off edits give the original logits exactly, and the weights stay untouched", async () => {
    const wBefore = Float32Array.from(await model.blockWeight(1, "wOut").data());
    for (const pos of ["all", "last"] as const) {
      const on = applyEdits(model, stack(pos));
      expect(maxAbs(await logitsOf(on), original)).toBeGreaterThan(1e-3);
      on.dispose();
      const off = applyEdits(
        model,
        stack(pos).map((e) => ({ ...e, enabled: false })),
      );
      expect(off.isIdentity).toBe(true);
      expect(await logitsOf(off)).toEqual(original);
      off.dispose();
      // toggling one edit off equals the stack without it, exactly
      const s = stack(pos);
      const oneOff = applyEdits(
        model,
        s.map((e, i) => (i === 3 ? { ...e, enabled: false } : e)),
      );
      const without = applyEdits(
        model,
        s.filter((_, i) => i !== 3),
      );
      expect(await logitsOf(oneOff)).toEqual(await logitsOf(without));
      oneOff.dispose();
      without.dispose();
    }
    expect(Float32Array.from(await model.blockWeight(1, "wOut").data())).toEqual(wBefore);
    expect(await logitsOf(model)).toEqual(original);
  });

  it("α = 0 steering is the identity, exactly", async () => {
    for (const pos of ["all", "last"] as const) {
      const steer = stack(pos).filter((e) => e.kind === "head_steer" || e.kind === "resid_steer");
      const zero = steer.map((e) => ({ ...e, params: { ...e.params, alpha: 0 } }) as Edit);
      const edited = applyEdits(model, zero);
      expect(await logitsOf(edited)).toEqual(original);
      edited.dispose();
    }
  });

  it("zero ablation zeroes the head's recorded output; scaling scales it", async () => {
    const edited = applyEdits(model, stack("all").slice(1, 4));
    const T = IDS[0].length;
    const { logits, activations } = edited.view(T).forward({
      inputIds: IDS,
      record: ["blocks.0.attn.hook_z", "blocks.1.attn.hook_z"],
    });
    const z0 = (await activations.get("blocks.0.attn.hook_z")!.array()) as number[][][][];
    const z1 = (await activations.get("blocks.1.attn.hook_z")!.array()) as number[][][][];
    expect(z0[1][5][1].every((x) => x === 0)).toBe(true);
    expect(z1[0][2][0]).toEqual(Array.from(Float32Array.from(vec(E, 3, 0.5))));
    const scaled = applyEdits(model, stack("all").slice(3, 4));
    const a = scaled.view(T).forward({ inputIds: IDS, record: ["blocks.1.attn.hook_z"] });
    const plain = model.forward({ inputIds: IDS, record: ["blocks.1.attn.hook_z"] });
    const s1 = (await a.activations.get("blocks.1.attn.hook_z")!.array()) as number[][][][];
    const p1 = (await plain.activations.get("blocks.1.attn.hook_z")!.array()) as number[][][][];
    for (let e = 0; e < E; e++) expect(s1[1][4][3][e]).toBeCloseTo(1.7 * p1[1][4][3][e], 5);
    expect(s1[1][4][2]).toEqual(p1[1][4][2]);
    tf.dispose([
      logits,
      a.logits,
      plain.logits,
      ...activations.values(),
      ...a.activations.values(),
      ...plain.activations.values(),
    ]);
    edited.dispose();
    scaled.dispose();
  });
});

describe("hook form = weight form (ITI's o_proj bias)", () => {
  it("each edit at every position, folded into weights, gives the same logits", async () => {
    for (const [i, e] of stack("all").entries()) {
      const hooks = applyEdits(model, [e]);
      const folded = applyEdits(model, [e], { fold: true });
      expect(folded.plan.maps, `edit ${i} is fully folded`).toHaveLength(0);
      const err = maxAbs(await logitsOf(hooks), await logitsOf(folded));
      expect(err, `edit ${i} (${e.kind})`).toBeLessThan(2e-5);
      hooks.dispose();
      folded.dispose();
    }
  });

  it("a whole stack folds, composing edits of one head in order (steer then scale)", async () => {
    const s = stack("all");
    const hooks = applyEdits(model, s);
    const folded = applyEdits(model, s, { fold: true });
    expect(folded.plan.folded).toHaveLength(s.length - 1); // all but ROME (already a weight)
    const err = maxAbs(await logitsOf(hooks), await logitsOf(folded));
    console.log(`whole stack: hook vs folded max |Δlogit| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(5e-5);
    hooks.dispose();
    folded.dispose();
  });

  it("steering head h by δ equals adding W_O·δ to the attention output bias", async () => {
    const e = stack("all")[4] as HeadSteerEdit;
    const one = { ...e, learned: { heads: [e.learned!.heads[0]] } };
    const hooks = applyEdits(model, [one]);
    const h = one.learned.heads[0];
    const delta = new Float32Array(D);
    delta.set(
      h.direction.map((x) => x * 3 * h.sigma),
      h.head * E,
    );
    const bO = tf.tidy(() =>
      model
        .blockWeight(0, "bO")
        .add(
          tf
            .matMul(tf.tensor2d(delta, [1, D]), model.blockWeight(0, "wO") as tf.Tensor2D)
            .reshape([D]),
        ),
    );
    const byBias = model.withOverrides({ weights: [{ layer: 0, name: "bO", value: bO }] });
    expect(maxAbs(await logitsOf(hooks), await logitsOf(byBias))).toBeLessThan(2e-5);
    bO.dispose();
    hooks.dispose();
  });

  it("edits at the last position are not folded", () => {
    const plan = planEdits(stack("last"), SMALL, { fold: true });
    expect(plan.folded).toEqual([]);
    expect(plan.patches.map((p) => p.type)).toEqual(["rank_one"]);
  });
});

describe("tracing the edited model", () => {
  it("a trace runs on edited.view(T): fast = naive with the stack's interventions, off = original", async () => {
    const ids = tok.encode("bob is in the city of");
    const spec = {
      prompt: ids,
      subject: [0, 3] as [number, number],
      target: 3,
      samples: 3,
      kind: "hidden" as const,
    };
    const edited = applyEdits(model, stack("last"));
    const host = { model: edited.view(ids.length) };
    const [fast, naive] = [
      await runTrace(host, { ...spec, strategy: "fast" }),
      await runTrace(host, { ...spec, strategy: "naive" }),
    ];
    expect(maxAbs(fast.scores.flat(), naive.scores.flat())).toBeLessThan(1e-5);
    const orig = await runTrace({ model }, { ...spec, strategy: "fast" });
    expect(Math.abs(fast.high - orig.high)).toBeGreaterThan(1e-4);
    const off = applyEdits(
      model,
      stack("last").map((e) => ({ ...e, enabled: false })),
    );
    const again = await runTrace({ model: off.view(ids.length) }, { ...spec, strategy: "fast" });
    expect(again.scores).toEqual(orig.scores);
    expect(again.high).toBe(orig.high);
    edited.dispose();
    off.dispose();
  });
});

describe("positions", () => {
  it('"last" in a right-padded batch acts at each row\'s own last token', async () => {
    const rows = [tok.encode("short one"), tok.encode("a much longer row"), tok.encode("mid size")];
    for (const which of [
      [4, 5],
      [1, 2, 3],
    ]) {
      const edited = applyEdits(
        model,
        stack("last").filter((_, i) => which.includes(i)),
      );
      const lengths = rows.map((r) => r.length);
      const T = Math.max(...lengths);
      const padded = rows.map((r) => [...r, ...new Array(T - r.length).fill(0)]);
      const { logits } = edited.view(lengths).forward({ inputIds: padded });
      const all = (await logits.array()) as number[][][];
      logits.dispose();
      for (const [b, r] of rows.entries()) {
        const alone = await logitsOf(edited, [r]);
        const got = Float32Array.from(all[b].slice(0, r.length).flat());
        expect(maxAbs(got, alone), `row ${b}, edits ${which}`).toBeLessThan(2e-5);
      }
      edited.dispose();
    }
  });
});

describe("files", () => {
  it("edits survive being written out and read back", async () => {
    const s = stack("last");
    const text = serializeEdits(s, "random");
    const back = parseEditFile(JSON.parse(text));
    expect(back.model).toBe("random");
    expect(back.edits).toEqual(s);
    const [a, b] = [applyEdits(model, s), applyEdits(model, back.edits)];
    expect(await logitsOf(a)).toEqual(await logitsOf(b));
    a.dispose();
    b.dispose();
    expect(parseEditFile(s).edits).toHaveLength(s.length); // a bare list
  });

  it("malformed edits are refused with the edit's index and field", () => {
    expect(() => parseEditFile({ edits: [{ kind: "nope" }] })).toThrow(
      /edit 0: kind must be one of/,
    );
    expect(() =>
      parseEditFile([{ kind: "head_scale", site: { layer: 0, head: 1 }, params: {} }]),
    ).toThrow(/params.scale/);
    expect(() =>
      parseEditFile([
        { kind: "rome", site: {}, params: { prompt: "no subject", subject: "a", target_new: "b" } },
      ]),
    ).toThrow(/"\{\}"/);
    expect(() =>
      parseEditFile([
        {
          kind: "head_steer",
          site: { position: "last" },
          params: { alpha: 1, positive: ["a"], negative: ["b"] },
        },
      ]),
    ).toThrow(/exactly one of site.heads and site.top_k/);
    expect(() => parseEditFile({ version: 3, edits: [] })).toThrow(/version 3/);
    expect(() =>
      applyEdits(model, [
        { kind: "head_scale", site: { layer: 9, head: 0 }, params: { scale: 2 } },
      ]),
    ).toThrow(/layer must be 0 to 1/);
    expect(() =>
      applyEdits(model, [
        { kind: "resid_steer", site: { layer: 0 }, params: { alpha: 1, vector: [1, 2] } },
      ]),
    ).toThrow(/no learned values|32 finite numbers/);
  });

  it("the checkpoint of a stack reloads to the same logits; edits at the last position are listed", async () => {
    // a site with an edit at the last position keeps all its edits as interventions
    const shared = editedCheckpoint(SMALL, weights, [...stack("all"), stack("last")[4]]);
    expect(shared.notWeightEdits.map((n) => n.index)).toEqual([3, 4, 8]);
    expect(shared.notWeightEdits[0].reason).toMatch(/shares a site/);
    const last: Edit = {
      kind: "resid_steer",
      site: { layer: 1, position: "last" },
      params: { alpha: 1, vector: vec(D, 9) },
      learned: dir(D, 9),
    };
    const s = [...stack("all"), last];
    const ck = editedCheckpoint(SMALL, weights, s);
    expect(ck.weightEdits).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(ck.notWeightEdits.map((n) => n.index)).toEqual([8]);
    expect(ck.notWeightEdits[0].reason).toMatch(/last position/);
    const bytes = writeSafetensors(ck.tensors);
    const reloaded = Gpt2Model.fromWeights(
      SMALL,
      gpt2WeightsFromTensors(
        parseSafetensors(bytes, "model.safetensors"),
        SMALL,
        "model.safetensors",
      ),
    );
    const inHooks = applyEdits(model, s.slice(0, 8));
    const err = maxAbs(await logitsOf(reloaded), await logitsOf(inHooks));
    console.log(`checkpoint vs hooks: max |Δlogit| = ${err.toExponential(2)}`);
    expect(err).toBeLessThan(5e-5);
    // the host weights were not changed
    expect(weights.blocks[1].mlpOut.w.data).toEqual(randomWeights().blocks[1].mlpOut.w.data);
    reloaded.dispose();
    inHooks.dispose();
  });
});

describe("learning head and representation edits", () => {
  const pos = [
    "the cat is good",
    "good dog, good cat",
    "a good day",
    "so good!",
    "good food is good",
    "good times",
  ];
  const neg = [
    "the cat is bad",
    "bad dog, bad cat",
    "a bad day",
    "so bad!",
    "bad food is bad",
    "bad times",
  ];

  it("probes: separable data is learned exactly, the split is seeded", () => {
    const X = Array.from({ length: 40 }, (_, i) => [
      Math.sin(i),
      (i % 2 ? 1 : -1) + 0.1 * Math.cos(i),
    ]);
    const y = X.map((_, i) => i % 2);
    const split = splitIndices(40, 0.2, 3);
    expect(split.val).toHaveLength(8);
    expect(splitIndices(40, 0.2, 3)).toEqual(split);
    expect(splitIndices(40, 0.2, 4)).not.toEqual(split);
    const r = probe(X, y, split);
    expect(r.train_accuracy).toBe(1);
    expect(r.val_accuracy).toBe(1);
    expect(fitLogistic(X, y).w[1]).toBeGreaterThan(0);
  });

  it("mass-mean direction: unit θ, b = mean difference, σ of projections", () => {
    const d = massMeanDirection(
      [
        [2, 0],
        [4, 0],
      ],
      [
        [0, 0],
        [0, 2],
      ],
    );
    expect(d.norm).toBeCloseTo(Math.hypot(3, -1), 12);
    expect(Math.hypot(...d.direction)).toBeCloseTo(1, 12);
    const proj = [2, 4, 0, 0].map((x, i) => x * d.direction[0] + [0, 0, 0, 2][i] * d.direction[1]);
    const m = proj.reduce((a, b) => a + b) / 4;
    expect(d.sigma).toBeCloseTo(Math.sqrt(proj.reduce((a, b) => a + (b - m) ** 2, 0) / 4), 12);
  });

  it("top-K heads by probe accuracy, with the [L][H] grid; learned edits apply", async () => {
    const before = tf.memory().numTensors;
    const r = await probeHeads(model, tok, pos, neg, { seed: 1 });
    expect(r.accuracy).toHaveLength(SMALL.nLayer);
    expect(r.accuracy[0]).toHaveLength(SMALL.nHead);
    const accs = r.ranking.map((x) => x.accuracy);
    expect([...accs].sort((a, b) => b - a)).toEqual(accs);
    const edit: HeadSteerEdit = {
      kind: "head_steer",
      site: { top_k: 3, position: "last" },
      params: { alpha: 2, positive: pos, negative: neg, seed: 1 },
    };
    const learned = await learnHeadSteer(model, tok, edit);
    expect(learned.learned.heads.map((h) => [h.layer, h.head])).toEqual(
      r.ranking.slice(0, 3).map((h) => [h.layer, h.head]),
    );
    expect(learned.learned.probe_accuracy).toEqual(r.accuracy);
    for (const h of learned.learned.heads) expect(Math.hypot(...h.direction)).toBeCloseTo(1, 6);
    const edited = applyEdits(model, [learned]);
    expect(maxAbs(await logitsOf(edited), original)).toBeGreaterThan(0);
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("mean ablation learns the head's mean over the prompts at the rule's positions", async () => {
    const prompts = ["abc", "hello"];
    const e = await learnHeadAblate(model, tok, {
      kind: "head_ablate",
      site: { layer: 1, head: 2, position: "all" },
      params: { mode: "mean", prompts },
    });
    const acts: number[][] = [];
    for (const p of prompts) {
      const { logits, activations } = model.forward({
        inputIds: [tok.encode(p)],
        record: ["blocks.1.attn.hook_z"],
      });
      const z = (await activations.get("blocks.1.attn.hook_z")!.array()) as number[][][][];
      for (const t of z[0]) acts.push(t[2]);
      tf.dispose([logits, ...activations.values()]);
    }
    const mean = acts[0].map((_, i) => acts.reduce((s, a) => s + a[i], 0) / acts.length);
    expect(maxAbs(e.learned!.mean, mean)).toBeLessThan(1e-6);
  });

  it("a stack is learned in order, each edit on the model edited by those before it", async () => {
    const steer: ResidSteerEdit = {
      kind: "resid_steer",
      site: { layer: 0, position: "last" },
      params: { alpha: 1, positive: pos, negative: neg },
    };
    const ablate: Edit = {
      kind: "head_ablate",
      site: { layer: 0, head: 0, position: "all" },
      params: { mode: "zero" },
    };
    const { edits, learned } = await learnStack(model, tok, [ablate, steer]);
    expect(learned).toEqual([1]);
    const alone = await learnResidSteer(model, tok, steer);
    const after = applyEdits(model, [ablate]);
    const onTop = await learnResidSteer(after, tok, steer);
    after.dispose();
    expect((edits[1] as ResidSteerEdit).learned).toEqual(onTop.learned);
    expect(maxAbs(alone.learned!.direction, onTop.learned!.direction)).toBeGreaterThan(1e-4);
  });
});
