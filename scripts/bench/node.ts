/**
 * The Node half of `npm run bench` (wasm backend): the bundled model and a GPT-2-small-shaped
 * model with random weights built in memory, short and long prompts, the three trace kinds and
 * the head sweep, fast and naive. Started by scripts/bench.mjs in a child process; prints
 * progress lines and returns its rows.
 */
import "../../lib/model/backends-node";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Engine } from "../../lib/engine";
import { parseKnownFacts } from "../../lib/interp/dataset";
import type { TraceHost } from "../../lib/interp/tokens";
import { directorySource } from "../../lib/load/node-source";
import { selectBackend } from "../../lib/model/backend";
import { Gpt2Model } from "../../lib/model/gpt2";
import { type BenchPrompt, type BenchRow, benchSweep, type PromptPlan, warmUp } from "./core";
import { bundledPrompts, randomPrompts } from "./prompts";
import { GPT2_SMALL, randomGpt2Weights } from "./random-gpt2";

export interface ModelPlan {
  /** Noise samples per trace cell. */
  samples: number;
  prompts: PromptPlan[];
}

export interface NodeBenchOptions {
  root: string;
  bundled: ModelPlan | null;
  gpt2small: ModelPlan | null;
  seed: number;
  log: (line: string) => void;
}

export interface ModelReport {
  name: string;
  description: string;
  params: number;
  config: Record<string, unknown>;
  samples: number;
  plan: PromptPlan[];
  prompts: { label: string; ids: number[]; tokens?: string[]; subject: [number, number] }[];
  buildMs: number;
  warmUpMs: number;
}

export interface NodeBenchResult {
  backend: string;
  wasmThreads: boolean;
  wasmSimd: boolean;
  node: string;
  cpu: string;
  cores: number;
  models: ModelReport[];
  rows: BenchRow[];
}

export const BUNDLED = "tiny-facts";
export const GPT2_SMALL_NAME = "gpt2-small-random";

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown";
}

async function benchModel(
  host: TraceHost,
  backend: string,
  name: string,
  prompts: BenchPrompt[],
  plan: ModelPlan,
  log: (line: string) => void,
): Promise<{ rows: BenchRow[]; warmUpMs: number }> {
  const warm = await warmUp(host, prompts[0], plan.samples, "light");
  log(`  warm-up ${(warm / 1000).toFixed(1)} s`);
  const rows: BenchRow[] = [];
  for (const p of plan.prompts) {
    const prompt = prompts.find((x) => x.label === p.label)!;
    for (const sweep of p.sweeps) {
      rows.push(
        await benchSweep(host, backend, name, prompt, sweep, {
          samples: plan.samples,
          naiveRows: p.naiveRows,
          log: (l) => log(`  ${l}`),
        }),
      );
    }
  }
  return { rows, warmUpMs: warm };
}

function describePrompts(prompts: BenchPrompt[]): ModelReport["prompts"] {
  return prompts.map((p) => ({
    label: p.label,
    ids: p.ids,
    ...(p.tokens ? { tokens: p.tokens } : {}),
    subject: p.subject,
  }));
}

export async function runNodeBench(opts: NodeBenchOptions): Promise<NodeBenchResult> {
  const { log } = opts;
  const { backend } = await selectBackend(["wasm"]);
  const result: NodeBenchResult = {
    backend,
    wasmThreads: (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true,
    wasmSimd: (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true,
    node: process.version,
    cpu: cpuModel(),
    cores: os.cpus().length,
    models: [],
    rows: [],
  };

  if (opts.bundled) {
    const plan = opts.bundled;
    const dir = path.join(opts.root, "public", "models", BUNDLED);
    let t = performance.now();
    const engine = await Engine.load(directorySource(dir), BUNDLED);
    const buildMs = performance.now() - t;
    try {
      const facts = parseKnownFacts(
        JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8")),
      );
      const prompts = await bundledPrompts(
        engine,
        facts,
        plan.prompts.map((p) => p.label),
      );
      log(
        `node/${backend} ${BUNDLED}: ${engine.model.nParams.toLocaleString("en-US")} parameters, loaded in ${buildMs.toFixed(0)} ms; N = ${plan.samples} samples; prompts ${prompts.map((p) => `${p.label} ${p.ids.length} tokens`).join(", ")}`,
      );
      t = performance.now();
      const r = await benchModel(engine, backend, BUNDLED, prompts, plan, log);
      result.rows.push(...r.rows);
      const c = engine.model.config;
      result.models.push({
        name: BUNDLED,
        description: "the bundled model (public/models/tiny-facts)",
        params: engine.model.nParams,
        config: { ...c },
        samples: plan.samples,
        plan: plan.prompts,
        prompts: describePrompts(prompts),
        buildMs,
        warmUpMs: r.warmUpMs,
      });
    } finally {
      engine.dispose();
    }
  }

  if (opts.gpt2small) {
    const plan = opts.gpt2small;
    const t = performance.now();
    const model = Gpt2Model.fromWeights(
      GPT2_SMALL,
      randomGpt2Weights(GPT2_SMALL, opts.seed).weights,
    );
    const buildMs = performance.now() - t;
    try {
      const host: TraceHost = { model };
      const prompts = await randomPrompts(
        model,
        opts.seed,
        plan.prompts.map((p) => p.label),
      );
      log(
        `node/${backend} ${GPT2_SMALL_NAME}: ${model.nParams.toLocaleString("en-US")} parameters, generated and uploaded in ${(buildMs / 1000).toFixed(1)} s; N = ${plan.samples} samples; prompts ${prompts.map((p) => `${p.label} ${p.ids.length} tokens`).join(", ")}`,
      );
      const r = await benchModel(host, backend, GPT2_SMALL_NAME, prompts, plan, log);
      result.rows.push(...r.rows);
      result.models.push({
        name: GPT2_SMALL_NAME,
        description:
          "GPT-2 small's shape (12 layers, d 768, 12 heads, MLP 3072, context 1024, vocabulary 50,257) with seeded random weights (scripts/bench/random-gpt2.ts)",
        params: model.nParams,
        config: { ...model.config },
        samples: plan.samples,
        plan: plan.prompts,
        prompts: describePrompts(prompts),
        buildMs,
        warmUpMs: r.warmUpMs,
      });
    } finally {
      model.dispose();
    }
  }
  if (tf.memory().numTensors !== 0) log(`warning: ${tf.memory().numTensors} tensors left`);
  return result;
}
