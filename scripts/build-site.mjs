#!/usr/bin/env node
/**
 * Builds the static site into out/: copies tfjs's wasm binaries (and the threaded build's
 * unminified factory script, for its pthreads) into public/wasm/ (gitignored),
 * then runs `next build` (output: 'export').
 *
 *   node scripts/build-site.mjs              always build
 *   node scripts/build-site.mjs --if-missing build only if out/index.html is absent
 *   node scripts/build-site.mjs --if-stale   build if any source is newer than out/index.html
 *   node scripts/build-site.mjs --wasm-only  only copy the wasm binaries (before `next dev`)
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outIndex = path.join(root, "out", "index.html");
const SOURCE_DIRS = ["app", "components", "lib", "workers", "public"];
const SOURCE_FILES = ["next.config.js", "package.json", "tsconfig.json"];
const SKIP = new Set(["node_modules", ".next", "out", "wasm"]);

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== "--if-missing" && a !== "--if-stale" && a !== "--wasm-only") {
    console.error(`build-site: unknown flag ${a} (use --if-missing, --if-stale or --wasm-only)`);
    process.exit(2);
  }
}

/** Newest modification time under `p` (files only), skipping build outputs. */
function newest(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(p)) {
    if (SKIP.has(name)) continue;
    m = Math.max(m, newest(path.join(p, name)));
  }
  return m;
}

function reasonToBuild() {
  if (!existsSync(outIndex)) return "out/index.html is missing";
  if (args.has("--if-missing")) return null;
  if (args.has("--if-stale")) {
    const built = statSync(outIndex).mtimeMs;
    for (const rel of [...SOURCE_DIRS, ...SOURCE_FILES]) {
      if (newest(path.join(root, rel)) > built) return `${rel} changed since the last build`;
    }
    return null;
  }
  return "requested";
}

function copyWasm() {
  const from = path.join(root, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
  const to = path.join(root, "public", "wasm");
  if (!existsSync(from)) throw new Error(`${from} is missing: run npm install`);
  mkdirSync(to, { recursive: true });
  const files = readdirSync(from).filter((f) => f.endsWith(".wasm"));
  if (files.length === 0) throw new Error(`no .wasm files in ${from}`);
  for (const f of files) copyFileSync(path.join(from, f), path.join(to, f));
  // The threaded build's pthreads load this unminified factory (lib/model/wasm-threads.ts).
  const pthreads = "tfjs-backend-wasm-threaded-simd.js";
  copyFileSync(path.join(from, "..", "wasm-out", pthreads), path.join(to, pthreads));
  return [...files, pthreads];
}

if (args.has("--wasm-only")) {
  console.log(`build-site: copied ${copyWasm().length} wasm files to public/wasm/`);
  process.exit(0);
}

const reason = reasonToBuild();
if (reason === null) {
  console.log("build-site: out/ is up to date");
  process.exit(0);
}
console.log(`build-site: building (${reason})`);
const t0 = performance.now();
const wasm = copyWasm();
console.log(`build-site: copied ${wasm.length} wasm files to public/wasm/`);
const next = path.join(root, "node_modules", "next", "dist", "bin", "next");
const r = spawnSync(process.execPath, [next, "build"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
if (r.status !== 0) {
  console.error(`build-site: next build failed (exit ${r.status ?? r.signal})`);
  process.exit(r.status || 1);
}
if (!existsSync(outIndex)) {
  console.error(
    "build-site: next build finished but out/index.html is missing (is output: 'export' set?)",
  );
  process.exit(1);
}
console.log(`build-site: out/ ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
