#!/usr/bin/env node
/**
 * `npm test`: lint, typecheck, unit tests, then the end-to-end suite (building the site first
 * if any source changed), in that order. Stops at the first failing step with a non-zero exit.
 * The last line printed is always the plain summary `N passed, N failed`: the test counts from
 * vitest and Playwright, plus one failure for a lint/typecheck/build step that failed.
 *
 *   node scripts/test-all.mjs [--no-e2e]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const reports = path.join(root, ".cache", "test-all");
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== "--no-e2e") {
    console.error(`test-all: unknown flag ${a} (use --no-e2e)`);
    process.exit(2);
  }
}

let passed = 0;
let failed = 0;
const timings = [];

function finish(code) {
  for (const t of timings) console.log(`test-all: ${t}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

/** Runs one step with inherited output; returns its exit status. */
function run(label, cmd, cmdArgs, env = {}) {
  console.log(`\n── ${label} ${"─".repeat(Math.max(0, 70 - label.length))}`);
  const t0 = performance.now();
  const r = spawnSync(cmd, cmdArgs, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const status = r.error ? 1 : (r.status ?? 1);
  timings.push(
    `${label}: ${status === 0 ? "ok" : `FAILED (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`} in ${s} s`,
  );
  return status;
}

/** A step without test counts (lint, typecheck, build): a failure counts once and stops here. */
function gate(label, cmd, cmdArgs) {
  if (run(label, cmd, cmdArgs) !== 0) {
    failed += 1;
    finish(1);
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

gate("lint (biome check .)", bin("biome"), ["check", "."]);
gate("typecheck (tsc --noEmit)", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);

// ── unit tests ──
const vitestJson = path.join(reports, "vitest.json");
const unitStatus = run("unit tests (vitest run)", bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${vitestJson}`,
]);
const vitest = readJson(vitestJson);
const failedBefore = failed;
if (vitest) {
  passed += vitest.numPassedTests ?? 0;
  failed += vitest.numFailedTests ?? 0;
  // A file that fails before running a test (an import error) counts as one failure.
  failed += (vitest.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
}
if (unitStatus !== 0) {
  if (failed === failedBefore) failed += 1; // vitest itself crashed: still a failure
  finish(1);
}

if (args.has("--no-e2e")) finish(0);

// ── end-to-end ──
gate("build site (if stale)", process.execPath, [
  path.join(root, "scripts", "build-site.mjs"),
  "--if-stale",
]);
const pwJson = path.join(reports, "playwright.json");
const e2eStatus = run(
  "e2e (playwright test)",
  bin("playwright"),
  ["test", "--reporter=list,json"],
  { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson, FORCE_COLOR: process.env.FORCE_COLOR ?? "0" },
);
const pw = existsSync(pwJson) ? readJson(pwJson) : null;
if (pw?.stats) {
  passed += (pw.stats.expected ?? 0) + (pw.stats.flaky ?? 0);
  failed += pw.stats.unexpected ?? 0;
}
if (e2eStatus !== 0) {
  if (!pw?.stats || (pw.stats.unexpected ?? 0) === 0) failed += 1;
  finish(1);
}
finish(0);
