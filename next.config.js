// Static export (out/), served by scripts/serve.mjs. `next start` refuses export mode.
// CommonJS because package.json has no "type": "module"; the design card names this file.

/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "export",
  images: { unoptimized: true },
  reactStrictMode: true,
  // Pin the workspace root so Turbopack does not pick up a lockfile from a parent directory.
  turbopack: { root: __dirname },
  // Type checking is `tsc --noEmit` and linting `biome check`, both run by `npm test`; the build
  // itself only bundles, so one unfinished file elsewhere in lib/ cannot block the site.
  typescript: { ignoreBuildErrors: true },
  // Also stops `next build` rewriting tsconfig.json's "include" (it adds .next/dev/types
  // otherwise); this becomes Next's default in a later release.
  experimental: { strictRouteTypes: true },
};

// Cross-origin isolation (tfjs-wasm's threaded build needs SharedArrayBuffer): the exported site
// gets these headers from scripts/serve.mjs or public/_headers; `next dev` from here (an export
// build cannot carry headers, so they are added for the dev server only).
const ISOLATION = [
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Cross-Origin-Embedder-Policy", value: "require-corp" },
];

module.exports = (phase) =>
  phase === "phase-development-server"
    ? { ...nextConfig, headers: async () => [{ source: "/:path*", headers: ISOLATION }] }
    : nextConfig;
