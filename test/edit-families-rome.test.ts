/**
 * Edits on the Llama-family and GPT-NeoX fixtures through the app's model (Gpt2Model, one block
 * for every family):
 *  - every edit kind of edits-golden.json applied as the app applies it (applyEdits: weight
 *    deltas and interventions, and the folded weight form where the family has the bias) gives
 *    the numpy reference's logits of the edit as an intervention (scripts/reference/
 *    family_edit_ref.py);
 *  - ROME learned on a family (templates, k* from mlp.hook_post, δ, C, the rank-one update) is
 *    checked against scripts/reference/family_rome_ref.py: k*, the bare key, v₀, u and v from
 *    the app's v*, W′k + b = v*, and the logits of the edited model.
 */
import "../lib/model/backends-node";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { parseEditDataset } from "../lib/edit/dataset";
import { computeRome, type RomeComputation } from "../lib/edit/rome";
import { subjectPrompt } from "../lib/edit/tokens";
import type { RomeEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import type { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer } from "./fixtures/edit/random-model";
import { familyEdit, goldens, maxAbsGrid } from "./helpers/family-edits";
import { loadModelDir } from "./helpers/load-model-dir";
import { workLimit } from "./helpers/work-budget";
import { loadEngine } from "./interp-helpers";

const FAMILIES = path.resolve(__dirname, "fixtures", "families");
const REF = path.resolve(__dirname, "..", "scripts", "reference", "family_rome_ref.py");
const ALPHABET = Array.from({ length: 50 }, (_, i) => charTokenizer.decode([i])).join("");
/** The character tokenizer over 50 of the fixtures' 96 ids; the others are "<id n>" (never generated). */
const tok = {
  encode: charTokenizer.encode,
  decode: (ids: number[]) => ids.map((i) => (i < 50 ? ALPHABET[i] : "")).join(""),
  tokenText: (id: number) => (id < 50 ? ALPHABET[id] : `<id ${id}>`),
};
const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
/** A few Adam steps of ROME on a 2-layer model, and one numpy run. */
const ROME_MS = workLimit({ units: 1, perUnitMs: 180_000 });
const TEXTS = [
  "the cat sat on the mat.",
  "a dog ran far away, fast!",
  "who is there? nobody is.",
  "rain falls on the quiet hills",
  "big red apples are sweet",
  "old maps show lost roads",
];
const models = new Map<string, Gpt2Model>();

async function load(name: string): Promise<Gpt2Model> {
  let m = models.get(name);
  if (!m) {
    m = await loadModelDir(path.join(FAMILIES, name));
    models.set(name, m);
  }
  return m;
}

async function logitsOf(m: { forward: Gpt2Model["forward"] }, ids: number[]): Promise<number[][]> {
  const { logits } = m.forward({ inputIds: [ids], logitPositions: "all" });
  const rows = (await logits.array()) as number[][][];
  logits.dispose();
  return rows[0];
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const maxOf = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

/**
 * Asks scripts/reference/family_rome_ref.py for ROME's quantities given the app's v* and (u, v),
 * and returns the relative differences from the app's and the reference's edited logits.
 */
function romeAgainstRef(r: RomeComputation, req: Record<string, unknown>) {
  const learned = r.edit.learned!;
  const py = spawnSync("python3", [REF], {
    input: JSON.stringify({ ...req, v_star: Array.from(r.vStar), u: learned.u, v: learned.v }),
    encoding: "utf8",
    timeout: ROME_MS,
    maxBuffer: 64 << 20,
  });
  expect(py.status, py.stderr).toBe(0);
  const ref = JSON.parse(py.stdout);
  const scale = (a: ArrayLike<number>) => Math.max(1, maxOf(a));
  const d = {
    kStar: maxAbs(r.kStar, ref.k_star) / scale(ref.k_star),
    k: maxAbs(r.kUpdate, ref.k) / scale(ref.k),
    v0: maxAbs(r.v0, ref.v0) / scale(ref.v0),
    u: maxAbs(learned.u, ref.u),
    v: maxAbs(learned.v, ref.v) / scale(ref.v),
    out: maxAbs(ref.edited_out, r.vStar) / scale(r.vStar),
  };
  for (const [k, x] of Object.entries(d)) expect(x, k).toBeLessThan(1e-4);
  const text = Object.entries(d)
    .map(([k, x]) => `${k} ${x.toExponential(1)}`)
    .join(", ");
  return { text, editedLogits: ref.edited_logits as number[][] };
}

beforeAll(async () => {
  await selectBackend(["wasm"]);
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

describe("edits applied by the app on every family equal the reference's interventions", () => {
  it.each(Object.keys(goldens.fixtures))("%s", async (name) => {
    const fx = goldens.fixtures[name];
    const model = await load(name);
    const before = tf.memory().numTensors;
    const plain = await logitsOf(model, goldens.ids);
    expect(maxAbsGrid(plain, fx.plain), "unedited").toBeLessThan(1e-4);
    const worst: string[] = [];
    for (const c of fx.cases) {
      for (const fold of [false, true]) {
        const edited = applyEdits(model, [familyEdit(c)], { fold });
        const d = maxAbsGrid(await logitsOf(edited, goldens.ids), c.logits);
        edited.dispose();
        worst.push(`${c.name}${fold ? " (folded)" : ""} ${d.toExponential(1)}`);
        expect(d, `${c.name} fold ${fold}`).toBeLessThan(1e-4);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    console.log(`${name}: app vs reference, max |Δ logit|: ${worst.join(", ")}`);
  });
});

describe.skipIf(!hasNumpy)("ROME on the rotary families against numpy", () => {
  for (const [name, cov] of [
    ["llama-gqa-bf16", "general_text"],
    ["pythia-parallel-f16", "general_text"],
    ["neox-sequential-bf16", "identity"],
  ] as const) {
    it(
      `${name}, C = ${cov}: k*, v₀, u, v, W′k + b = v* and the edited logits`,
      async () => {
        const model = await load(name);
        const before = tf.memory().numTensors;
        const edit: RomeEdit = {
          kind: "rome",
          site: { layer: 0 },
          params: {
            prompt: "{} lives in",
            subject: "bob",
            target_new: "x",
            steps: 6,
            cov,
            shrinkage: 0.05,
            preserve: 0, // ROME's own u = C⁻¹k*, as family_rome_ref.py computes it
            context: { lengths: [4, 6], per_length: 1 },
          },
        };
        const r = await computeRome(model, tok, edit, {
          dataset: { general_text: TEXTS },
        });
        expect(tf.memory().numTensors, "computeRome leaves no tensor behind").toBe(before);
        const info = r.edit.learned!.info!;
        const prompts = info.templates.map((t) =>
          t.replace("{}", "{} lives in").replace("{}", "bob"),
        );
        const ref = romeAgainstRef(r, {
          model: path.join(FAMILIES, name),
          layer: 0,
          alphabet: ALPHABET,
          prompts,
          subject: "bob",
          texts: TEXTS,
          gamma: cov === "identity" ? null : 0.05,
        });
        // δ's loss path (the blocks after l, from resid_post − mlp_out in a parallel block) at
        // step 0 (δ = 0) gives the plain forward's NLL of the new object
        const target = info.target_new_ids;
        let nll = 0;
        for (const text of prompts) {
          const ids = tok.encode(text);
          const rows = await logitsOf(model, [...ids, ...target.slice(0, -1)]);
          target.forEach((id, j) => {
            const row = rows[ids.length - 1 + j];
            const mx = Math.max(...row);
            const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
            nll += (lse - row[id]) / target.length / prompts.length;
          });
        }
        expect(Math.abs(info.losses[0].nll - nll), "step-0 NLL").toBeLessThan(1e-4);
        const edited = applyEdits(model, [r.edit]);
        const T = prompts[0].length;
        const ids = tok.encode(prompts[0]);
        expect(ids).toHaveLength(T);
        const logits = maxAbsGrid(await logitsOf(edited, ids), ref.editedLogits);
        const unedited = maxAbsGrid(await logitsOf(model, ids), ref.editedLogits);
        edited.dispose();
        console.log(
          `${name} (${cov}), app vs numpy: ${ref.text}, edited logits ${logits.toExponential(1)} (the unedited model is ${unedited.toFixed(2)} away); ` +
            `loss ${info.losses[0].loss.toFixed(3)} → ${info.losses[info.losses.length - 1].loss.toFixed(3)}`,
        );
        expect(logits).toBeLessThan(1e-4);
        expect(unedited).toBeGreaterThan(1e-2);
        expect(tf.memory().numTensors).toBe(before);
      },
      ROME_MS,
    );
  }
});

const LLAMA_DIR = path.resolve(__dirname, "..", "public", "models", "tiny-facts-llama");
const hasLlama = existsSync(path.join(LLAMA_DIR, "model.safetensors"));

describe.skipIf(!hasNumpy || !hasLlama)("ROME on tiny-facts-llama against numpy", () => {
  it(
    "k*, the bare key, v₀, C from general text, u, v and the edited logits (BOS included)",
    async () => {
      const engine = await loadEngine(LLAMA_DIR);
      try {
        const tok = engine.tokenizer;
        const dataset = parseEditDataset(
          JSON.parse(readFileSync(path.join(LLAMA_DIR, "dataset.json"), "utf8")),
        );
        const prompt = "{} lives in the city of";
        const subject = "Ralkrok Stennos";
        const edit: RomeEdit = {
          kind: "rome",
          site: { layer: 1 },
          params: {
            prompt,
            subject,
            target_new: "Belkor",
            steps: 8,
            cov: "general_text",
            cov_texts: 40,
            shrinkage: 0.01,
            preserve: 0, // ROME's own u = C⁻¹k*, as family_rome_ref.py computes it
            context: { lengths: [4], per_length: 2 },
          },
        };
        const before = tf.memory().numTensors;
        const r = await computeRome(engine.model, tok, edit, { dataset });
        expect(tf.memory().numTensors).toBe(before);
        const learned = r.edit.learned!;
        const rows = learned.info!.templates.map((t) =>
          subjectPrompt(tok, t.replace("{}", prompt), subject),
        );
        const ref = romeAgainstRef(r, {
          model: LLAMA_DIR,
          layer: 1,
          rows: rows.map((x) => x.ids),
          subject_last: rows.map((x) => x.subjectLast),
          text_rows: dataset.general_text!.slice(0, 40).map((t) => tok.encode(t)),
          gamma: 0.01,
        });
        const edited = applyEdits(engine.model, [r.edit]);
        const logits = maxAbsGrid(await logitsOf(edited, rows[0].ids), ref.editedLogits);
        edited.dispose();
        console.log(
          `tiny-facts-llama ROME, app vs numpy: ${ref.text}, edited logits ${logits.toExponential(1)}`,
        );
        expect(logits).toBeLessThan(1e-3);
      } finally {
        engine.dispose();
      }
    },
    2 * ROME_MS,
  );
});
