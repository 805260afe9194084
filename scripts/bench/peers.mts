/**
 * `npm run bench -- --peers-only` (or `--peers`): Causeway against its peers, back to back in one
 * run, on the same GPT-2-small-shaped model (seeded random weights, scripts/bench/random-gpt2.ts,
 * written once as config.json + model.safetensors into bench-results/cache/):
 *
 * - causal trace, kind hidden, T = 10, N = 10: Causeway `fast` (tfjs wasm) against a ROME-style
 *   PyTorch trace (scripts/bench/torch_peer.py: one batch of 1 clean + N noised rows per cell),
 *   with the same noise values, scores compared;
 * - forward pass, batch 11 × 10 tokens, last-position logits: Causeway (tfjs wasm) against
 *   onnxruntime-web (wasm, one thread), onnxruntime-node (native, one thread) and PyTorch, on the
 *   same model exported to ONNX by torch (cached), logits compared;
 * - machine peak: a 1024² float32 matMul, single thread, through tfjs wasm (XNNPACK) and torch.
 *
 * Everything single-threaded; every row has its wall time and its process's CPU time (on a shared
 * machine the CPU-time ratio is the steadier one). A peer whose runtime is absent (Debian's torch, the onnxruntime
 * packages) is skipped with a message. Prints a Markdown table and writes
 * bench-results/peers-<date>.json; `--docs` also rewrites the peers section of docs/benchmarks.md.
 *   npx tsx scripts/bench/peers.mts [--samples 10] [--tokens 10] [--batch 11] [--repeat 3]
 *                                    [--no-trace] [--docs]
 */
import "../../lib/model/backends-node";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { editedCheckpoint, writeSafetensors } from "../../lib/edit/checkpoint";
import { gaussianArray } from "../../lib/interp/rng";
import { runTrace } from "../../lib/interp/trace";
import { selectBackend } from "../../lib/model/backend";
import { Gpt2Model } from "../../lib/model/gpt2";
import { cpuModel } from "./node";
import { peersSection, updatePeersDoc } from "./peers-report.mjs";
import { GPT2_SMALL, randomGpt2Weights, randomTokenIds } from "./random-gpt2";

const root = path.resolve(import.meta.dirname, "..", "..");
const { values: a } = parseArgs({
  options: {
    samples: { type: "string", default: "10" },
    tokens: { type: "string", default: "10" },
    batch: { type: "string", default: "11" },
    seed: { type: "string", default: "1234" },
    docs: { type: "boolean", default: false },
    "no-trace": { type: "boolean", default: false },
    repeat: { type: "string", default: "3" },
  },
});
const N = Number(a.samples);
const T = Number(a.tokens);
const BATCH = Number(a.batch);
const SEED = Number(a.seed);
const REPEAT = Number(a.repeat);
const PY = "/usr/bin/python3";
const PEER = path.join(root, "scripts", "bench", "torch_peer.py");
const OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
const log = (s: string) => console.log(`[peers] ${s}`);

const cfg = GPT2_SMALL;
const { dModel: D, dMlp: M, nLayer: L, nHead: H, vocabSize: V } = cfg;
/** FLOPs of one block on one token attending to `k` keys, and of one row's unembedding. */
const blockFlops = (k: number) => 2 * (4 * D * D + 2 * D * M) + 4 * k * D;
const unembedFlops = 2 * D * V;
/** A forward of B rows × T tokens with last-position logits. */
const forwardFlops = (B: number, t: number) => {
  let f = 0;
  for (let i = 1; i <= t; i++) f += blockFlops(i);
  return B * (L * f + unembedFlops);
};

function torchAvailable(): string | null {
  const r = spawnSync(PY, ["-c", "import torch, numpy"], { encoding: "utf8" });
  return r.status === 0 ? null : `${PY} has no torch (apt-get install -y python3-torch)`;
}

function python(args: string[]): unknown {
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };
  if (existsSync(OPENBLAS)) env.LD_LIBRARY_PATH = OPENBLAS;
  const r = spawnSync(PY, [PEER, ...args], { encoding: "utf8", env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`torch_peer.py ${args[0]} failed: ${r.stderr.slice(-800)}`);
  const out = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(out);
}

/** The model's files in the cache (written once per seed). */
function modelDir(weights: ReturnType<typeof randomGpt2Weights>["weights"]): string {
  const dir = path.join(root, "bench-results", "cache", `gpt2-small-random-${SEED}`);
  if (existsSync(path.join(dir, "model.safetensors"))) return dir;
  mkdirSync(dir, { recursive: true });
  const config = {
    model_type: "gpt2",
    n_layer: L,
    n_embd: D,
    n_head: H,
    n_inner: M,
    n_positions: cfg.nCtx,
    vocab_size: V,
    layer_norm_epsilon: cfg.layerNormEps,
    activation_function: cfg.activation,
  };
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
  const { tensors } = editedCheckpoint(cfg, weights, []);
  writeFileSync(path.join(dir, "model.safetensors"), writeSafetensors(tensors));
  return dir;
}

/** This process's CPU time (user + system) in ms: on a shared machine it counts only our own turns. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Best of n: wall ms and CPU ms (each the minimum over the n runs). */
async function best<T>(
  n: number,
  f: () => Promise<T>,
): Promise<{ ms: number; cpu: number; value: T }> {
  let ms = Infinity;
  let cpu = Infinity;
  let value!: T;
  for (let i = 0; i < n; i++) {
    const [t0, c0] = [performance.now(), cpuMs()];
    value = await f();
    ms = Math.min(ms, performance.now() - t0);
    cpu = Math.min(cpu, cpuMs() - c0);
  }
  return { ms, cpu, value };
}

function maxAbs(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

export interface PeerRow {
  work: string;
  engine: string;
  ms: number | null;
  /** CPU time of the engine's process over the same work (single-threaded: ≈ wall on an idle machine). */
  cpuMs?: number | null;
  gflops: number | null;
  /** This engine's time / Causeway's on the same work. */
  vsCauseway: number | null;
  maxAbsDiff: number | null;
  note?: string;
}

async function main() {
  await selectBackend(["wasm"]);
  const rows: PeerRow[] = [];
  const skipped: string[] = [];
  const noTorch = torchAvailable();
  const { weights } = randomGpt2Weights(cfg, SEED);
  const dir = modelDir(weights);
  const model = Gpt2Model.fromWeights(cfg, weights);
  const ids = randomTokenIds(T, V, SEED + T);

  // machine peak, single thread
  const n = 1024;
  const [ma, mb] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  const peakWasm = await best(5, async () => {
    const c = tf.matMul(ma, mb);
    await c.data();
    c.dispose();
  });
  tf.dispose([ma, mb]);
  const wasmPeak = (2 * n ** 3) / peakWasm.ms / 1e6;
  const torchPeak = noTorch ? null : (python(["peak"]) as { gflops: number }).gflops;
  log(
    `peak: tfjs wasm ${wasmPeak.toFixed(1)} GFLOP/s, torch ${torchPeak?.toFixed(1) ?? "-"} GFLOP/s`,
  );

  // 1. causal trace
  if (!a["no-trace"]) await tracePeers();
  async function tracePeers() {
    const warm = model.forward({ inputIds: [ids], logitPositions: "last" });
    await warm.logits.data();
    warm.logits.dispose();
    const spec = { prompt: ids, subject: [1, 4] as [number, number], kind: "hidden" as const };
    const [t0, c0] = [performance.now(), cpuMs()];
    const fast = await runTrace({ model }, { ...spec, samples: N, strategy: "fast" });
    const fastMs = performance.now() - t0;
    const fastCpu = cpuMs() - c0;
    const traceWork = `trace hidden, T = ${T}, N = ${N}`;
    const fastFlops = fast.evaluations * blockFlops(T) + (T * L * N + N + 1) * unembedFlops; // ≈ upper bound
    rows.push({
      work: traceWork,
      engine: "Causeway fast (tfjs wasm)",
      ms: fastMs,
      cpuMs: fastCpu,
      gflops: fastFlops / fastMs / 1e6,
      vsCauseway: 1,
      maxAbsDiff: null,
      note: `${fast.evaluations} evaluations`,
    });
    log(
      `causeway fast trace: ${(fastMs / 1000).toFixed(1)} s (CPU ${(fastCpu / 1000).toFixed(1)} s)`,
    );
    if (noTorch) skipped.push(`PyTorch trace: ${noTorch}`);
    else {
      const noise = gaussianArray(fast.seed, N * 3 * D, fast.noiseSigma ?? 0);
      const job = path.join(dir, "trace-job.json");
      writeFileSync(
        job,
        JSON.stringify({
          ids,
          samples: N,
          subject: [1, 4],
          target: fast.answer.id,
          noise: [...noise],
        }),
      );
      const r = python(["trace", "--model", dir, "--job", job]) as {
        ms: number;
        cpu_ms: number;
        high: number;
        low: number;
        scores: number[][];
        forwards: number;
      };
      const diff = Math.max(
        Math.abs(r.high - fast.high),
        Math.abs(r.low - fast.low),
        maxAbs(r.scores.flat(), fast.scores.flat()),
      );
      rows.push({
        work: traceWork,
        engine: "PyTorch, ROME-style loop (1 + N rows per cell)",
        ms: r.ms,
        cpuMs: r.cpu_ms,
        gflops: ((r.forwards - 1) * forwardFlops(N + 1, T)) / r.ms / 1e6,
        vsCauseway: r.ms / fastMs,
        maxAbsDiff: diff,
      });
      log(`torch trace: ${(r.ms / 1000).toFixed(1)} s, max |Δ| ${diff.toExponential(2)}`);
    }
  }

  // 2. forward pass
  const batch = Array.from({ length: BATCH }, (_, r) => ids.map((x, i) => (x + r * 131 + i) % V));
  const fwdWork = `forward ${BATCH} × ${T} tokens`;
  const fwdFlops = forwardFlops(BATCH, T);
  const ours = await best(REPEAT, async () => {
    const { logits } = model.forward({ inputIds: batch, logitPositions: "last" });
    const d = (await logits.data()) as Float32Array;
    logits.dispose();
    return d;
  });
  rows.push({
    work: fwdWork,
    engine: "Causeway (tfjs wasm)",
    ms: ours.ms,
    cpuMs: ours.cpu,
    gflops: fwdFlops / ours.ms / 1e6,
    vsCauseway: 1,
    maxAbsDiff: null,
  });
  model.dispose();
  const onnxFile = path.join(dir, `gpt2-b${BATCH}-t${T}.onnx`);
  if (noTorch) skipped.push(`ONNX Runtime: no ONNX export without torch (${noTorch})`);
  else if (!existsSync(onnxFile)) {
    python([
      "onnx",
      "--model",
      dir,
      "--out",
      onnxFile,
      "--batch",
      String(BATCH),
      "--tokens",
      String(T),
    ]);
  }
  const feedIds = BigInt64Array.from(batch.flat().map(BigInt));
  const ortRun = async (engine: string, ort: OrtLike) => {
    const session = await ort.InferenceSession.create(readFileSync(onnxFile), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionProviders: [engine.includes("web") ? "wasm" : "cpu"],
    });
    const feeds = { ids: new ort.Tensor("int64", feedIds, [BATCH, T]) };
    await session.run(feeds);
    const r = await best(
      REPEAT,
      async () => (await session.run(feeds)).logits.data as Float32Array,
    );
    await session.release?.();
    rows.push({
      work: fwdWork,
      engine,
      ms: r.ms,
      cpuMs: r.cpu,
      gflops: fwdFlops / r.ms / 1e6,
      vsCauseway: r.ms / ours.ms,
      maxAbsDiff: maxAbs(r.value, ours.value),
    });
    log(`${engine}: ${r.ms.toFixed(0)} ms`);
  };
  if (existsSync(onnxFile)) {
    for (const [pkg, engine] of [
      ["onnxruntime-web", "onnxruntime-web (wasm, 1 thread)"],
      ["onnxruntime-node", "onnxruntime-node (native, 1 thread)"],
    ] as const) {
      let ort: OrtLike;
      try {
        ort = (await import(pkg)) as OrtLike;
        if (pkg === "onnxruntime-web") {
          ort.env.wasm.numThreads = 1;
          ort.env.wasm.simd = true;
        }
      } catch (e) {
        skipped.push(`${engine}: ${pkg} is not installed (${String(e).slice(0, 120)})`);
        continue;
      }
      await ortRun(engine, ort);
    }
  }
  if (!noTorch) {
    const r = python([
      "forward",
      "--model",
      dir,
      "--batch",
      String(BATCH),
      "--tokens",
      String(T),
    ]) as {
      ms: number;
      cpu_ms: number;
      logits0: number[];
    };
    rows.push({
      work: fwdWork,
      engine: "PyTorch (1 thread)",
      ms: r.ms,
      cpuMs: r.cpu_ms,
      gflops: fwdFlops / r.ms / 1e6,
      vsCauseway: r.ms / ours.ms,
      maxAbsDiff: null,
    });
  }

  const result = {
    date: new Date().toISOString(),
    command: `npm run bench -- --peers-only${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
    cpu: cpuModel(),
    cores: os.cpus().length,
    load: os.loadavg(),
    node: process.version,
    peaks: { wasm: wasmPeak, torch: torchPeak },
    rows,
    skipped,
  };
  mkdirSync(path.join(root, "bench-results"), { recursive: true });
  const out = path.join(root, "bench-results", `peers-${result.date.replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(peersSection(result));
  for (const s of skipped) log(`skipped: ${s}`);
  log(`wrote ${path.relative(root, out)}`);
  if (a.docs) updatePeersDoc(path.join(root, "docs", "benchmarks.md"), result);
}

interface OrtLike {
  env: { wasm: { numThreads: number; simd: boolean } };
  Tensor: new (type: "int64", data: BigInt64Array, dims: number[]) => unknown;
  InferenceSession: {
    create(
      model: Uint8Array,
      o: object,
    ): Promise<{
      run(feeds: object): Promise<{ logits: { data: unknown } }>;
      release?(): Promise<void>;
    }>;
  };
}

await main();
