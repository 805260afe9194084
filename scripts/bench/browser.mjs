/**
 * The Chromium part of scripts/bench.mjs: builds the site when stale, serves it, and runs
 * /bench (app/bench/) in Chromium with the plan's samples and prompts.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CHROMIUM, CHROMIUM_ARGS } from "../chromium.mjs";
import { cleanups } from "./children.mjs";

const BROWSER_TIMEOUT_MS = 12 * 60_000;

function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(p)) m = Math.max(m, newest(path.join(p, name)));
  return m;
}

/** Builds the site when it is stale (build-site.mjs does not watch scripts/bench/). */
export function ensureSite(root) {
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
export function startServer(root, port, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, "scripts", "serve.mjs"), "--port", String(port), ...args],
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

/**
 * The bundled model on /bench of the built site in Chromium (webgpu through SwiftShader);
 * resolves to the page's result with the Chromium version and the site's build time.
 */
export async function runBrowser({ root, plan, port }) {
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    throw new Error("playwright-core is not installed (npm install)");
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  const buildMs = ensureSite(root);
  const { base, child } = await startServer(root, port);
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
