/**
 * Every edit kind survives being written out and read back, on the bundled model
 * (public/models/tiny-facts): one cheap edit of each kind is learned, then
 *  (a) an edit file (serializeEdits → JSON text → parseEditFile) gives the same logits to ≤ 1e-6
 *      (JSON keeps every f64 exactly, so this is in fact bit-identical);
 *  (b) a share link (encodeSession → decodeSession, learned arrays rounded to f16 where
 *      lib/share/codecs.ts LEARNED_IN_LINK says "quantised") gives logits within LINK_LOGIT_TOL
 *      and probabilities within LINK_PROB_TOL of the exact edit.
 * The same holds for the whole stack applied together. Measured max |Δ logit| and |Δ prob| per
 * kind are printed (docs/sharing.md quotes them). Skipped when the bundled model is absent.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { type EditDataset, parseEditDataset } from "../lib/edit/dataset";
import { learnEdit } from "../lib/edit/learn";
import { parseEditFile, serializeEdits } from "../lib/edit/parse";
import { EDIT_KINDS, type Edit, type EditKind } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));

/** Link tolerances: f16 keeps each number within 2⁻¹¹ relative; these bound the output. */
const LINK_LOGIT_TOL = 5e-3;
const LINK_PROB_TOL = 1e-3;

const FACT = "Ralkrok Stennos lives in the city of";

/** One cheap recipe of every kind (small settings: this test is about the round trip). */
const RECIPES: Record<EditKind, Edit> = {
  rome: {
    kind: "rome",
    site: { layer: 1 },
    params: {
      prompt: "{} lives in the city of",
      subject: "Ralkrok Stennos",
      target_new: " Orvane",
      steps: 5,
      context: { per_length: 1 },
      cov: "general_text",
      cov_texts: 16,
    },
  },
  head_ablate: {
    kind: "head_ablate",
    site: { layer: 2, head: 1, position: "all" },
    params: { mode: "mean", prompts: { dataset: "general_text", limit: 16 } },
  },
  head_scale: {
    kind: "head_scale",
    site: { layer: 3, head: 0 },
    params: { scale: 1.7 },
  },
  head_steer: {
    kind: "head_steer",
    site: { heads: [{ layer: 4, head: 2 }] },
    params: {
      alpha: 5,
      positive: { dataset: "absc", label: " positive", limit: 16 },
      negative: { dataset: "absc", label: " negative", limit: 16 },
    },
  },
  resid_steer: {
    kind: "resid_steer",
    site: { layer: 3 },
    params: {
      alpha: 2,
      positive: { dataset: "absc", label: " positive", limit: 16 },
      negative: { dataset: "absc", label: " negative", limit: 16 },
    },
  },
  loreft: {
    kind: "loreft",
    site: { layers: [2], position: "last" },
    params: { steps: 20, n_train: 16, n_test: 8 },
  },
  lora: {
    kind: "lora",
    site: { layers: [0, 1] },
    params: {
      prefix: FACT,
      suffix: " Orvane",
      steps: 4,
      lr: 0.02,
      epsilon: 10, // keep the last step: a LoRA that changes nothing tests nothing
      texts: 4,
    },
  },
  memit: {
    kind: "memit",
    site: { layers: [0, 1] },
    params: {
      requests: [
        { prompt: "{} lives in the city of", subject: "Ralkrok Stennos", target_new: " Orvane" },
        { prompt: "{} lives in the city of", subject: "Gosre Statistis", target_new: " Parrow" },
      ],
      blue: true,
      v_num_grad_steps: 3,
      mom2_n_samples: 16,
      mom2_shrinkage: 0.01, // 16 texts are too few tokens for a positive-definite C
      context: { per_length: 1 },
    },
  },
  pmet: {
    kind: "pmet",
    site: { layers: [0, 1] },
    params: {
      requests: [
        { prompt: "{} lives in the city of", subject: "Ralkrok Stennos", target_new: " Parrow" },
      ],
      v_num_grad_steps: 3,
      mom2_n_samples: 16,
      mom2_shrinkage: 0.01, // 16 texts are too few tokens for a positive-definite C
      context: { per_length: 1 },
    },
  },
  alphaedit: {
    kind: "alphaedit",
    site: { layers: [0, 1] },
    params: {
      requests: [
        { prompt: "{} lives in the city of", subject: "Ralkrok Stennos", target_new: " Belkor" },
      ],
      v_num_grad_steps: 3,
      mom2_n_samples: 16,
      mom2_shrinkage: 0.01, // 16 texts are too few tokens for a positive-definite C
      context: { per_length: 1 },
    },
  },
  swea: {
    kind: "swea",
    params: {
      requests: [
        {
          prompt: "{} lives in the city of",
          subject: "Ralkrok Stennos",
          target_new: " Orvane",
          target_true: " Parrow",
        },
      ],
      v_num_grad_steps: 3,
      kn_steps: 4,
      context: { per_length: 1 },
    },
  },
};

const SINGLE_KINDS = EDIT_KINDS.filter((k) => k !== "memit" && k !== "alphaedit" && k !== "pmet");

let engine: Engine;
let dataset: EditDataset;
let prompts: number[][];
const learned = new Map<EditKind, Edit>();

/** [prompt][position][vocab] logits of the model with these edits. */
function logitsOf(edits: readonly Edit[]): Float32Array[] {
  const edited = applyEdits(engine.model, edits);
  try {
    return prompts.map((ids) => {
      const { logits, activations } = edited.forward({ inputIds: [ids] });
      for (const t of activations.values()) t.dispose();
      const out = logits.dataSync() as Float32Array; // [1, T, V] flat
      logits.dispose();
      return out.slice();
    });
  } finally {
    edited.dispose();
  }
}

/** Max |Δ| over logits and over softmax probabilities (per position). */
function compare(a: Float32Array[], b: Float32Array[], vocab: number) {
  let logit = 0;
  let prob = 0;
  for (const [k, x] of a.entries()) {
    const y = b[k];
    for (let p = 0; p < x.length / vocab; p++) {
      const px = softmax(x.subarray(p * vocab, (p + 1) * vocab));
      const py = softmax(y.subarray(p * vocab, (p + 1) * vocab));
      for (let v = 0; v < vocab; v++) {
        logit = Math.max(logit, Math.abs(x[p * vocab + v] - y[p * vocab + v]));
        prob = Math.max(prob, Math.abs(px[v] - py[v]));
      }
    }
  }
  return { logit, prob };
}

function softmax(z: Float32Array): Float64Array {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of z) m = Math.max(m, v);
  const e = Float64Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((acc, v) => acc + v, 0);
  return e.map((v) => v / s);
}

async function throughLink(edits: Edit[]): Promise<Edit[]> {
  const { hash } = await encodeSession({ ...DEFAULT_SESSION, edits });
  return (await decodeSession(hash)).edits;
}

const throughFile = (edits: Edit[]): Edit[] =>
  parseEditFile(JSON.parse(serializeEdits(edits, "tiny-facts"))).edits;

/** max |R Rᵀ − I| of a LoReFT edit's R (r×d row-major): LoReFT needs orthonormal rows. */
function orthoError(e: Edit): number {
  if (e.kind !== "loreft" || !e.learned) throw new Error("not a learned LoReFT edit");
  let worst = 0;
  for (const { R } of e.learned.layers) {
    const r = e.params.rank ?? 4;
    const d = R.length / r;
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += R[i * d + k] * R[j * d + k];
        worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
      }
    }
  }
  return worst;
}

describe.skipIf(!present)("every edit kind through an edit file and a link", () => {
  beforeAll(
    async () => {
      await selectBackend(["wasm"]);
      engine = await loadEngine(BUNDLED_DIR);
      dataset = parseEditDataset(
        JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
      );
      const tok = engine.tokenizer;
      prompts = [FACT, dataset.absc!.test[0].prompt, dataset.general_text![0]].map((s) =>
        tok.encode(s).slice(0, 24),
      );
      const before = tf.memory().numTensors;
      for (const kind of EDIT_KINDS) {
        learned.set(kind, await learnEdit(engine.model, tok, RECIPES[kind], { dataset }));
      }
      expect(tf.memory().numTensors).toBe(before);
    },
    workLimit({ units: EDIT_KINDS.length, perUnitMs: 60_000 }),
  ); // one cheap learning per kind
  afterAll(() => engine?.dispose());

  const cases: [string, () => Edit[]][] = [
    ...EDIT_KINDS.map((k): [string, () => Edit[]] => [k, () => [learned.get(k)!]]),
    // every kind but the batch ones: with them the link would be too long (see the next test)
    ["whole stack", () => SINGLE_KINDS.map((k) => learned.get(k)!)],
  ];

  it("a stack too long for a link carries its recipes only, relearned on open", async () => {
    const stack = EDIT_KINDS.map((k) => learned.get(k)!);
    const linked = await throughLink(stack);
    expect(linked.map((e) => e.kind)).toEqual(stack.map((e) => e.kind));
    for (const [i, e] of linked.entries()) {
      expect((e as { learned?: unknown }).learned).toBeUndefined();
      expect(e.params).toEqual(stack[i].params);
    }
  });

  it("LoReFT's R stays orthonormal through a link (f16 rows)", async () => {
    const exact = learned.get("loreft")!;
    const [linked] = await throughLink([exact]);
    const before = orthoError(exact);
    const after = orthoError(linked);
    console.log(
      `loreft max |R Rᵀ − I|: learned ${before.toExponential(2)}, from a link ${after.toExponential(2)}`,
    );
    expect(before).toBeLessThan(1e-5);
    // f16 rounds each entry by ≤ 2⁻¹¹ relative: a dot product of unit rows moves by ≲ 2·2⁻¹¹.
    expect(after).toBeLessThan(2e-3);
  });

  it.each(cases)("%s: file exact, link within tolerance", async (name, stackOf) => {
    const stack = stackOf();
    const vocab = engine.model.config.vocabSize;
    const before = tf.memory().numTensors;
    const plain = logitsOf([]);
    const exact = logitsOf(stack);
    const file = logitsOf(throughFile(stack));
    const linked = await throughLink(stack);
    const link = logitsOf(linked);
    expect(tf.memory().numTensors).toBe(before);

    const effect = compare(plain, exact, vocab);
    const f = compare(exact, file, vocab);
    const l = compare(exact, link, vocab);
    console.log(
      `${name}: edit effect max |Δ logit| ${effect.logit.toFixed(3)}; file max |Δ logit| ${f.logit.toExponential(1)}; link max |Δ logit| ${l.logit.toExponential(2)}, max |Δ prob| ${l.prob.toExponential(2)}`,
    );
    expect(effect.logit).toBeGreaterThan(1e-2); // the edit changes the model
    // The link really rounded the learned arrays (head_scale has none).
    for (const [i, e] of stack.entries()) {
      if (e.kind === "head_scale") continue;
      const learnedOf = (x: Edit) => JSON.stringify((x as { learned?: unknown }).learned);
      expect(learnedOf(linked[i])).not.toBe(learnedOf(e));
    }
    expect(f.logit).toBeLessThanOrEqual(1e-6);
    expect(l.logit).toBeLessThan(LINK_LOGIT_TOL);
    expect(l.prob).toBeLessThan(LINK_PROB_TOL);
  });
});
