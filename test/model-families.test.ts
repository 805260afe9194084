/**
 * The Llama-family and GPT-NeoX forwards (the one hooked model, lib/model/gpt2.ts, with
 * lib/model/block.ts's block) against the numpy references (scripts/reference/llama_ref.py, neox_ref.py; themselves checked against torch by
 * check_families.py) on the random hub-layout checkpoints in test/fixtures/families/: logits
 * and every hook within 1e-4 on wasm; the config reader's refusals; shape and tensor checks.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { parseFamilyConfig } from "../lib/load/family-config";
import { memorySource } from "../lib/load/memory-source";
import { loadWeights, readModelConfig } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { parseSafetensors } from "../lib/load/safetensors";
import type { FileSource } from "../lib/load/types";
import { selectBackend } from "../lib/model/backend";
import { ModelError } from "../lib/model/errors";
import { Gpt2Model } from "../lib/model/gpt2";
import { applyRotary, invFreq, rotaryTables } from "../lib/model/rotary";
import { maxAbsDiff, ROOT } from "../scripts/reference/golden";

const TOL = 1e-4;
const DIR = path.join(ROOT, "test/fixtures/families");
const FIXTURES = readdirSync(DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

interface Manifest {
  files: Record<string, string>;
  hooks: string[];
  cases: { name: string; ids: number[][]; recorded: string[]; tensors: Record<string, number[]> }[];
}

beforeAll(async () => {
  await selectBackend(["wasm"]);
});

/** config.json + weights (the fixtures have no tokenizer) → the hooked model. */
async function loadFamilyModel(source: FileSource): Promise<Gpt2Model> {
  const config = await readModelConfig(source);
  return Gpt2Model.fromWeights(config, await loadWeights(source, config));
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dir, "golden.json"), "utf8")) as Manifest;
}

describe.each(FIXTURES)("%s vs numpy reference", (name) => {
  const dir = path.join(DIR, name);

  it("goldens belong to these weight files", async () => {
    const m = await readManifest(dir);
    for (const [file, sha] of Object.entries(m.files)) {
      const got = createHash("sha256")
        .update(await readFile(path.join(dir, file)))
        .digest("hex");
      expect(got, `${file}: re-run scripts/reference/make_random_family.py`).toBe(sha);
    }
  });

  it(`logits and every hook within ${TOL}, no tensor leaked`, async () => {
    const m = await readManifest(dir);
    const golden = parseSafetensors(
      new Uint8Array(await readFile(path.join(dir, "golden.safetensors"))),
      "golden.safetensors",
    );
    const before = tf.memory().numTensors;
    const model = await loadFamilyModel(directorySource(dir));
    expect(model.hookNames).toEqual(m.hooks);
    const diffs = new Map<string, number>(); // case/key → max |tfjs − numpy|
    for (const c of m.cases) {
      const { logits, activations } = model.forward({ inputIds: c.ids, record: c.recorded });
      const got = new Map<string, tf.Tensor>([["logits", logits], ...activations]);
      expect([...got.keys()].sort()).toEqual(Object.keys(c.tensors).sort());
      for (const [key, t] of got) {
        const want = golden.get(`${c.name}/${key}`)!;
        const same = t.shape.join(",") === want.shape.join(",");
        diffs.set(`${c.name}/${key}`, same ? maxAbsDiff(await t.data(), want.data) : Infinity);
      }
      tf.dispose([...got.values()]);
    }
    model.dispose();
    const over = [...diffs].filter(([, d]) => !(d <= TOL));
    const worst = [...diffs].reduce((a, b) => (b[1] > a[1] ? b : a));
    console.log(`${name}: max |Δ| = ${worst[1].toExponential(2)} (${worst[0]})`);
    expect(over, `over ${TOL}`).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it(`logits at chosen positions (last block trimmed to them) within ${TOL}`, async () => {
    const m = await readManifest(dir);
    const golden = parseSafetensors(
      new Uint8Array(await readFile(path.join(dir, "golden.safetensors"))),
      "golden.safetensors",
    );
    const model = await loadFamilyModel(directorySource(dir));
    for (const c of m.cases) {
      const want = golden.get(`${c.name}/logits`)!; // [B, T, V]
      const [B, T, V] = want.shape;
      const picks = [[T - 1], [T - 1, Math.floor(T / 2)]];
      for (const positions of picks) {
        const { logits } = model.forward({ inputIds: c.ids, logitPositions: positions });
        const got = await logits.data();
        logits.dispose();
        positions.forEach((p, i) => {
          for (let b = 0; b < B; b++) {
            const at = b * positions.length + i;
            const row = got.subarray(at * V, (at + 1) * V);
            const ref = want.data.subarray((b * T + p) * V, (b * T + p + 1) * V);
            const d = maxAbsDiff(row, ref);
            expect(d, `${c.name} row ${b} position ${p}`).toBeLessThanOrEqual(TOL);
          }
        });
      }
      // an intervention selecting every position of the last block, its value shaped for the
      // whole pass: the last block is not trimmed, and "last" reads the full pass's last row
      const L = model.config.nLayer;
      const D = model.config.dModel;
      const value = Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i));
      const iv = { hook: `blocks.${L - 1}.hook_mlp_out`, op: "replace" as const, value };
      const all = model.forward({ inputIds: c.ids, interventions: [iv] });
      const last = model.forward({ inputIds: c.ids, interventions: [iv], logitPositions: "last" });
      const [a, l] = [await all.logits.data(), await last.logits.data()];
      tf.dispose([all.logits, last.logits]);
      for (let b = 0; b < B; b++) {
        const ref = a.subarray((b * T + T - 1) * V, (b * T + T) * V);
        expect(maxAbsDiff(l.subarray(b * V, (b + 1) * V), ref)).toBeLessThanOrEqual(1e-6);
      }
    }
    model.dispose();
  });
});

describe("rotary", () => {
  it("turns pair (i, i + R/2) by position · inv_freq[i] and passes the rest through", async () => {
    const inv = invFreq({ theta: 100, rotaryDim: 4, scaling: null }); // [1, 0.1]
    expect([...inv]).toEqual([1, 0.1]);
    // [1, T=4, H=1, E=6]: e0 at position 2, e1 at position 3, feature 5 (not rotated) everywhere
    const x = new Float32Array(24);
    x[2 * 6 + 0] = 1;
    x[3 * 6 + 1] = 1;
    for (let t = 0; t < 4; t++) x[t * 6 + 5] = 7;
    const out = tf.tidy(() =>
      applyRotary(tf.tensor4d(x, [1, 4, 1, 6]), rotaryTables(inv, [0, 1, 2, 3])),
    );
    const y = await out.data();
    out.dispose();
    const row = (t: number) => [...y.slice(t * 6, t * 6 + 6)];
    const close = (a: number[], b: number[]) => expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
    close(row(2), [Math.cos(2), 0, Math.sin(2), 0, 0, 7]);
    close(row(3), [0, Math.cos(0.3), 0, Math.sin(0.3), 0, 7]);
    close(row(0), [0, 0, 0, 0, 0, 7]);
  });

  it("scales inv_freq: linear divides all, llama3 keeps short, blends middle, divides long", () => {
    const lin = invFreq({ theta: 100, rotaryDim: 4, scaling: { kind: "linear", factor: 4 } });
    expect(maxAbsDiff(lin, [0.25, 0.025])).toBeLessThan(1e-15);
    // theta 10, R 6: wavelengths 2π·[1, 2.154, 4.642]; bands at 32 / 4 = 8 and 32 / 1 = 32
    const l3 = invFreq({
      theta: 10,
      rotaryDim: 6,
      scaling: {
        kind: "llama3",
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositions: 32,
      },
    });
    const blend = (w: number) => {
      const s = (32 / ((2 * Math.PI) / w) - 1) / 3;
      return w * ((1 - s) / 8 + s);
    };
    expect(maxAbsDiff(l3, [1, blend(10 ** (-1 / 3)), blend(10 ** (-2 / 3))])).toBeLessThan(1e-15);
  });
});

const LLAMA = {
  model_type: "llama",
  hidden_size: 32,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  num_hidden_layers: 2,
  intermediate_size: 48,
  vocab_size: 96,
  max_position_embeddings: 64,
};

describe("config refusals name the field", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unknown model_type", { ...LLAMA, model_type: "bert" }, /model_type "bert" is not supported/],
    [
      "yarn scaling",
      { ...LLAMA, rope_scaling: { rope_type: "yarn", factor: 4 } },
      /rope_scaling type "yarn" is not supported/,
    ],
    [
      "dynamic scaling (old key)",
      { ...LLAMA, rope_scaling: { type: "dynamic", factor: 2 } },
      /rope_scaling type "dynamic"/,
    ],
    [
      "llama3 without its fields",
      { ...LLAMA, rope_scaling: { rope_type: "llama3", factor: 8 } },
      /rope_scaling\.low_freq_factor/,
    ],
    [
      "mistral sliding window",
      { ...LLAMA, model_type: "mistral", sliding_window: 16 },
      /sliding_window 16/,
    ],
    [
      "qwen2 use_sliding_window",
      { ...LLAMA, model_type: "qwen2", use_sliding_window: true },
      /use_sliding_window/,
    ],
    [
      "GQA ratio",
      { ...LLAMA, num_key_value_heads: 3 },
      /num_key_value_heads 3 does not divide num_attention_heads 4/,
    ],
    ["hidden_act", { ...LLAMA, hidden_act: "relu" }, /hidden_act "relu"/],
    ["mlp_bias", { ...LLAMA, mlp_bias: true }, /mlp_bias/],
    ["heads", { ...LLAMA, num_attention_heads: 5, num_key_value_heads: 5 }, /hidden_size 32/],
    [
      "rotary_pct",
      { ...LLAMA, model_type: "gpt_neox", num_attention_heads: 4, rotary_pct: 0.1 },
      /rotary_pct 0.1/,
    ],
    ["missing field", { ...LLAMA, vocab_size: undefined }, /vocab_size/],
  ];
  it.each(cases)("%s", (_label, cfg, message) => {
    expect(() => parseFamilyConfig(cfg)).toThrow(LoadError);
    expect(() => parseFamilyConfig(cfg)).toThrow(message);
  });

  it("accepts a window no shorter than the context and a qwen2 window that is off", () => {
    expect(
      parseFamilyConfig({ ...LLAMA, model_type: "mistral", sliding_window: 64 }),
    ).toMatchObject({ modelType: "mistral", nKvHead: 2, activation: "silu" });
    expect(
      parseFamilyConfig({
        ...LLAMA,
        model_type: "qwen2",
        sliding_window: 8,
        use_sliding_window: false,
      }),
    ).toMatchObject({ qkvBias: true, oBias: false });
  });
});

describe("checkpoint and input checks", () => {
  async function filesOf(name: string): Promise<Map<string, Uint8Array>> {
    const dir = path.join(DIR, name);
    const files = new Map<string, Uint8Array>();
    for (const f of readdirSync(dir))
      files.set(f, new Uint8Array(await readFile(path.join(dir, f))));
    return files;
  }
  const withConfig = (files: Map<string, Uint8Array>, patch: Record<string, unknown>) => {
    const cfg = JSON.parse(new TextDecoder().decode(files.get("config.json")));
    const patched = new Map<string, Uint8Array | string>(files);
    return memorySource(patched.set("config.json", JSON.stringify({ ...cfg, ...patch })));
  };

  it("a shape that does not match config.json names the tensor and both shapes", async () => {
    const files = await filesOf("llama-gqa-bf16");
    await expect(loadFamilyModel(withConfig(files, { intermediate_size: 40 }))).rejects.toThrow(
      /model\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[48, 32\] but config\.json implies \[40, 32\]/,
    );
  });

  it("an untied config without lm_head.weight says so", async () => {
    const files = await filesOf("qwen2-sharded-bf16"); // tied: no lm_head.weight stored
    await expect(
      loadFamilyModel(withConfig(files, { tie_word_embeddings: false })),
    ).rejects.toThrow(/lm_head\.weight is missing \(config\.json has tie_word_embeddings false\)/);
  });

  it("refuses bad token ids and unknown hooks without leaking tensors", async () => {
    const model = await loadFamilyModel(directorySource(path.join(DIR, "pythia-parallel-f16")));
    const before = tf.memory().numTensors;
    expect(() => model.forward({ inputIds: [[1, 96]] })).toThrow(ModelError);
    expect(() => model.forward({ inputIds: [[1, 2], [3]] })).toThrow(/row 1 has 1 tokens/);
    expect(() => model.forward({ inputIds: [Array(33).fill(1)] })).toThrow(/context of 32/);
    // a parallel block has no hook_resid_mid
    expect(() => model.forward({ inputIds: [[1]], record: ["blocks.0.hook_resid_mid"] })).toThrow(
      /cannot record "blocks\.0\.hook_resid_mid": no such hook point/,
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
