#!/usr/bin/env node
/**
 * A tiny static server for the exported site in out/ (`next start` refuses export mode).
 * Listens on 127.0.0.1 — a secure context, which WebGPU needs. Every answer is cross-origin
 * isolated (COOP same-origin + COEP require-corp), which tfjs-wasm's threaded build needs
 * (SharedArrayBuffer); cross-origin fetches (the hub, dataset URLs) are CORS requests, which
 * COEP lets through. public/_headers says the same to static hosts that read it.
 *
 *   node scripts/serve.mjs [--port 3000] [--dir out] [--no-isolation]   (PORT env sets the port)
 *   --no-isolation: no COOP/COEP, as on hosts that cannot set headers (single-threaded wasm)
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function parseArgs(argv) {
  const opts = {
    port: Number(process.env.PORT || 3000),
    dir: path.join(root, "out"),
    host: "127.0.0.1",
    isolation: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--port" || a === "-p") opts.port = Number(value());
    else if (a.startsWith("--port=")) opts.port = Number(a.slice(7));
    else if (a === "--dir") opts.dir = path.resolve(value());
    else if (a === "--host") opts.host = value();
    else if (a === "--no-isolation") opts.isolation = false;
    else throw new Error(`unknown argument ${a} (use --port N, --dir D, --host H, --no-isolation)`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`bad port ${opts.port}`);
  }
  return opts;
}

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
  ".bin": "application/octet-stream",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`serve: ${e.message}`);
  process.exit(2);
}
if (!existsSync(path.join(opts.dir, "index.html"))) {
  console.error(
    `serve: ${path.join(opts.dir, "index.html")} is missing — run \`npm run build\` first`,
  );
  process.exit(1);
}

/** The file for a URL path: exact file, then `.html`, then `index.html` inside a folder. */
function resolveFile(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const full = path.join(opts.dir, path.normalize(rel));
  if (full !== opts.dir && !full.startsWith(opts.dir + path.sep)) return null; // no ../ escapes
  for (const candidate of [full, `${full}.html`, path.join(full, "index.html")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Cross-origin isolation: SharedArrayBuffer, so tfjs-wasm can run on several threads. */
const ISOLATION = opts.isolation
  ? {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    }
  : {};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", ...ISOLATION }).end();
    return;
  }
  const file = resolveFile(url.pathname);
  const status = file ? 200 : 404;
  const served = file ?? path.join(opts.dir, "404.html");
  if (!existsSync(served)) {
    res
      .writeHead(404, { "content-type": "text/plain; charset=utf-8", ...ISOLATION })
      .end("not found\n");
    return;
  }
  const st = statSync(served);
  const ext = path.extname(served).toLowerCase();
  const immutable = url.pathname.startsWith("/_next/static/");
  res.writeHead(status, {
    "content-type": MIME[ext] ?? "application/octet-stream",
    "content-length": st.size,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
    ...ISOLATION,
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(served).pipe(res);
});

server.on("error", (e) => {
  console.error(`serve: ${e.message}`);
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port;
  console.log(`Causeway is being served at http://${opts.host}:${port}/  (Ctrl-C to stop)`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
