import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGpt2Config } from "../lib/load/config";
import { LoadError } from "../lib/load/errors";
import { expectedGpt2Shapes, loadGpt2Weights } from "../lib/load/gpt2-checkpoint";
import { memorySource } from "../lib/load/memory-source";
import { gpt2Weights, loadModelFiles } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { parseSafetensors } from "../lib/load/safetensors";
import type { Gpt2Config } from "../lib/load/types";
import { urlSource } from "../lib/load/url-source";
import { type WriteTensor, writeSafetensors } from "./helpers/safetensors-writer";

const CONFIG_JSON = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  activation_function: "gelu_new",
  n_layer: 1,
  n_head: 2,
  n_embd: 4,
  n_inner: null,
  n_positions: 8,
  vocab_size: 6,
  layer_norm_epsilon: 1e-5,
};
const CONFIG: Gpt2Config = parseGpt2Config(CONFIG_JSON);

const TOKENIZER_JSON = {
  version: "1.0",
  added_tokens: [{ id: 5, content: "<|endoftext|>", special: true, normalized: true }],
  normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: true },
  post_processor: { type: "ByteLevel" },
  decoder: { type: "ByteLevel" },
  model: {
    type: "BPE",
    vocab: { a: 0, b: 1, Ġ: 2, ab: 3, Ġab: 4, "<|endoftext|>": 5 },
    merges: ["a b", "Ġ ab"],
    // Five byte pieces only: without an unknown token the loader refuses it (text would be dropped).
    unk_token: "<|endoftext|>",
  },
};

function weights(): Uint8Array {
  const t: Record<string, WriteTensor> = {};
  let k = 0;
  for (const [name, shape] of expectedGpt2Shapes(CONFIG)) {
    const n = shape.reduce((a, b) => a * b, 1);
    t[`transformer.${name}`] = { dtype: "BF16", shape, data: Array.from({ length: n }, () => k++) };
  }
  return writeSafetensors(t);
}

function files(): Record<string, Uint8Array | string> {
  return {
    "config.json": JSON.stringify(CONFIG_JSON),
    "tokenizer.json": JSON.stringify(TOKENIZER_JSON),
    "model.safetensors": weights(),
  };
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

describe("loadModelFiles", () => {
  it("loads config, tokenizer and weights, reporting phases in order", async () => {
    const phases: string[] = [];
    const m = await loadModelFiles(memorySource(files()), (phase, done, total) =>
      phases.push(`${phase} ${done}/${total}`),
    );
    expect(m.config).toEqual(CONFIG);
    expect(m.tokenizer.encode("ab ab")).toEqual([3, 4]);
    expect(gpt2Weights(m).blocks).toHaveLength(1);
    expect(gpt2Weights(m).wte.shape).toEqual([6, 4]);
    expect(Array.from(gpt2Weights(m).wte.data.slice(0, 3))).toEqual([0, 1, 2]);
    expect(phases).toEqual([
      "config 0/1",
      "config 1/1",
      "tokenizer 0/1",
      "tokenizer 1/1",
      "weights 0/1",
      "weights 1/1",
    ]);
  });

  it.each([
    "config.json",
    "tokenizer.json",
  ])("a missing %s is file_missing before any weights are read", async (name) => {
    const f = files();
    delete f[name];
    const reads: string[] = [];
    const src = memorySource(f, "mem:folder");
    const e = await rejection(
      loadModelFiles({
        ...src,
        label: src.label,
        has: (n) => src.has(n),
        read: (n) => {
          reads.push(n);
          return src.read(n);
        },
      }),
    );
    expect(e.code).toBe("file_missing");
    expect(e.file).toBe(name);
    expect(e.message).toContain("mem:folder");
    expect(e.message).toContain("config.json, tokenizer.json and model.safetensors");
    expect(reads).not.toContain("model.safetensors");
  });

  it("invalid JSON in config.json / tokenizer.json: bad_config / bad_tokenizer", async () => {
    const a = await rejection(loadModelFiles(memorySource({ ...files(), "config.json": "{" })));
    expect([a.code, a.file]).toEqual(["bad_config", "config.json"]);
    const b = await rejection(loadModelFiles(memorySource({ ...files(), "tokenizer.json": "[" })));
    expect([b.code, b.file]).toEqual(["bad_tokenizer", "tokenizer.json"]);
  });

  it("a bert config stops the load with unsupported_architecture", async () => {
    const cfg = JSON.stringify({ ...CONFIG_JSON, model_type: "bert" });
    const e = await rejection(loadModelFiles(memorySource({ ...files(), "config.json": cfg })));
    expect(e.code).toBe("unsupported_architecture");
  });

  it("a tokenizer with more tokens than vocab_size is bad_tokenizer", async () => {
    const cfg = JSON.stringify({ ...CONFIG_JSON, vocab_size: 5 });
    const e = await rejection(loadModelFiles(memorySource({ ...files(), "config.json": cfg })));
    expect(e.code).toBe("bad_tokenizer");
    expect(e.message).toContain("vocab_size is 5");
  });

  it("mismatched weights are reported against the file", async () => {
    const cfg = JSON.stringify({ ...CONFIG_JSON, n_embd: 6 });
    const e = await rejection(loadModelFiles(memorySource({ ...files(), "config.json": cfg })));
    expect(e.code).toBe("bad_shape");
    expect(e.file).toBe("model.safetensors");
  });

  describe("the same folder from disk and over HTTP", () => {
    let dir: string;
    let server: Server;
    let base: string;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "causeway-model-"));
      for (const [n, v] of Object.entries(files())) writeFileSync(path.join(dir, n), v);
      server = createServer((req, res) => {
        const p = path.join(dir, path.basename(req.url ?? ""));
        if (!existsSync(p)) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200);
        res.end(req.method === "HEAD" ? undefined : readFileSync(p));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/tiny`;
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await new Promise<void>((r) => server.close(() => r()));
    });

    it("gives identical results", async () => {
      const fromDisk = await loadModelFiles(directorySource(dir));
      const overHttp = await loadModelFiles(urlSource(base));
      expect(overHttp.config).toEqual(fromDisk.config);
      expect(overHttp.weights).toEqual(fromDisk.weights);
      expect(overHttp.tokenizer.encode("abab ab")).toEqual(fromDisk.tokenizer.encode("abab ab"));
    });
  });
});

// Another engineer's F16 fixture (config.json + model.safetensors, no tokenizer): a checkpoint we
// did not write ourselves.
const FIXTURE = path.resolve("test/fixtures/random-gpt2-f16");
describe.skipIf(!existsSync(path.join(FIXTURE, "model.safetensors")))(
  "the random-gpt2-f16 fixture",
  () => {
    it("loads through directorySource with the right shapes", async () => {
      const src = directorySource(FIXTURE);
      const config = parseGpt2Config(
        JSON.parse(new TextDecoder().decode(await src.read("config.json"))),
      );
      const w = await loadGpt2Weights(src, config);
      expect(w.wte.shape).toEqual([config.vocabSize, config.dModel]);
      expect(w.blocks).toHaveLength(config.nLayer);
      expect(w.blocks[0].mlpIn.w.shape).toEqual([config.dModel, config.dMlp]);
      // Same numbers as reading the file directly.
      const raw = parseSafetensors(await src.read("model.safetensors"), "model.safetensors");
      const wte = raw.get("transformer.wte.weight") ?? raw.get("wte.weight");
      expect(wte?.data).toEqual(w.wte.data);
      expect(w.wte.data.some((v) => v !== 0)).toBe(true);
    });
  },
);
