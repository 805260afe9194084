/**
 * `npm run bench -- --families`: what a laptop can hold of real-sized models of the other
 * families, on wasm in Node: a Qwen2.5-0.5B-shaped and a Pythia-410m-shaped model with seeded
 * random weights (scripts/bench/random-family.ts; the real configs' shapes, 24 layers each).
 * Per model: build (generate + upload), one forward pass of the short random prompt (last
 * position's logits read back; the second of two, the first warms XNNPACK up), and one hidden
 * trace, fast strategy, N noise samples — on its first `rows` token positions only when given
 * (`--family-rows K`; the rows done are reported, nothing is extrapolated). Memory: the tfjs
 * high-water mark after every kernel (weights included) and the process's max RSS.
 * Prints a Markdown table; writes bench-results/families-<date>.json.
 */
import "../../lib/model/backends-node";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/model/backend";
import { Gpt2Model } from "../../lib/model/gpt2";
import { installPeakTracker, measureSweep, topTokens } from "./core";
import { cpuModel } from "./node";
import { randomPrompts } from "./prompts";
import { PYTHIA_410M, QWEN25_05B, randomFamilyWeights } from "./random-family";

// Pythia first: the Qwen shape's trace can exhaust the wasm heap (see docs/benchmarks.md)
const MODELS = [
  { name: "pythia-410m-random", json: PYTHIA_410M },
  { name: "qwen2.5-0.5b-random", json: QWEN25_05B },
];

interface FamilyRow {
  model: string;
  family: string;
  params: number;
  tokens: number;
  buildMs: number;
  forwardMs: number;
  forwardPeakBytes: number;
  trace:
    | { samples: number; rowsDone: number; rowsTotal: number; ms: number; peakBytes: number }
    | { samples: number; error: string };
  maxRssBytes: number;
}

const argv = process.argv.slice(2);
const num = (flag: string, dflt: number | undefined) => {
  const i = argv.indexOf(flag);
  if (i < 0) return dflt;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs an integer ≥ 1`);
  return n;
};
const samples = num("--samples", 1) as number;
const rows = num("--family-rows", undefined);
const seed = 1234;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const t0 = performance.now();
const log = (l: string) =>
  console.log(`[families ${((performance.now() - t0) / 1000).toFixed(0)} s] ${l}`);

const { backend } = await selectBackend(["wasm"]);
const load = os.loadavg()[0];
log(
  `wasm (${backend}) on ${cpuModel()}, ${os.cpus().length} cores, load average ${load.toFixed(1)}`,
);
const peak = installPeakTracker();
const out: FamilyRow[] = [];
for (const m of MODELS) {
  let t = performance.now();
  const { config, hub } = randomFamilyWeights(m.json, seed);
  const model = Gpt2Model.fromWeights(config, { hub });
  hub.clear(); // the host copies: only the uploaded tensors stay
  const buildMs = performance.now() - t;
  try {
    const [prompt] = await randomPrompts(model, seed, ["short"]);
    log(
      `${m.name}: ${model.nParams.toLocaleString("en-US")} parameters, built in ${s(buildMs)}; prompt ${prompt.ids.length} tokens`,
    );
    peak.reset();
    t = performance.now();
    await topTokens(model, prompt.ids, 1);
    const forwardMs = performance.now() - t;
    const forwardPeakBytes = peak.peak();
    log(`  forward ${s(forwardMs)}, peak ${mib(forwardPeakBytes)}`);
    let trace: FamilyRow["trace"];
    try {
      const r = (await measureSweep({ model }, prompt, "hidden", "fast", samples, rows)).measure;
      trace = {
        samples,
        rowsDone: r.rowsDone,
        rowsTotal: r.rowsTotal,
        ms: r.msMeasured,
        peakBytes: r.peakBytes,
      };
      log(
        `  hidden trace (fast, N ${samples}) ${r.rowsDone}/${r.rowsTotal} rows in ${s(r.msMeasured)}, peak ${mib(r.peakBytes)}`,
      );
    } catch (e) {
      // tfjs-wasm's heap is wasm32: past ~2 GiB its typed-array views fail (RangeError)
      trace = { samples, error: `${(e as Error).name}: ${(e as Error).message}` };
      log(`  hidden trace failed after peak ${mib(peak.peak())}: ${trace.error}`);
    }
    out.push({
      model: m.name,
      family: config.modelType,
      params: model.nParams,
      tokens: prompt.ids.length,
      buildMs,
      forwardMs,
      forwardPeakBytes,
      trace,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    });
  } finally {
    model.dispose();
  }
}
if (tf.memory().numTensors !== 0) log(`warning: ${tf.memory().numTensors} tensors left`);

console.log(
  "\n| model | params | tokens | build | forward | forward peak | hidden trace (fast) | trace peak | max RSS |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of out) {
  const tr = r.trace;
  const trace =
    "error" in tr
      ? `failed: ${tr.error} | —`
      : `${s(tr.ms)} (N ${tr.samples}, ${tr.rowsDone}/${tr.rowsTotal} positions) | ${mib(tr.peakBytes)}`;
  console.log(
    `| ${r.model} (${r.family}) | ${(r.params / 1e6).toFixed(0)}M | ${r.tokens} | ${s(r.buildMs)} | ${s(r.forwardMs)} | ${mib(r.forwardPeakBytes)} | ${trace} | ${mib(r.maxRssBytes)} |`,
  );
}
const root = path.resolve(import.meta.dirname, "..", "..");
mkdirSync(path.join(root, "bench-results"), { recursive: true });
const file = path.join(
  root,
  "bench-results",
  `families-${new Date()
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-")}.json`,
);
writeFileSync(
  file,
  JSON.stringify(
    {
      backend,
      cpu: cpuModel(),
      cores: os.cpus().length,
      loadAverage: { start: load, end: os.loadavg()[0] },
      samples,
      rows,
      models: out,
    },
    null,
    2,
  ),
);
log(`wrote ${path.relative(root, file)}`);
