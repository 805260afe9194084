/**
 * The results layout, end to end: after Run, the run's tab is open and its results lie inside the
 * 1280 × 800 viewport without scrolling; each tab carries its last run's summary; a share link
 * reopens the same tab. Screenshots go to test-results/layout-*.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { budget, limit } from "./limits";

const ROOT = path.resolve(__dirname, "..");
const SHOTS = path.join(ROOT, "test-results");

test.describe.configure({ mode: "serial" });

async function ready(page: Page) {
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", /./);
}

/** The element's box lies within the viewport (no scrolling needed to see its top part). */
async function inViewport(page: Page, testId: string, minHeight = 120): Promise<void> {
  const box = await page.getByTestId(testId).boundingBox();
  const vp = page.viewportSize();
  if (!box || !vp) throw new Error(`${testId} is not laid out`);
  expect(box.y, `${testId} top is on screen`).toBeGreaterThanOrEqual(0);
  expect(
    box.y + Math.min(box.height, minHeight),
    `${testId} is above the fold`,
  ).toBeLessThanOrEqual(vp.height);
}

const shot = async (page: Page, name: string) => {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `layout-${name}.png`) });
};

/** The first test's page, traced once: the second shares it from that state (serial mode). */
let traced: { ctx: BrowserContext; page: Page } | null = null;

test.afterAll(async () => {
  await traced?.ctx.close();
});

test("after Run the trace tab's maps are on screen, with a summary on the tab", async ({
  browser,
}) => {
  test.setTimeout(budget(240_000));
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/");
  await ready(page);
  await shot(page, "first");
  // the noise settings share one row: the seed box (wide enough for a uint32) does not wrap
  const top = async (id: string) => (await page.getByTestId(id).boundingBox())?.y;
  const samplesTop = await top("trace-samples");
  expect(samplesTop).toBeDefined();
  expect(await top("trace-noise")).toBe(samplesTop);
  expect(await top("trace-seed")).toBe(samplesTop);
  for (const k of ["mlp", "attn"]) await page.getByTestId(`kind-${k}`).uncheck({ force: true });
  await page.getByTestId("trace-samples").fill("1");
  await page.getByTestId("run-trace").click();
  await expect(page.getByTestId("tab-trace")).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  await shot(page, "trace");
  await inViewport(page, "tab-trace");
  await inViewport(page, "heatmap-hidden", 200);
  await expect(page.getByTestId("tab-trace")).toContainText(/peak .* L\d/);
  traced = { ctx, page };
});

test("a share link reopens the tab it was made on, even while it recomputes the trace", async ({
  browser,
}) => {
  test.setTimeout(budget(240_000));
  // the first test's page: a hidden trace of 1 sample, done (the same run this test used to repeat)
  if (!traced) throw new Error("needs the first test's traced page");
  const { ctx, page } = traced;
  traced = null;
  await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done");
  await page.getByTestId("tab-patch").click();
  await expect(page.getByTestId("tab-patch")).toHaveAttribute("aria-selected", "true");
  await page.getByTestId("share-button").click();
  const link = await page.getByTestId("share-link").inputValue();
  expect(link).toContain("#v2.");
  await ctx.close();

  const other = await browser.newContext();
  const opened = await other.newPage();
  await opened.goto(link);
  await ready(opened);
  // the link carries a trace: it is recomputed, and the patching tab stays open meanwhile
  await expect(opened.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  await expect(opened.getByTestId("tab-patch")).toHaveAttribute("aria-selected", "true");
  await expect(opened.getByTestId("views")).toHaveAttribute("data-view", "patch");
  await expect(opened.getByTestId("patch-panel")).toBeVisible();
  await expect(opened.getByTestId("trace-panel")).toBeHidden();
  await expect(opened.getByTestId("tab-trace")).toContainText(/peak/);
  await other.close();
});

test("patching by position and path patching render their grids, on screen after Run", async ({
  page,
}) => {
  test.setTimeout(budget(300_000));
  await page.goto("/");
  await ready(page);
  const L = 6;
  const H = 4;

  // layer × position: MLP outputs; a cell opens the ROME form at that layer and token
  await page.getByTestId("tab-positions").click();
  await expect(page.getByTestId("positions-panel").getByTestId("patching-prompts")).toContainText(
    "lives in the city of",
  );
  await page.getByTestId("position-site-mlp_out").check();
  await page.getByTestId("run-positions").click();
  await expect(page.getByTestId("run-status-positions")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  const grid = page.getByTestId("positions-grid");
  const T = Number(await grid.getAttribute("data-rows"));
  expect(T).toBeGreaterThan(1);
  await expect(grid).toHaveAttribute("data-cols", String(L));
  const cells = page.getByTestId("positions-grid-cell");
  await expect(cells).toHaveCount(T * L);
  await expect(page.locator('[data-testid="positions-grid-cell"][data-value]')).toHaveCount(T * L);
  await shot(page, "positions");
  await inViewport(page, "tab-positions");
  await inViewport(page, "positions-grid", 100);
  await expect(page.getByTestId("tab-positions")).toContainText(/peak .* L\d/);
  await page.locator('[data-testid="positions-grid-cell"][data-row="1"][data-col="2"]').click();
  await expect(page.getByTestId("rome-form")).toBeVisible();

  // path patching: sender L1H1 → every head of layers 2…5
  await page.getByTestId("tab-path").click();
  await page.locator('[data-testid="path-sender-cell"][data-row="1"][data-col="1"]').click();
  await page.getByTestId("run-path").click();
  await expect(page.getByTestId("run-status-path")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  await expect(page.getByTestId("path-receivers-cell")).toHaveCount(L * H);
  const filled = page.locator('[data-testid="path-receivers-cell"][data-value]');
  await expect(filled).toHaveCount((L - 2) * H);
  const rows = await filled.evaluateAll((els) =>
    els.map((e) => Number(e.getAttribute("data-row"))),
  );
  expect(Math.min(...rows)).toBe(2);
  await shot(page, "path");
  await inViewport(page, "path-receivers", 100);
  await expect(page.getByTestId("tab-path")).toContainText(/L1H1 → L\dH\d/);

  // refused: a sender in the last layer says why and keeps the grid
  await page.locator(`[data-testid="path-sender-cell"][data-row="${L - 1}"][data-col="0"]`).click();
  await page.getByTestId("run-path").click();
  await expect(page.getByTestId("path-form-error")).toContainText("last layer");
  await expect(filled).toHaveCount((L - 2) * H);
});
