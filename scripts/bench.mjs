#!/usr/bin/env node
/**
 * `npm run bench`: fast against naive sweeps, measured in one run, in Node (wasm) and in
 * Chromium (webgpu through SwiftShader). Writes bench-results/bench-<date>.json, prints a
 * Markdown table, and (full runs) rewrites the generated part of docs/benchmarks.md.
 *
 *   node scripts/bench.mjs                  the full run, sized for < 15 minutes on 2 cores
 *   node scripts/bench.mjs --quick          a smoke run (short prompts, few samples, ~4 min)
 *   node scripts/bench.mjs --node-only      only Node;  --browser-only: only Chromium
 *   options: --samples N          bundled model in Node (default 10, ROME's)
 *            --browser-samples N  bundled model in Chromium (default 2)
 *            --gpt2-samples N     GPT-2-small shape (default 1)
 *            --naive-rows K       naive on its first K rows everywhere (0: naive in full)
 *            --all-sweeps         every sweep on every prompt
 *            --no-gpt2  --docs / --no-docs  --port P (static server; default a free port)
 *            --peers        then Causeway against PyTorch and ONNX Runtime (scripts/bench/peers.mts)
 *            --peers-only   only that (about 5 minutes on an idle 2-core machine); with --docs it
 *                           rewrites the peers section of docs/benchmarks.md
 *            --app          only the app as a user meets it in Chromium: backend choice, first
 *                           predictions, the default trace against the CLI's, a default ROME edit
 *                           (scripts/bench/app.mjs; issue 12's browser goals)
 *            --families     only Qwen2.5-0.5B- and Pythia-410m-shaped random models on wasm
 *                           (scripts/bench/families.mts; its own --samples N, --family-rows K)
 *
 * What runs (makePlan in scripts/bench/cli-args.mjs; printed at the start):
 *   Node, wasm: the bundled model (tiny-facts) and a GPT-2-small-shaped model with random
 *     weights built in memory (scripts/bench/random-gpt2.ts); prompts of 10 and 30 tokens; the
 *     hidden, mlp and attn traces and the head sweep (head_out), fast then naive.
 *   Chromium, webgpu: the bundled model only (SwiftShader runs a GPT-2-small-sized matMul in
 *     about a second), on /bench of the built site (app/bench/).
 * Where the whole naive sweep would not fit the time, naive is measured on its first rows and
 * extrapolated: every naive cell is one full forward pass of the same shape, so its time per
 * cell is constant (the JSON and the table mark such numbers ≈). Fast always runs in full.
 * Every row checks that fast and naive agree (max |Δ| ≤ 1e-5); the exit code is 1 if not.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runApp } from "./bench/app.mjs";
import { runBrowser } from "./bench/browser.mjs";
import { runNode, runPeers, stopChildrenOnSignal } from "./bench/children.mjs";
import { describePlan, makePlan, parseArgs } from "./bench/cli-args.mjs";
import { cpuModel, osName, tfjsVersion } from "./bench/machine.mjs";
import {
  DIFF_TOLERANCE,
  generatedSection,
  machineLine,
  markdownTable,
  mismatches,
  seconds,
  updateDoc,
} from "./bench/report.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

if (process.argv.includes("--app")) {
  stopChildrenOnSignal();
  const portAt = process.argv.indexOf("--port");
  const port = portAt > 0 ? Number(process.argv[portAt + 1]) : 0;
  await runApp({ root, port });
  process.exit(0);
}

if (process.argv.includes("--families")) {
  const rest = process.argv.slice(2).filter((a) => a !== "--families");
  const tsx = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");
  const families = path.join(root, "scripts", "bench", "families.mts");
  const r = spawnSync(process.execPath, [tsx, families, ...rest], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

stopChildrenOnSignal();
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const args = parseArgs(process.argv.slice(2));
const plan = { ...makePlan(args), seed: 1234 };
const writeDocs = args.docs ?? (!args.quick && args.node && args.browser);
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;

async function main() {
  if (args.peersOnly) {
    console.log(`bench: ${command}`);
    process.exit(await runPeers({ root, docs: args.docs }));
  }
  console.log(`bench: ${command}`);
  for (const l of describePlan(args, plan)) console.log(`bench: ${l}`);
  const load = os.loadavg()[0];
  if (load > os.cpus().length) {
    console.log(
      `bench: warning: load average ${load.toFixed(1)} on ${os.cpus().length} cores: other processes will slow the timings`,
    );
  }
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const resultsDir = path.join(root, "bench-results");
  mkdirSync(resultsDir, { recursive: true });
  const file = `bench-${date.replace(/:/g, "-")}.json`;

  const loadAverage = { start: load };
  let nodePart = null;
  let browserPart = null;
  const errors = [];
  if (args.node) {
    try {
      nodePart = await runNode({
        root,
        plan,
        outFile: path.join(resultsDir, `.node-${process.pid}.json`),
      });
    } catch (e) {
      errors.push(e.message);
      console.error(`bench: ${e.message}`);
    }
  }
  if (args.browser) {
    loadAverage.beforeBrowser = os.loadavg()[0];
    console.log(`bench: Chromium (${elapsed()} so far)`);
    try {
      browserPart = await runBrowser({ root, plan, port: args.port });
    } catch (e) {
      errors.push(e.message);
      console.error(`bench: ${e.message}`);
    }
  }

  loadAverage.end = os.loadavg()[0];
  const rows = [...(nodePart?.rows ?? []), ...(browserPart?.rows ?? [])];
  const machine = {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName(),
    node: process.version,
    tfjs: tfjsVersion(root),
    wasmThreads: nodePart?.wasmThreads ?? false,
    wasmSimd: nodePart?.wasmSimd ?? true,
    ...(browserPart
      ? {
          chromium: browserPart.chromium,
          webgpuAdapter: browserPart.adapter ?? null,
          userAgent: browserPart.userAgent,
        }
      : {}),
    loadAverage,
  };
  const models = [
    ...(nodePart?.models ?? []).map((m) => ({ ...m, where: "Node (wasm)" })),
    ...(browserPart
      ? [
          {
            name: browserPart.model.name,
            where: "Chromium (webgpu)",
            description: "the bundled model",
            params: browserPart.model.params,
            samples: browserPart.model.samples,
            plan: browserPart.plan,
          },
        ]
      : []),
  ];
  const promptList = [];
  for (const m of nodePart?.models ?? []) {
    for (const p of m.prompts) {
      promptList.push({ model: m.name, ...p, text: p.tokens ? p.tokens.join("") : undefined });
    }
  }
  const totalMs = performance.now() - started;
  const result = {
    date,
    file,
    command,
    totalMs,
    machine,
    plan: { ...plan, quick: args.quick, prompts: promptList },
    models,
    node: nodePart,
    browser: browserPart,
    rows,
    errors,
  };
  writeFileSync(path.join(resultsDir, file), `${JSON.stringify(result, null, 1)}\n`);
  rmSync(path.join(resultsDir, `.node-${process.pid}.json`), { force: true });

  console.log("");
  console.log(`Machine: ${machineLine(machine)}.`);
  console.log("");
  console.log(markdownTable(rows));
  console.log("");
  const bad = mismatches(rows);
  for (const r of bad) {
    console.log(
      `bench: MISMATCH ${r.backend} ${r.model} ${r.tokens} tokens ${r.sweep}: max |fast − naive| = ${r.maxAbsDiff} > ${DIFF_TOLERANCE}${r.worst ? ` at ${r.worst.at} (fast ${r.worst.fast}, naive ${r.worst.naive})` : ""}`,
    );
  }
  if (bad.length === 0 && rows.length > 0) {
    console.log(
      `bench: fast reproduces naive in all ${rows.length} rows (max |Δ| ≤ ${DIFF_TOLERANCE})`,
    );
  }
  if (writeDocs && errors.length === 0) {
    const docPath = path.join(root, "docs", "benchmarks.md");
    mkdirSync(path.dirname(docPath), { recursive: true });
    const existing = existsSync(docPath) ? readFileSync(docPath, "utf8") : null;
    const intro = "# Benchmarks\n\nFast against naive sweeps, measured by `npm run bench`.\n";
    writeFileSync(docPath, updateDoc(existing, generatedSection(result), intro));
    console.log("bench: wrote docs/benchmarks.md");
  }
  console.log(`bench: wrote bench-results/${file}; total ${seconds(totalMs)} s`);
  if (args.peers && (await runPeers({ root, docs: args.docs })) !== 0) errors.push("peers failed");
  if (errors.length > 0 || bad.length > 0) process.exitCode = 1;
}

await main();
