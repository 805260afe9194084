/**
 * A Llama-layout hub repo end to end in Node: tiny-facts-llama as BF16 in two shards with a
 * model.safetensors.index.json (scripts/hub-standin/llama.ts), served by the stand-in in the
 * hub's URL layout, loaded through hubSource + Engine, and compared with the numpy reference on
 * the same BF16 files (scripts/tiny-facts/check_llama_ref.py --standin →
 * test/fixtures/hub-standin/llama-golden.json).
 */
import "../lib/model/backends-node";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../lib/engine";
import { hubSource } from "../lib/load/hub-source";
import { safetensorsHeader } from "../lib/load/safetensors";
import { selectBackend } from "../lib/model/backend";
import { generateLlamaStandin, LLAMA_STANDIN_REPO } from "../scripts/hub-standin/llama";
import { type HubStandin, startHubStandin } from "../scripts/hub-standin/server.mjs";
import { lastLogitsError } from "./helpers/last-logits";

interface Golden {
  cases: {
    prompt: string;
    ids: number[];
    top: { id: number; logit: number }[];
    logits_last: number[];
  }[];
}
const golden: Golden = JSON.parse(
  readFileSync(path.resolve("test/fixtures/hub-standin/llama-golden.json"), "utf8"),
);

let root: string;
let dir: string;
let hub: HubStandin;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "hub-standin-llama-"));
  dir = generateLlamaStandin(root);
  hub = await startHubStandin({ root });
  await selectBackend(["cpu"]);
});

afterAll(async () => {
  await hub?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("Llama-layout hub stand-in (BF16, 2 shards)", () => {
  it("is written in the hub's layout: BF16 shards, an index, untied lm_head", () => {
    const index = JSON.parse(readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
    const shards = [...new Set(Object.values(index.weight_map) as string[])].sort();
    expect(shards).toEqual([
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
    ]);
    expect(index.weight_map["lm_head.weight"]).toBe(shards[0]);
    expect(index.weight_map["model.layers.0.self_attn.k_proj.weight"]).toBe(shards[1]);
    for (const shard of shards) {
      const h = safetensorsHeader(readFileSync(path.join(dir, shard)), shard);
      for (const [name, e] of h.tensors) expect(e.dtype, name).toBe("BF16");
    }
  });

  it("loads through hubSource and matches the numpy logits on the BF16 weights", async () => {
    const before = tf.memory().numTensors;
    const engine = await Engine.load(
      hubSource({ repo: LLAMA_STANDIN_REPO }, { endpoint: hub.url }),
      LLAMA_STANDIN_REPO,
    );
    try {
      const paths = hub.requests.map((r) => `${r.method} ${r.path}`);
      expect(paths).toContain(`GET /__lfs/${LLAMA_STANDIN_REPO}/model-00002-of-00002.safetensors`);
      for (const c of golden.cases) {
        expect(engine.tokenize(c.prompt).ids).toEqual(c.ids);
        expect(await lastLogitsError(engine, c.ids, c.logits_last), c.prompt).toBeLessThan(1e-4);
      }
    } finally {
      engine.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
