/**
 * Learning head and steering edits, and training LoRA, on the rotary fixtures. The learned
 * means and directions are checked against the numpy reference's hook activations
 * (test/fixtures/families/<name>/golden.safetensors, scripts/reference/make_random_family.py):
 * hook_z is [B, T, H, E] with E = head_dim (12 ≠ d_model / H = 8 in llama-gqa-bf16), so a head's
 * slice is E numbers of an H·E row. LoRA's GPT-2 name c_fc trains the family's own MLP input
 * weights (Llama: gate_proj and up_proj).
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { learnHeadAblate } from "../lib/edit/heads";
import { learnEdit } from "../lib/edit/learn";
import { learnResidSteer } from "../lib/edit/steer";
import type { HeadAblateEdit, LoraEdit, LoreftEdit, ResidSteerEdit } from "../lib/edit/types";
import { parseSafetensors } from "../lib/load/safetensors";
import type { HostTensor } from "../lib/load/types";
import { selectBackend } from "../lib/model/backend";
import type { Gpt2Model } from "../lib/model/gpt2";
import { loadModelDir } from "./helpers/load-model-dir";
import { workLimit } from "./helpers/work-budget";

const FAMILIES = path.resolve(__dirname, "fixtures", "families");
/** Token id i is the character U+0020 + i: the fixtures' 96 ids are printable ASCII. */
const tok = {
  encode: (s: string) => Array.from(s, (ch) => ch.charCodeAt(0) - 32),
  decode: (ids: number[]) => ids.map((i) => String.fromCharCode(32 + i)).join(""),
  tokenText: (id: number) => String.fromCharCode(32 + id),
};
const LORA_MS = workLimit({ units: 1, perUnitMs: 120_000 });
const models = new Map<string, Gpt2Model>();

async function load(name: string) {
  const dir = path.join(FAMILIES, name);
  let model = models.get(name);
  if (!model) {
    model = await loadModelDir(dir);
    models.set(name, model);
  }
  const golden = JSON.parse(readFileSync(path.join(dir, "golden.json"), "utf8")) as {
    cases: { name: string; ids: number[][] }[];
  };
  const acts = parseSafetensors(readFileSync(path.join(dir, "golden.safetensors")), "golden");
  const text = (c: string) => tok.decode(golden.cases.find((x) => x.name === c)!.ids[0]);
  return { model, acts, p0: text("p0"), p1: text("p1") };
}

/** Rows [T][...] of one case's recorded hook (batch 1), each flattened. */
function rows(acts: Map<string, HostTensor>, key: string): Float32Array[] {
  const t = acts.get(key)!;
  const T = t.shape[1];
  const n = t.data.length / T;
  return Array.from({ length: T }, (_, i) => t.data.subarray(i * n, (i + 1) * n));
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

beforeAll(async () => {
  await selectBackend(["wasm"]);
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

describe("head and steering edits learned on the rotary families", () => {
  for (const [name, layer, head] of [
    ["llama-gqa-bf16", 1, 2],
    ["pythia-parallel-f16", 0, 1],
    ["qwen2-sharded-bf16", 1, 3],
  ] as const) {
    it(`${name}: a mean ablation's mean is head ${head}'s hook_z of the reference`, async () => {
      const { model, acts, p0, p1 } = await load(name);
      const { nHead: H } = model.config;
      const hook = `blocks.${layer}.attn.hook_z`;
      const all = [...rows(acts, `p0/${hook}`), ...rows(acts, `p1/${hook}`)];
      const E = all[0].length / H;
      const headOf = (z: Float32Array) => z.subarray(head * E, (head + 1) * E);
      const mean = (zs: Float32Array[]) =>
        Array.from({ length: E }, (_, e) => zs.reduce((s, z) => s + headOf(z)[e], 0) / zs.length);
      for (const position of ["all", "last"] as const) {
        const edit: HeadAblateEdit = {
          kind: "head_ablate",
          site: { layer, head, position },
          params: { mode: "mean", prompts: [p0, p1] },
        };
        const got = (await learnHeadAblate(model, tok, edit)).learned!.mean;
        const want =
          position === "all"
            ? mean(all)
            : mean([rows(acts, `p0/${hook}`).at(-1)!, rows(acts, `p1/${hook}`).at(-1)!]);
        expect(got).toHaveLength(E);
        expect(maxAbs(got, want), position).toBeLessThan(1e-4);
      }
    });
  }

  it("llama-gqa-bf16: a steering direction is the reference's last-token resid_post difference", async () => {
    const { model, acts, p0, p1 } = await load("llama-gqa-bf16");
    const edit: ResidSteerEdit = {
      kind: "resid_steer",
      site: { layer: 0, hook: "resid_post", position: "last" },
      params: { alpha: 1, positive: [p0], negative: [p1] },
    };
    const got = (await learnResidSteer(model, tok, edit)).learned!;
    const a = rows(acts, "p0/blocks.0.hook_resid_post").at(-1)!;
    const b = rows(acts, "p1/blocks.0.hook_resid_post").at(-1)!;
    const diff = Array.from(a, (x, i) => x - b[i]);
    const n = Math.hypot(...diff);
    expect(Math.abs(got.norm - n)).toBeLessThan(1e-4 * n);
    expect(
      maxAbs(
        got.direction,
        diff.map((x) => x / n),
      ),
    ).toBeLessThan(1e-5);
  });
});

describe("LoRA trained on the rotary families", () => {
  for (const [name, modules, want] of [
    ["llama-gqa-bf16", ["c_fc"], ["gate_proj", "up_proj"]],
    ["llama-gqa-bf16", ["q_proj", "k_proj"], ["q_proj", "k_proj"]],
    ["neox-sequential-bf16", ["dense_4h_to_h", "dense"], ["dense_4h_to_h", "dense"]],
    ["pythia-parallel-f16", ["query_key_value"], ["query_key_value"]],
  ] as const) {
    it(
      `${name}: modules ${modules.join(", ")} train ${want.join(", ")}; the suffix's loss falls`,
      async () => {
        const { model, p0, p1 } = await load(name);
        const before = tf.memory().numTensors;
        const edit: LoraEdit = {
          kind: "lora",
          site: { layers: [0, 1] },
          params: {
            prefix: p0,
            suffix: "Q",
            modules: [...modules],
            rank: 2,
            steps: 4,
            lr: 0.05,
            epsilon: 1e6,
            eval_prompts: [p1],
          },
        };
        const out = (await learnEdit(model, tok, edit, {
          dataset: { general_text: [p1, p0.toUpperCase()] },
        })) as LoraEdit;
        const info = out.learned!.info!;
        const factors = out.learned!.factors;
        expect(factors.map((f) => `${f.layer}:${f.module}`)).toEqual(
          [0, 1].flatMap((l) => want.map((m) => `${l}:${m}`)),
        );
        expect(info.kept_step).toBe(4);
        const losses = info.losses.map((l) => l.loss);
        expect(losses.at(-1)!).toBeLessThan(losses[0]);
        // the kept factors applied as the app applies them give the loss training measured
        // (q and k are two parts of one fused weight: their deltas add up in both)
        const edited = applyEdits(model, [out]);
        const suffix = tok.encode(" Q"); // a space before the suffix, as lib/edit/tokens.ts adds
        const row = [...tok.encode(p0), ...suffix];
        const { logits } = edited.forward({ inputIds: [row.slice(0, -1)], logitPositions: "all" });
        const all = (await logits.array()) as number[][][];
        logits.dispose();
        let nll = 0; // summed over the suffix, teacher forced
        suffix.forEach((id, j) => {
          const l = all[0][p0.length - 1 + j];
          const mx = Math.max(...l);
          nll += mx + Math.log(l.reduce((a, x) => a + Math.exp(x - mx), 0)) - l[id];
        });
        expect(Math.abs(nll - losses.at(-1)!)).toBeLessThan(1e-4);
        edited.dispose();
        expect(tf.memory().numTensors).toBe(before);
      },
      LORA_MS,
    );
  }
});

describe("LoReFT trained on the rotary families", () => {
  for (const [name, layer] of [
    ["llama-gqa-bf16", 0],
    ["pythia-parallel-f16", 0], // (at the last layer, the "aspect" position T − 2 cannot reach T − 1)
  ] as const) {
    it(
      `${name}: trains at resid_post of layer ${layer}; the loss falls, R stays orthonormal`,
      async () => {
        const { model, p0, p1 } = await load(name);
        const before = tf.memory().numTensors;
        const labels = ["A", "B", "C"];
        const reviews = [p0, p1, p0.slice(1), p1.slice(2), p0.slice(0, 4), p1.slice(0, 5)];
        const absc = {
          labels,
          train: reviews.map((prompt, i) => ({ prompt, label: labels[i % 3] })),
          test: reviews.slice(0, 3).map((prompt, i) => ({ prompt, label: labels[(i + 1) % 3] })),
        };
        const edit: LoreftEdit = {
          kind: "loreft",
          site: { layers: [layer] },
          params: { rank: 2, n_train: 6, n_test: 3, steps: 5, lr: 0.05, seed: 1 },
        };
        const out = (await learnEdit(model, tok, edit, { dataset: { absc } })) as LoreftEdit;
        const { layers } = out.learned!;
        const info = out.learned!.info!;
        const losses = info.losses.map((l) => l.loss);
        expect(losses).toHaveLength(6);
        expect(losses.at(-1)!).toBeLessThan(losses[0]);
        const D = model.config.dModel;
        const R = layers[0].R;
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            let dot = 0;
            for (let k = 0; k < D; k++) dot += R[i * D + k] * R[j * D + k];
            expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-5);
          }
        }
        expect(tf.memory().numTensors).toBe(before);
      },
      LORA_MS,
    );
  }
});
