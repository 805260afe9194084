/**
 * End-to-end tests against the built static site (out/), served by scripts/serve.mjs on
 * 127.0.0.1 (a secure context, so WebGPU is allowed), in Debian's Chromium. Playwright cannot
 * download its own browsers here; CI installs `chromium` with apt.
 * Build first: `npm run test:e2e` does (node scripts/build-site.mjs --if-stale).
 */
import { defineConfig, devices } from "@playwright/test";
import { budget } from "./e2e/limits";
import { CHROMIUM, CHROMIUM_ARGS } from "./scripts/chromium.mjs";

const PORT = Number(process.env.E2E_PORT || 4173);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
export { CHROMIUM_ARGS };

export default defineConfig({
  testDir: "e2e",
  // a test without its own budget, and an expect without its own limit (e2e/limits.ts), stretched
  // for the load when the run starts
  timeout: budget(60_000),
  expect: { timeout: budget(30_000) },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: BASE_URL,
    // a failed test keeps its trace (actions, console, network, sources) but without DOM
    // snapshots or screencast: recording those for every passing test took ~30% of the e2e
    // time on 2 cores (lens.spec 2.1–2.4 min → 1.6 min); the failure screenshot stays
    trace: { mode: "retain-on-failure", snapshots: false, screenshots: false },
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 800 },
        launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
      },
    },
  ],
  webServer: {
    command: `node scripts/serve.mjs --port ${PORT}`,
    url: `${BASE_URL}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 30_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
