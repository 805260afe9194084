/**
 * Path patching's receiver set in Chromium (bundled tiny-facts): a sender, its grid, two receivers
 * picked on the grid, their joint effect beside it; a share link reopens the view and recomputes
 * the same number. Screenshot: test-results/patching-receivers.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { budget, limit } from "./limits";

const SHOTS = path.resolve(__dirname, "..", "test-results");

async function ready(page: Page) {
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", /./);
}

const cell = (page: Page, grid: string, row: number, col: number) =>
  page.locator(`[data-testid="${grid}-cell"][data-row="${row}"][data-col="${col}"]`);

test("a receiver set's joint effect, and a share link that reopens it with the same number", async ({
  browser,
}) => {
  test.setTimeout(budget(180_000));
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/");
  await ready(page);
  await page.getByTestId("tab-path").click();
  await cell(page, "path-sender", 1, 1).click();
  await page.getByTestId("run-path").click();
  const status = page.getByTestId("run-status-path");
  await expect(status).toHaveAttribute("data-status", "done", { timeout: limit("sweep") });

  await cell(page, "path-receivers", 3, 0).click();
  await cell(page, "path-receivers", 4, 2).click();
  await expect(page.getByTestId("path-receiver")).toHaveText([/L3H0/, /L4H2/]);
  await expect(cell(page, "path-receivers", 4, 2)).toHaveAttribute("data-marked", "true");
  await page.getByTestId("run-path-joint").click();
  const joint = page.getByTestId("path-joint");
  await expect(joint).toContainText("L3H0+L4H2 together", { timeout: limit("sweep") });
  const value = await joint.getAttribute("data-value");
  expect(Number.isFinite(Number(value))).toBe(true);
  // the grid stayed: every head after the sender's layer still has its value
  await expect(page.locator('[data-testid="path-receivers-cell"][data-value]')).toHaveCount(16);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, "patching-receivers.png"), fullPage: true });

  await page.getByTestId("share-button").click();
  const link = await page.getByTestId("share-link").inputValue();
  await ctx.close();

  const other = await browser.newContext();
  const opened = await other.newPage();
  await opened.goto(link);
  await ready(opened);
  await expect(opened.getByTestId("tab-path")).toHaveAttribute("aria-selected", "true");
  await expect(opened.getByTestId("path-joint")).toHaveAttribute("data-value", value as string, {
    timeout: limit("sweep"),
  });
  await expect(opened.getByTestId("path-receiver")).toHaveText([/L3H0/, /L4H2/]);
  await other.close();
});
