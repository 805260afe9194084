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
 *
 * What runs (makePlan below; printed at the start):
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
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DIFF_TOLERANCE,
  generatedSection,
  machineLine,
  markdownTable,
  mismatches,
  seconds,
  updateDoc,
} from "./bench/report.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "./chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Children to stop if the run is interrupted (the Node child, the server, Chromium). */
const cleanups = new Set();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    console.error(`bench: ${sig}: stopping`);
    for (const c of cleanups) {
      try {
        await c();
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const BROWSER_TIMEOUT_MS = 12 * 60_000;

function usage(msg) {
  console.error(`bench: ${msg}`);
  console.error(
    "usage: node scripts/bench.mjs [--quick] [--node-only | --browser-only] [--samples N] [--gpt2-samples N] [--browser-samples N] [--naive-rows K] [--all-sweeps] [--no-gpt2] [--docs | --no-docs] [--port P] [--peers | --peers-only]",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    quick: false,
    node: true,
    browser: true,
    gpt2: true,
    samples: undefined,
    gpt2Samples: undefined,
    naiveRows: undefined,
    browserSamples: undefined,
    allSweeps: false,
    docs: undefined,
    port: 0,
    peers: false,
    peersOnly: false,
  };
  const int = (a, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${a} needs an integer ≥ ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--node-only") o.browser = false;
    else if (a === "--browser-only") o.node = false;
    else if (a === "--no-gpt2") o.gpt2 = false;
    else if (a === "--samples") o.samples = int(a, value(), 1);
    else if (a === "--gpt2-samples") o.gpt2Samples = int(a, value(), 1);
    else if (a === "--naive-rows") o.naiveRows = int(a, value(), 0);
    else if (a === "--browser-samples") o.browserSamples = int(a, value(), 1);
    else if (a === "--all-sweeps") o.allSweeps = true;
    else if (a === "--docs") o.docs = true;
    else if (a === "--no-docs") o.docs = false;
    else if (a === "--port") o.port = int(a, value(), 0);
    else if (a === "--peers") o.peers = true;
    else if (a === "--peers-only") o.peersOnly = true;
    else if (a === "--help" || a === "-h") usage("help");
    else usage(`unknown argument ${a}`);
  }
  if (!o.node && !o.browser) usage("--node-only and --browser-only exclude each other");
  return o;
}

const args = parseArgs(process.argv.slice(2));
const ALL = ["hidden", "mlp", "attn", "heads"];

/**
 * What runs where. Per model: N (noise samples per trace cell) and, per prompt, its sweeps and
 * the rows naive is measured on before extrapolating (absent: naive in full). Sized from runs on
 * this 2-core machine: see docs/benchmarks.md.
 */
function makePlan() {
  const rows = (k) => {
    const n = args.naiveRows ?? k;
    return n > 0 ? { naiveRows: n } : {};
  };
  const sweeps = (list) => (args.allSweeps ? ALL : list);
  if (args.quick) {
    return {
      bundled: {
        samples: args.samples ?? 2,
        prompts: [{ label: "short", sweeps: ALL, ...rows(0) }],
      },
      gpt2small: args.gpt2
        ? {
            samples: args.gpt2Samples ?? 1,
            prompts: [{ label: "short", sweeps: sweeps(["hidden", "heads"]), ...rows(1) }],
          }
        : null,
      browser: {
        samples: args.browserSamples ?? 2,
        prompts: [{ label: "short", sweeps: sweeps(["hidden", "heads"]), ...rows(2) }],
      },
    };
  }
  return {
    // wasm runs the bundled model fast: ROME's 10 samples; naive in full on the short prompt
    bundled: {
      samples: args.samples ?? 10,
      prompts: [
        { label: "short", sweeps: ALL, ...rows(0) },
        { label: "long", sweeps: ALL, ...rows(3) },
      ],
    },
    // GPT-2 small's shape: one sample; naive on one row (a position's 12 cells, a layer's 12
    // heads: 5–8 s), where the whole naive sweep would take 1–8 minutes
    gpt2small: args.gpt2
      ? {
          samples: args.gpt2Samples ?? 1,
          prompts: [
            { label: "short", sweeps: ALL, ...rows(1) },
            { label: "long", sweeps: ALL, ...rows(1) },
          ],
        }
      : null,
    // SwiftShader: a naive cell of the bundled model takes 0.6 s (10 tokens) to 1.5 s (30
    // tokens) at N = 2, and 2 s at N = 10, so N = 2 and naive on one or two rows
    browser: {
      samples: args.browserSamples ?? 2,
      prompts: [
        { label: "short", sweeps: ALL, ...rows(2) },
        { label: "long", sweeps: ALL, ...rows(1) },
      ],
    },
  };
}

const plan = { ...makePlan(), seed: 1234 };
const writeDocs = args.docs ?? (!args.quick && args.node && args.browser);
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;

function describeModelPlan(where, name, m) {
  const prompts = m.prompts.map(
    (p) =>
      `${p.label}: ${p.sweeps.length === ALL.length ? "all sweeps" : p.sweeps.join(" + ")}, naive ${p.naiveRows ? `on its first ${p.naiveRows} row${p.naiveRows === 1 ? "" : "s"} (extrapolated)` : "in full"}`,
  );
  return `${where}: ${name}, N = ${m.samples} sample${m.samples === 1 ? "" : "s"}; ${prompts.join("; ")}`;
}

function describePlan() {
  const lines = [];
  if (args.node) {
    lines.push(describeModelPlan("Node (wasm)", "tiny-facts", plan.bundled));
    if (plan.gpt2small) {
      lines.push(
        describeModelPlan("Node (wasm)", "GPT-2-small shape, random weights", plan.gpt2small),
      );
    }
  }
  if (args.browser) lines.push(describeModelPlan("Chromium (webgpu)", "tiny-facts", plan.browser));
  return lines;
}

// ── Node ─────────────────────────────────────────────────────────────────────────────────────

function runNode(outFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, "scripts", "bench", "node-entry.mjs"),
        JSON.stringify({
          root,
          bundled: plan.bundled,
          gpt2small: plan.gpt2small,
          seed: plan.seed,
          outFile,
        }),
      ],
      { cwd: root, stdio: "inherit" },
    );
    const stop = () => child.kill("SIGTERM");
    cleanups.add(stop);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      cleanups.delete(stop);
      if (code === 0) resolve(JSON.parse(readFileSync(outFile, "utf8")));
      else reject(new Error(`the Node benchmark exited with ${code ?? signal}`));
    });
  });
}

// ── Browser ──────────────────────────────────────────────────────────────────────────────────

function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(p)) m = Math.max(m, newest(path.join(p, name)));
  return m;
}

/** Builds the site when it is stale (build-site.mjs does not watch scripts/bench/). */
function ensureSite() {
  const page = path.join(root, "out", "bench.html");
  const stale =
    !existsSync(page) ||
    newest(path.join(root, "scripts", "bench")) > statSync(page).mtimeMs ||
    newest(path.join(root, "app", "bench")) > statSync(page).mtimeMs;
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    [path.join(root, "scripts", "build-site.mjs"), ...(stale ? [] : ["--if-stale"])],
    { cwd: root, stdio: "inherit" },
  );
  if (r.status !== 0) throw new Error(`building the site failed (exit ${r.status})`);
  if (!existsSync(page)) throw new Error("out/bench.html is missing after the build");
  return performance.now() - t;
}

/** Starts scripts/serve.mjs; resolves with its base URL and the child (to stop it). */
function startServer(port) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, "scripts", "serve.mjs"), "--port", String(port)],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    const timer = setTimeout(() => reject(new Error("the static server did not start")), 30_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /served at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ base: m[1], child });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the static server exited with ${code}`));
    });
  });
}

async function runBrowser() {
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    throw new Error("playwright-core is not installed (npm install)");
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const buildMs = ensureSite();
  const { base, child } = await startServer(args.port);
  const stopServer = () => child.kill("SIGTERM");
  cleanups.add(stopServer);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const closeBrowser = () => browser.close();
  cleanups.add(closeBrowser);
  try {
    const page = await browser.newPage();
    page.on("console", (msg) => {
      const text = msg.text();
      if (text.startsWith("bench: ")) console.log(`[chromium] ${text.slice(7)}`);
      else if (msg.type() === "error") console.log(`[chromium error] ${text}`);
    });
    page.on("pageerror", (e) => console.log(`[chromium page error] ${e.message}`));
    const q = new URLSearchParams({
      samples: String(plan.browser.samples),
      plan: plan.browser.prompts
        .map((p) => [p.label, p.sweeps.join("+"), ...(p.naiveRows ? [p.naiveRows] : [])].join(":"))
        .join(","),
    });
    await page.goto(`${base}/bench?${q}`);
    await page.waitForFunction(() => window.__benchResult !== undefined, undefined, {
      timeout: BROWSER_TIMEOUT_MS,
      polling: 500,
    });
    const result = await page.evaluate(() => window.__benchResult);
    if (!result.ok) throw new Error(`the browser benchmark failed: ${result.error}`);
    return { ...result, chromium: `Chromium ${browser.version()}`, buildMs };
  } finally {
    cleanups.delete(closeBrowser);
    cleanups.delete(stopServer);
    await browser.close();
    child.kill("SIGTERM");
  }
}

// ── Main ─────────────────────────────────────────────────────────────────────────────────────

function tfjsVersion() {
  try {
    return JSON.parse(
      readFileSync(path.join(root, "node_modules", "@tensorflow", "tfjs", "package.json"), "utf8"),
    ).version;
  } catch {
    return "?";
  }
}

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown CPU";
}

function osName() {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) return `${m[1]}, Linux ${os.release()}`;
  } catch {
    // not Linux
  }
  return `${os.type()} ${os.release()}`;
}

/** The peers part (scripts/bench/peers.mts) in a child process; resolves to its exit code. */
function runPeers() {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(root, "scripts", "bench", "peers.mts"),
        ...(args.docs ? ["--docs"] : []),
      ],
      { cwd: root, stdio: "inherit" },
    );
    const stop = () => child.kill("SIGTERM");
    cleanups.add(stop);
    child.on("exit", (code) => {
      cleanups.delete(stop);
      resolve(code ?? 1);
    });
  });
}

async function main() {
  if (args.peersOnly) {
    console.log(`bench: ${command}`);
    process.exit(await runPeers());
  }
  console.log(`bench: ${command}`);
  for (const l of describePlan()) console.log(`bench: ${l}`);
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
      nodePart = await runNode(path.join(resultsDir, `.node-${process.pid}.json`));
    } catch (e) {
      errors.push(e.message);
      console.error(`bench: ${e.message}`);
    }
  }
  if (args.browser) {
    loadAverage.beforeBrowser = os.loadavg()[0];
    console.log(`bench: Chromium (${elapsed()} so far)`);
    try {
      browserPart = await runBrowser();
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
    tfjs: tfjsVersion(),
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
  if (args.peers && (await runPeers()) !== 0) errors.push("peers failed");
  if (errors.length > 0 || bad.length > 0) process.exitCode = 1;
}

await main();
