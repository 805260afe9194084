import { describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import {
  expectedGpt2Shapes,
  gpt2WeightsFromTensors,
  loadGpt2Weights,
} from "../lib/load/gpt2-checkpoint";
import { memorySource } from "../lib/load/memory-source";
import type { FileSource, Gpt2Config, HostTensor } from "../lib/load/types";
import { type WriteTensor, writeSafetensors } from "./helpers/safetensors-writer";

const CONFIG: Gpt2Config = {
  modelType: "gpt2",
  nLayer: 2,
  nHead: 2,
  dModel: 4,
  dMlp: 12,
  nCtx: 5,
  vocabSize: 7,
  layerNormEps: 1e-5,
  activation: "gelu_new",
};

const NAMES = [...expectedGpt2Shapes(CONFIG).keys()];

/** Contents unique to each name, so a tensor wired to the wrong slot is caught. Small multiples
 * of 1/8, exact in F16 too, so the same checks cover F16 checkpoints. */
function fill(name: string, shape: number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const id = NAMES.includes(name) ? NAMES.indexOf(name) : 200;
  return Array.from({ length: n }, (_, i) => id + (i % 8) / 8);
}

/** A complete GPT-2 checkpoint for CONFIG, as writer input. */
function checkpoint(
  opts: { prefix?: string; buffers?: boolean; lmHead?: boolean; dtype?: string } = {},
): Record<string, WriteTensor> {
  const { prefix = "", buffers = false, lmHead = false, dtype = "F32" } = opts;
  const out: Record<string, WriteTensor> = {};
  for (const [name, shape] of expectedGpt2Shapes(CONFIG)) {
    out[prefix + name] = { dtype, shape, data: fill(name, shape) };
    if (buffers && /^h\.\d+\.ln_1\.weight$/.test(name)) {
      const l = name.split(".")[1];
      const n = CONFIG.nCtx;
      // The causal-mask buffers old checkpoints carry: [1, 1, nCtx, nCtx] and a scalar.
      out[`${prefix}h.${l}.attn.bias`] = {
        dtype,
        shape: [1, 1, n, n],
        data: fill("mask", [n * n]),
      };
      out[`${prefix}h.${l}.attn.masked_bias`] = { dtype, shape: [], data: [-1e4] };
    }
  }
  if (lmHead) {
    const shape = [CONFIG.vocabSize, CONFIG.dModel];
    out["lm_head.weight"] = { dtype, shape, data: fill("wte.weight", shape) };
  }
  return out;
}

function asTensors(cp: Record<string, WriteTensor>): Map<string, HostTensor> {
  const m = new Map<string, HostTensor>();
  for (const [n, t] of Object.entries(cp)) {
    m.set(n, { shape: t.shape, data: Float32Array.from(t.data as ArrayLike<number>) });
  }
  return m;
}

function expectWiredCorrectly(w: ReturnType<typeof gpt2WeightsFromTensors>) {
  const check = (t: HostTensor, name: string) => {
    expect(t.shape).toEqual(expectedGpt2Shapes(CONFIG).get(name));
    expect(Array.from(t.data)).toEqual(fill(name, t.shape));
  };
  check(w.wte, "wte.weight");
  check(w.wpe, "wpe.weight");
  check(w.lnF.g, "ln_f.weight");
  check(w.lnF.b, "ln_f.bias");
  expect(w.blocks).toHaveLength(CONFIG.nLayer);
  w.blocks.forEach((b, l) => {
    const h = `h.${l}.`;
    check(b.ln1.g, `${h}ln_1.weight`);
    check(b.ln1.b, `${h}ln_1.bias`);
    check(b.attnQkv.w, `${h}attn.c_attn.weight`);
    check(b.attnQkv.b, `${h}attn.c_attn.bias`);
    check(b.attnOut.w, `${h}attn.c_proj.weight`);
    check(b.attnOut.b, `${h}attn.c_proj.bias`);
    check(b.ln2.g, `${h}ln_2.weight`);
    check(b.ln2.b, `${h}ln_2.bias`);
    check(b.mlpIn.w, `${h}mlp.c_fc.weight`);
    check(b.mlpIn.b, `${h}mlp.c_fc.bias`);
    check(b.mlpOut.w, `${h}mlp.c_proj.weight`);
    check(b.mlpOut.b, `${h}mlp.c_proj.bias`);
  });
}

async function rejection(p: Promise<unknown>): Promise<LoadError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("expected a LoadError");
}

function syncError(fn: () => unknown): LoadError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("expected a LoadError");
}

describe("gpt2WeightsFromTensors", () => {
  it("maps unprefixed names (original OpenAI conversion) to every slot", () => {
    expectWiredCorrectly(gpt2WeightsFromTensors(asTensors(checkpoint()), CONFIG, "m.safetensors"));
  });

  it("maps transformer.-prefixed names (GPT2LMHeadModel.save_pretrained)", () => {
    const cp = checkpoint({ prefix: "transformer.", lmHead: true });
    expectWiredCorrectly(gpt2WeightsFromTensors(asTensors(cp), CONFIG, "m.safetensors"));
  });

  it("skips attn.bias / attn.masked_bias buffers and lm_head.weight", () => {
    const cp = checkpoint({ buffers: true, lmHead: true });
    expect(Object.keys(cp)).toContain("h.1.attn.masked_bias");
    expectWiredCorrectly(gpt2WeightsFromTensors(asTensors(cp), CONFIG, "m.safetensors"));
  });

  it("missing_tensor lists every missing name", () => {
    const cp = checkpoint();
    delete cp["h.1.mlp.c_fc.bias"];
    delete cp["ln_f.weight"];
    const e = syncError(() => gpt2WeightsFromTensors(asTensors(cp), CONFIG, "m.safetensors"));
    expect(e.code).toBe("missing_tensor");
    expect(e.message).toContain("m.safetensors");
    expect(e.message).toContain("h.1.mlp.c_fc.bias");
    expect(e.message).toContain("ln_f.weight");
    expect(e.message).toContain("2 GPT-2 tensor(s)");
  });

  it("missing_tensor abbreviates a long list", () => {
    const cp = checkpoint();
    for (const n of Object.keys(cp)) if (n.startsWith("h.")) delete cp[n];
    const e = syncError(() => gpt2WeightsFromTensors(asTensors(cp), CONFIG, "m.safetensors"));
    expect(e.code).toBe("missing_tensor");
    expect(e.message).toMatch(/and \d+ more/);
  });

  it.each([
    ["h.0.attn.c_attn.weight", [12, 4], "[4, 12]"], // transposed (nn.Linear layout)
    ["wte.weight", [8, 4], "[7, 4]"],
    ["h.1.ln_2.bias", [1, 4], "[4]"],
    ["wpe.weight", [1024, 4], "[5, 4]"],
  ])("bad_shape: %s as %j", (name, shape, expected) => {
    const cp = checkpoint();
    cp[name] = { dtype: "F32", shape, data: fill(name, shape) };
    const e = syncError(() => gpt2WeightsFromTensors(asTensors(cp), CONFIG, "m.safetensors"));
    expect(e.code).toBe("bad_shape");
    expect(e.message).toContain(name);
    expect(e.message).toContain(`expected ${expected}`);
    expect(e.message).toContain(`[${shape.join(", ")}]`);
  });

  it("bad_shape when the checkpoint has more layers than the config", () => {
    const cp = checkpoint();
    cp["h.2.ln_1.weight"] = { dtype: "F32", shape: [4], data: [1, 1, 1, 1] };
    const e = syncError(() => gpt2WeightsFromTensors(asTensors(cp), CONFIG, "m.safetensors"));
    expect(e.code).toBe("bad_shape");
    expect(e.message).toContain("n_layer = 2");
  });
});

/** Splits a checkpoint into HF-style shards plus the index. */
function sharded(cp: Record<string, WriteTensor>, nShards: number): Record<string, Uint8Array> {
  const names = Object.keys(cp);
  const files: Record<string, Uint8Array> = {};
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < nShards; s++) {
    const file = `model-0000${s + 1}-of-0000${nShards}.safetensors`;
    const part: Record<string, WriteTensor> = {};
    names.forEach((n, i) => {
      if (i % nShards === s) {
        part[n] = cp[n];
        weightMap[n] = file;
      }
    });
    files[file] = writeSafetensors(part, { metadata: { format: "pt" } });
  }
  files["model.safetensors.index.json"] = new TextEncoder().encode(
    JSON.stringify({ metadata: { total_size: 1234 }, weight_map: weightMap }),
  );
  return files;
}

describe("loadGpt2Weights", () => {
  it("reads model.safetensors (F16, with buffers) and reports progress", async () => {
    const files = {
      "model.safetensors": writeSafetensors(checkpoint({ buffers: true, dtype: "F16" })),
    };
    const progress: [number, number][] = [];
    const w = await loadGpt2Weights(memorySource(files), CONFIG, (d, t) => progress.push([d, t]));
    expectWiredCorrectly(w);
    expect(progress.at(-1)).toEqual([1, 1]);
  });

  it("never converts the skipped buffers (newer transformers save attn.bias as BOOL)", async () => {
    const cp = checkpoint({ buffers: true });
    const n = CONFIG.nCtx;
    for (const l of [0, 1]) {
      cp[`h.${l}.attn.bias`] = { dtype: "BOOL", shape: [1, 1, n, n], data: new Uint8Array(n * n) };
    }
    cp["lm_head.weight"] = { dtype: "I8", shape: [1], data: new Uint8Array(1) };
    expectWiredCorrectly(
      await loadGpt2Weights(memorySource({ "model.safetensors": writeSafetensors(cp) }), CONFIG),
    );
    const index = sharded(cp, 2);
    expectWiredCorrectly(await loadGpt2Weights(memorySource(index), CONFIG));
  });

  it.each([2, 3])("reads a %i-shard checkpoint through its index", async (n) => {
    const files = sharded(checkpoint({ prefix: "transformer.", buffers: true }), n);
    const progress: [number, number][] = [];
    const w = await loadGpt2Weights(memorySource(files), CONFIG, (d, t) => progress.push([d, t]));
    expectWiredCorrectly(w);
    expect(progress).toEqual([[0, n], ...Array.from({ length: n }, (_, i) => [i + 1, n])]);
  });

  it("prefers model.safetensors when both layouts exist", async () => {
    const files = {
      ...sharded(checkpoint(), 2),
      "model.safetensors": writeSafetensors(checkpoint()),
    };
    const reads: string[] = [];
    const src = memorySource(files);
    const spy: FileSource = {
      label: src.label,
      has: (n) => src.has(n),
      read: (n) => {
        reads.push(n);
        return src.read(n);
      },
    };
    expectWiredCorrectly(await loadGpt2Weights(spy, CONFIG));
    expect(reads).toEqual(["model.safetensors"]);
  });

  it("file_missing for a shard the index names but the folder lacks", async () => {
    const files = sharded(checkpoint(), 3);
    delete files["model-00002-of-00003.safetensors"];
    const e = await rejection(loadGpt2Weights(memorySource(files, "mem:test"), CONFIG));
    expect(e.code).toBe("file_missing");
    expect(e.file).toBe("model-00002-of-00003.safetensors");
    expect(e.message).toContain("mem:test");
  });

  it("missing_tensor when a shard lacks what the index promises", async () => {
    const files = sharded(checkpoint(), 2);
    const index = JSON.parse(new TextDecoder().decode(files["model.safetensors.index.json"]));
    index.weight_map["h.0.ln_1.weight"] = "model-00002-of-00002.safetensors";
    index.weight_map["h.0.ln_1.bias"] = "model-00002-of-00002.safetensors";
    files["model.safetensors.index.json"] = new TextEncoder().encode(JSON.stringify(index));
    const e = await rejection(loadGpt2Weights(memorySource(files), CONFIG));
    expect(e.code).toBe("missing_tensor");
    expect(e.file).toBe("model-00002-of-00002.safetensors");
  });

  it("missing_tensor when the index omits a needed tensor", async () => {
    const files = sharded(checkpoint(), 2);
    const index = JSON.parse(new TextDecoder().decode(files["model.safetensors.index.json"]));
    delete index.weight_map["wpe.weight"];
    files["model.safetensors.index.json"] = new TextEncoder().encode(JSON.stringify(index));
    const e = await rejection(loadGpt2Weights(memorySource(files), CONFIG));
    expect(e.code).toBe("missing_tensor");
    expect(e.message).toContain("wpe.weight");
  });

  it.each([
    ["not JSON", "{weight_map:"],
    ["no weight_map", JSON.stringify({ metadata: {} })],
    ["weight_map a list", JSON.stringify({ weight_map: ["a"] })],
    ["an empty weight_map", JSON.stringify({ weight_map: {} })],
    ["a non-string shard", JSON.stringify({ weight_map: { "wte.weight": 3 } })],
    ["a path escaping the folder", JSON.stringify({ weight_map: { "wte.weight": "../x" } })],
  ])("bad_index: %s", async (_n, text) => {
    const files = { "model.safetensors.index.json": text };
    const e = await rejection(loadGpt2Weights(memorySource(files), CONFIG));
    expect(e.code).toBe("bad_index");
    expect(e.message).toContain("model.safetensors.index.json");
  });

  it("file_missing when there are no weights at all, with a hint for pytorch_model.bin", async () => {
    const e = await rejection(loadGpt2Weights(memorySource({}, "mem:empty"), CONFIG));
    expect(e.code).toBe("file_missing");
    expect(e.message).toContain("mem:empty");
    const e2 = await rejection(loadGpt2Weights(memorySource({ "pytorch_model.bin": "x" }), CONFIG));
    expect(e2.message).toContain("pytorch_model.bin");
  });

  it("passes safetensors errors through, naming the file", async () => {
    const bytes = writeSafetensors(checkpoint());
    const e = await rejection(
      loadGpt2Weights(memorySource({ "model.safetensors": bytes.subarray(0, 200) }), CONFIG),
    );
    expect(["truncated", "header_too_large"]).toContain(e.code);
    expect(e.file).toBe("model.safetensors");
  });
});
