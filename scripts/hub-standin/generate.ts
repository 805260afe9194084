/**
 * Writes a GPT-2-shaped stand-in for a hub model, offline: the real GPT-2 vocabulary (50257) and
 * tokenizer.json (scripts/make-gpt2-tokenizer.ts), small dimensions, random weights from a seed,
 * SHARDED like large hub checkpoints (model.safetensors.index.json + 2 shards, tensor names with
 * the `transformer.` prefix GPT2LMHeadModel saves).
 *
 *   npx tsx scripts/hub-standin/generate.ts <root>     writes <root>/<STANDIN_REPO>/…
 *
 * The files are not committed (~14 MB); tests and the e2e web server generate them into ignored
 * folders. scripts/reference/hub_standin_ref.py computes the golden logits from the written files.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeGpt2TokenizerJson } from "../make-gpt2-tokenizer";
import { generateLlamaStandin } from "./llama";
import { type Tensor, writeShards } from "./write-safetensors";

export const STANDIN_REPO = "causeway-test/gpt2-standin";
export const STANDIN_SEED = 20261122;

export const STANDIN_CONFIG = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  activation_function: "gelu_new",
  n_layer: 2,
  n_head: 4,
  n_embd: 64,
  n_inner: null,
  n_positions: 128,
  n_ctx: 128,
  vocab_size: 50257,
  layer_norm_epsilon: 1e-5,
  bos_token_id: 50256,
  eos_token_id: 50256,
};

/** mulberry32: a tiny seeded PRNG, so the weights are the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box–Muller. */
function normals(next: () => number, n: number, mean: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** All tensors, in a fixed order, with the names GPT2LMHeadModel.save_pretrained writes. */
export function standinTensors(seed = STANDIN_SEED): Map<string, Tensor> {
  const c = STANDIN_CONFIG;
  const d = c.n_embd;
  const m = 4 * d;
  const next = rng(seed);
  const t = new Map<string, Tensor>();
  // Larger than GPT-2's 0.02 init so predictions are far from uniform (a wrong forward shows).
  const w = (name: string, shape: number[], std = 0.15) =>
    t.set(name, {
      shape,
      data: normals(
        next,
        shape.reduce((a, b) => a * b, 1),
        0,
        std,
      ),
    });
  const ln = (name: string) => {
    t.set(`${name}.weight`, { shape: [d], data: normals(next, d, 1, 0.1) });
    t.set(`${name}.bias`, { shape: [d], data: normals(next, d, 0, 0.05) });
  };
  w("transformer.wte.weight", [c.vocab_size, d], 0.1);
  w("transformer.wpe.weight", [c.n_positions, d], 0.05);
  for (let l = 0; l < c.n_layer; l++) {
    const h = `transformer.h.${l}.`;
    ln(`${h}ln_1`);
    w(`${h}attn.c_attn.weight`, [d, 3 * d]);
    w(`${h}attn.c_attn.bias`, [3 * d], 0.05);
    w(`${h}attn.c_proj.weight`, [d, d]);
    w(`${h}attn.c_proj.bias`, [d], 0.05);
    ln(`${h}ln_2`);
    w(`${h}mlp.c_fc.weight`, [d, m]);
    w(`${h}mlp.c_fc.bias`, [m], 0.05);
    w(`${h}mlp.c_proj.weight`, [m, d], 0.1);
    w(`${h}mlp.c_proj.bias`, [d], 0.05);
  }
  ln("transformer.ln_f");
  return t;
}

/** Writes the stand-in into `<root>/<repo>/` (skipped when already there); returns that folder. */
export function generateStandin(root: string, repo = STANDIN_REPO): string {
  const dir = path.join(root, ...repo.split("/"));
  const index = path.join(dir, "model.safetensors.index.json");
  if (existsSync(index) && existsSync(path.join(dir, "tokenizer.json"))) {
    const cfg = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
    if (JSON.stringify(cfg) === JSON.stringify(STANDIN_CONFIG)) return dir;
  }
  mkdirSync(dir, { recursive: true });
  const all = [...standinTensors()];
  // Shard 1: the embeddings (most of the bytes); shard 2: the blocks and ln_f.
  const shards: [string, [string, Tensor][]][] = [
    ["model-00001-of-00002.safetensors", all.filter(([n]) => /\.(wte|wpe)\./.test(n))],
    ["model-00002-of-00002.safetensors", all.filter(([n]) => !/\.(wte|wpe)\./.test(n))],
  ];
  writeShards(dir, shards);
  writeFileSync(path.join(dir, "config.json"), `${JSON.stringify(STANDIN_CONFIG, null, 2)}\n`);
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(makeGpt2TokenizerJson()));
  return dir;
}

const isMain = (() => {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (isMain) {
  const root = process.argv[2];
  if (!root) {
    console.error("usage: npx tsx scripts/hub-standin/generate.ts <root folder>");
    process.exit(2);
  }
  console.log(generateStandin(root));
  console.log(generateLlamaStandin(root));
}
