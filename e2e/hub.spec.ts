/**
 * Models from "the hub", end to end, against the stand-in (scripts/hub-standin): a GPT-2-shaped
 * model with the real GPT-2 vocabulary, sharded, served in the hub's URL layout (302 for the LFS
 * shards, CORS) by a server this spec starts. The page is pointed at it with `?hub=`.
 *
 *   1. a throttled download is cancelled: the bundled model stays loaded, nothing is left loading;
 *   2. the same repo loads with a progress bar that shows bytes, and becomes ready;
 *   3. a trace on it fills its grid (its predictions are random: only the shape is checked);
 *   0. `?hub=` is used for this visit only, shown on the hub summary, and remembered only on request;
 *   3b. its link, opened in a fresh context (no cache, no remembered endpoint), asks before it loads
 *      anything from the stand-in named in the link ("This link wants to load … from …"), then,
 *      confirmed, loads the model from it and recomputes the same grid;
 *   4. after a reload it loads again from the browser cache: no request reaches the server for a
 *      weight shard; the cache panel lists it with its size.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { type HubStandin, startHubStandin } from "../scripts/hub-standin/server.mjs";
import { budget, limit } from "./limits";

const ROOT = path.resolve(__dirname, "..");
const STANDIN_ROOT = path.join(ROOT, ".cache", "hub-standin");
/** scripts/hub-standin/generate.ts STANDIN_REPO (run with tsx: it is an ES module script). */
const STANDIN_REPO = "causeway-test/gpt2-standin";
// "-slow": the stand-in serves the same files with the shards' bodies throttled.
const REPO = `${STANDIN_REPO}-slow`;
const PROMPT = "The Eiffel Tower is located in the city of";
const SUBJECT = "Eiffel Tower";

test.describe.configure({ mode: "serial" });

let hub: HubStandin;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** The hidden-state grid traced on the hub model (shared in a link by a later test). */
let hubGrid: (number | null)[][] = [];

const gridOf = async (p: Page, scope: string) =>
  JSON.parse(
    (await p.getByTestId(scope).getByTestId("heatmap-hidden").getAttribute("data-values")) ?? "[]",
  ) as (number | null)[][];

const shardRequests = () =>
  hub.requests.filter((r) => r.method === "GET" && r.path.endsWith(".safetensors")).length;

async function loadFromHub(p: Page, repo: string) {
  const details = p.getByTestId("hub-source");
  if ((await details.getAttribute("open")) === null) await details.locator("summary").click();
  await p.getByTestId("hub-repo").fill(repo);
  await p.getByTestId("hub-load").click();
}

test.beforeAll(async ({ browser: b }) => {
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules/tsx/dist/cli.mjs"),
      "scripts/hub-standin/generate.ts",
      STANDIN_ROOT,
    ],
    { cwd: ROOT, stdio: "pipe" },
  );
  // 3 MiB/s: the 12.9 MB embedding shard takes ~4 s, long enough to watch and to cancel.
  hub = await startHubStandin({
    root: STANDIN_ROOT,
    slowBytesPerSec: 3 * 1024 * 1024,
  });
  browser = b;
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`/?hub=${encodeURIComponent(hub.url)}`);
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  // A fresh profile, but make sure: nothing of an earlier run is served from the cache.
  await page.evaluate(() => caches.delete("causeway-models-v1"));
});

test.afterAll(async () => {
  await page?.close();
  await hub?.close();
});

test.afterEach(() => {
  expect(pageErrors, "uncaught errors in the page").toEqual([]);
});

test("?hub= is used for this visit, shown, and remembered only when asked", async () => {
  await expect(page.getByTestId("hub-endpoint")).toHaveValue(hub.url);
  await expect(page.getByTestId("hub-active")).toHaveText(
    `(${new URL(hub.url).host}, this visit only)`,
  );
  const stored = () => page.evaluate(() => localStorage.getItem("causeway:hub-endpoint"));
  expect(await stored()).toBeNull();
  const details = page.getByTestId("hub-source");
  if ((await details.getAttribute("open")) === null) await details.locator("summary").click();
  await page.getByTestId("hub-remember").click();
  expect(await stored()).toBe(hub.url);
  await expect(page.getByTestId("hub-active")).toHaveText(`(${new URL(hub.url).host})`);
  await page.evaluate(() => localStorage.removeItem("causeway:hub-endpoint"));
});

test("cancel during a throttled download keeps the bundled model", async () => {
  await expect(page.getByTestId("hub-endpoint")).toHaveValue(hub.url);
  await loadFromHub(page, REPO);
  const status = page.getByTestId("load-status");
  await expect(status).toHaveAttribute("data-status", "loading");
  // Bytes of the weights are counted while they arrive.
  await expect(page.getByTestId("load-detail")).toContainText(
    /weights · [\d.]+ (KiB|MiB) \/ [\d.]+ MiB/,
    {
      timeout: limit("short"),
    },
  );
  await page.getByTestId("load-cancel").click();
  await expect(status).toHaveAttribute("data-status", "ready");
  await expect(page.getByTestId("load-cancelled")).toContainText(
    "Loading was cancelled; tiny-facts is still loaded",
  );
  await expect(status).toContainText("6L · 4H · d=128");
  // The old model still answers.
  await expect(page.getByTestId("predictions")).toBeVisible();
});

test("loads by hub id with a byte progress bar, and a trace fills its grid", async () => {
  test.setTimeout(budget(180_000));
  const before = shardRequests();
  await loadFromHub(page, REPO);
  const detail = page.getByTestId("load-detail");
  await expect(detail).toContainText(/MiB\/s/, { timeout: limit("short") });
  const bar = page.getByRole("progressbar", { name: "Loading model" });
  await expect(bar).toBeVisible();
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  await expect(page.getByTestId("load-status")).toContainText("2L · 4H · d=64 · ctx 128");
  // 4 bytes · 3,324,736 params (lib/load/memory-estimate.ts) = 12.7 MiB
  await expect(page.getByTestId("load-memory")).toHaveText("13 MiB weights");
  // Two shards, each a GET of /resolve/… answered 302 and a GET of the /__lfs/… body.
  expect(shardRequests() - before).toBe(4);

  await page.getByTestId("prompt-input").fill(PROMPT);
  await page.getByTestId("subject-input").fill(SUBJECT);
  await expect(page.getByTestId("subject-range")).toHaveAttribute("data-range", "1,5");
  for (const k of ["mlp", "attn"]) await page.getByTestId(`kind-${k}`).uncheck({ force: true });
  await page.getByTestId("trace-samples").fill("2");
  await page.getByTestId("run-trace").click();
  await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  const hidden = page.getByTestId("heatmap-hidden");
  await expect(hidden).toHaveAttribute("data-cells", String(11 * 2));
  await expect(hidden).toHaveAttribute("data-filled", String(11 * 2));
  hubGrid = await gridOf(page, "trace-maps");
});

test("the hub model's trace, shared as a link, recomputes to the same grid in a fresh context", async () => {
  test.setTimeout(budget(300_000));
  expect(hubGrid.length, "needs the trace of the test before").toBe(11);
  await page.getByTestId("share-button").click();
  const link = await page.getByTestId("share-link").inputValue();
  expect(link).toContain("#v2.");
  // A fresh profile: no cache, no remembered endpoint. The link itself names the stand-in.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  const errors: string[] = [];
  other.on("pageerror", (e) => errors.push(e.message));
  const seen = hub.requests.length;
  await other.goto(link.replace(/\?hub=[^#]*/, ""));
  // The link names another origin: nothing is fetched from it until the user says so.
  await expect(other.getByTestId("model-confirm-text")).toHaveText(
    `This link wants to load ${REPO}@main from ${hub.url}.`,
    { timeout: limit("short") },
  );
  expect(hub.requests.slice(seen).filter((r) => r.path.includes(REPO))).toEqual([]);
  await other.getByTestId("model-confirm-load").click();
  await expect(other.getByTestId("load-status")).toContainText("2L · 4H · d=64 · ctx 128", {
    timeout: limit("modelLoad"),
  });
  const status = other.getByTestId("share-compare");
  await expect(status).toHaveAttribute("data-status", "match", { timeout: limit("sweep") });
  const recomputed = await gridOf(other, "trace-maps");
  expect(recomputed.length).toBe(hubGrid.length);
  recomputed.flat().forEach((v, i) => {
    expect(Math.abs((v as number) - (hubGrid.flat()[i] as number))).toBeLessThan(1e-3);
  });
  expect(errors).toEqual([]);
  await fresh.close();
});

test("after a reload the model comes from the browser cache, listed in the cache panel", async () => {
  test.setTimeout(budget(120_000));
  // The address now carries the shared link (Share replaced it): load the page without it.
  await page.goto(`/?hub=${encodeURIComponent(hub.url)}`);
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  const before = shardRequests();
  const all = hub.requests.length;
  await loadFromHub(page, REPO);
  await expect(page.getByTestId("load-status")).toContainText("2L · 4H · d=64", {
    timeout: limit("modelLoad"),
  });
  expect(shardRequests() - before, "no shard downloaded again").toBe(0);
  // Only HEAD probes for files never stored (model.safetensors: absent, the repo is sharded).
  const since = hub.requests.slice(all).map((r) => `${r.method} ${r.path}`);
  expect(since.every((r) => r.startsWith("HEAD "))).toBe(true);

  await page.getByTestId("model-cache").locator("summary").click();
  const item = page.getByTestId("model-cache-item").filter({ hasText: REPO });
  await expect(item).toContainText(`${REPO}@main · 5 files · 14.0 MiB`);
});

test("local files: the picked folder's files load; without weights the missing file is named", async () => {
  test.setTimeout(budget(120_000));
  const dir = path.join(STANDIN_ROOT, STANDIN_REPO);
  const details = page.getByTestId("files-source");
  await details.locator("summary").click();
  await page
    .getByTestId("files-pick")
    .setInputFiles(["config.json", "tokenizer.json"].map((f) => path.join(dir, f)));
  // the failed load keeps the model that was loaded (issue 10 item 5), the error beside it
  await expect(page.getByTestId("load-error")).toBeVisible({ timeout: limit("short") });
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready");
  await expect(page.getByTestId("load-error")).toContainText(
    "model.safetensors: neither model.safetensors nor model.safetensors.index.json is in the chosen files (config.json, tokenizer.json)",
  );
  await page
    .getByTestId("files-pick")
    .setInputFiles(
      [
        "config.json",
        "tokenizer.json",
        "model.safetensors.index.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
      ].map((f) => path.join(dir, f)),
    );
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  await expect(page.getByTestId("load-status")).toContainText("2L · 4H · d=64 · ctx 128");
  await expect(page.getByTestId("model-select")).toContainText("local files");
  await page.getByTestId("hub-source").locator("summary").click();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({
    path: path.join(ROOT, "test-results", "hub-picker.png"),
    clip: { x: 0, y: 0, width: 1280, height: 420 },
  });
});
