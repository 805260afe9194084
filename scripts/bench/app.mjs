/**
 * `npm run bench -- --app`: the app as a user meets it, in Debian's Chromium, against issue 12's
 * browser goals. It opens the built site, lets the app choose its backend, and measures:
 *   - page open → model ready, and ready → first predictions (goal ≤ 3 s);
 *   - the default trace (the form as it opens: every kind, ROME's 10 samples), pressed as a user
 *     would, against the same trace in Node (`causeway trace … --json`, its own `ms`; goal ≤ 2×);
 *   - a default ROME edit (click the subject's last token on the MLP map at the trace's peak layer,
 *     type a new target, Apply, every setting left as it is): its wall time (goal ≤ 60 s) and the
 *     longest stretch with no new progress from the worker (the elapsed-time ticker ignored);
 *   - threads: the same trace with wasm forced (`?backend=wasm`) on this cross-origin-isolated
 *     page (tfjs-wasm's threaded build, one thread per logical core) and on a page served
 *     without COOP/COEP (`serve.mjs --no-isolation`: the single-threaded build).
 * Writes bench-results/app-<date>.json and prints a table. Timings, not tests: nothing asserts.
 *
 *   node scripts/bench.mjs --app [--port P]
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { CHROMIUM, CHROMIUM_ARGS } from "../chromium.mjs";
import { ensureSite, startServer } from "./browser.mjs";
import { cleanups } from "./children.mjs";
import { cpuModel, osName } from "./machine.mjs";

const STEP_TIMEOUT_MS = 15 * 60_000;
const NEW_TARGET = " Paris";

/** The learning line without its ticking "· N s so far" part: what the worker last reported. */
const reported = (text) => text.replace(/ · [^·]* so far$/, "");

/** The CLI's own time for the trace the page shows as its command line. */
async function cliTraceMs(root, command) {
  // "npx causeway trace --model … --json": the words after "causeway", shell-quoted with '…'
  const words = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  const args = words.slice(words.indexOf("causeway") + 1);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(root, "bin", "causeway.mjs"), ...args],
    { cwd: root, maxBuffer: 64 << 20, timeout: STEP_TIMEOUT_MS },
  );
  // one kind: the trace itself; --kind all: { traces: { hidden, mlp, attn }, backend }
  const out = JSON.parse(stdout);
  const list = out.traces ? Object.values(out.traces) : [out];
  return { ms: list.reduce((s, r) => s + r.ms, 0), backend: out.backend ?? "?", args };
}

async function measure(page, root, { url = "/", edit = true } = {}) {
  const t = {};
  const t0 = Date.now();
  await page.goto(url);
  await page
    .getByTestId("load-status")
    .and(page.locator('[data-status="ready"]'))
    .waitFor({ timeout: STEP_TIMEOUT_MS });
  t.readyMs = Date.now() - t0;
  const ready = Date.now();
  await page
    .locator('[data-testid="predict-status"][data-status="ok"]')
    .waitFor({ timeout: STEP_TIMEOUT_MS });
  t.firstPredictionsMs = Date.now() - ready;
  const badge = page.getByTestId("backend-badge");
  t.backend = await badge.getAttribute("data-backend");
  t.backendName = (await page.getByTestId("backend-name").textContent())?.trim();
  t.backendChoice = (
    await page
      .getByTestId("backend-choice")
      .textContent()
      .catch(() => "")
  )?.trim();

  // the default trace, as the form opens
  t.traceSamples = Number(await page.getByTestId("trace-samples").inputValue());
  const traceStart = Date.now();
  await page.getByTestId("run-trace").click();
  await page
    .locator('[data-testid="run-status-trace"][data-status="done"]')
    .waitFor({ timeout: STEP_TIMEOUT_MS });
  t.traceMs = Date.now() - traceStart;
  t.traceCommand = (await page.getByTestId("trace-command").textContent())?.replace(
    /^[^:]*:\s*/,
    "",
  );
  if (!edit) return t;

  // a default ROME edit at the MLP map's peak cell in the subject's last token's row
  const mlp = page.getByTestId("heatmap-mlp");
  const grid = JSON.parse((await mlp.getAttribute("data-values")) ?? "[]");
  const range = (await page.getByTestId("subject-range").getAttribute("data-range")).split(",");
  const row = Number(range[1]) - 1;
  const cols = grid[0].length;
  const col = grid[row].indexOf(Math.max(...grid[row]));
  const canvas = page.getByTestId("heatmap-canvas-mlp");
  const box = await canvas.boundingBox();
  await canvas.click({
    position: { x: ((col + 0.5) * box.width) / cols, y: ((row + 0.5) * box.height) / grid.length },
  });
  await page.getByTestId("rome-target").fill(NEW_TARGET);
  await page.evaluate(() => {
    const w = window;
    w.__romeLog = [];
    const el = document.querySelector('[data-testid="edits-state"]');
    const seen = () => w.__romeLog.push([performance.now(), el?.textContent ?? ""]);
    new MutationObserver(seen).observe(el, { childList: true, characterData: true, subtree: true });
  });
  const romeStart = await page.evaluate(() => performance.now());
  await page.getByTestId("rome-apply").click();
  await page
    .locator('[data-testid="edits-status"][data-status="ready"]')
    .waitFor({ timeout: STEP_TIMEOUT_MS });
  const log = await page.evaluate(() => window.__romeLog);
  const end = log.length ? log[log.length - 1][0] : romeStart;
  t.romeMs = Math.round(end - romeStart);
  // the longest wait between two different reports of the worker (or from Apply to the first)
  let last = romeStart;
  let lastText = "";
  let gap = 0;
  let gapAfter = "Apply";
  for (const [at, text] of log) {
    const r = reported(text);
    if (r === lastText) continue;
    if (at - last > gap) {
      gap = at - last;
      gapAfter = lastText || "Apply";
    }
    last = at;
    lastText = r;
  }
  t.romeLongestSilenceMs = Math.round(gap);
  t.romeLongestSilenceAfter = gapAfter;
  t.romePhases = [
    ...new Set(
      log.map(([, x]) =>
        reported(x)
          .replace(/ · .*/, "")
          .replace(/step \d+\/\d+/, "step"),
      ),
    ),
  ];
  const cli = await cliTraceMs(root, t.traceCommand);
  t.cliTraceMs = cli.ms;
  t.cliBackend = cli.backend;
  return t;
}

/** The default trace with wasm forced: threaded (this isolated page) and single-threaded. */
async function threadsVsSingle(browser, root, isolatedBase) {
  const plain = await startServer(root, 0, ["--no-isolation"]);
  const stop = () => plain.child.kill("SIGTERM");
  cleanups.add(stop);
  try {
    const out = {};
    for (const [name, base] of [
      ["threaded", isolatedBase],
      ["single", plain.base],
    ]) {
      const page = await browser.newPage({ baseURL: base, viewport: { width: 1280, height: 800 } });
      page.on("pageerror", (e) => console.log(`[chromium page error] ${e.message}`));
      try {
        out[name] = await measure(page, root, { url: "/?backend=wasm", edit: false });
      } finally {
        await page.close();
      }
    }
    return out;
  } finally {
    cleanups.delete(stop);
    stop();
  }
}

export async function runApp({ root, port }) {
  const { chromium } = await import("playwright-core");
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  ensureSite(root);
  const { base, child } = await startServer(root, port);
  const stopServer = () => child.kill("SIGTERM");
  cleanups.add(stopServer);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ baseURL: base, viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (e) => console.log(`[chromium page error] ${e.message}`));
    const t = await measure(page, root);
    const threads = await threadsVsSingle(browser, root, base);
    const result = {
      date: new Date().toISOString(),
      machine: `${cpuModel()}, ${osName()}`,
      chromium: browser.version(),
      command: "npm run bench -- --app",
      ...t,
      threads,
    };
    const dir = path.join(root, "bench-results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `app-${result.date.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`
| measure | value | goal |
| --- | --- | --- |
| backend chosen | ${t.backend} (${t.backendChoice}) | wasm, where WebGPU is software |
| page open → model ready | ${s(t.readyMs)} | – |
| model ready → first predictions | ${s(t.firstPredictionsMs)} | ≤ 3 s |
| default trace (${t.traceSamples} samples, every kind) in the app | ${s(t.traceMs)} | ≤ 2× the CLI |
| the same trace in Node (\`causeway trace\`, ${t.cliBackend}) | ${s(t.cliTraceMs)} | ratio ${(t.traceMs / t.cliTraceMs).toFixed(2)}× |
| default ROME edit, Apply → applied | ${s(t.romeMs)} | ≤ 60 s |
| its longest stretch without new progress | ${s(t.romeLongestSilenceMs)} (after "${t.romeLongestSilenceAfter}") | a few seconds |
| the default trace, \`?backend=wasm\`, isolated page | ${s(threads.threaded.traceMs)} (${threads.threaded.backendName}) | – |
| the same, page without COOP/COEP | ${s(threads.single.traceMs)} (${threads.single.backendName}) | threaded ÷ single: ${(threads.threaded.traceMs / threads.single.traceMs).toFixed(2)}× |

Machine: ${result.machine}; Chromium ${result.chromium}. Written to ${path.relative(root, file)}.`);
    return result;
  } finally {
    cleanups.delete(stopServer);
    await browser.close();
    child.kill("SIGTERM");
  }
}
