/**
 * The read-out views end to end on the bundled model: the logit lens fills its layer × position
 * map with the numbers `causeway lens --json` prints, a cell click opens ROME at the layer whose
 * MLP wrote that stream and at that token; DLA's check line says the terms sum to the logit
 * difference and a head click opens the head form; attribution patching shows Pearson's r
 * against exact patching for every site; a share link reopens the lens view with the same
 * numbers. Screenshots go to test-results/lens-*.png.
 */
import { expect, type Page, test } from "@playwright/test";
import { cliJson, firstFact, modelReady } from "./helpers";
import { budget, limit } from "./limits";

const fact = firstFact();
const TOL = 1e-4; // the browser's backend against the CLI's wasm

test.describe.configure({ mode: "serial" });

const ready = (page: Page) => modelReady(page, { prompt: fact.prompt });

async function grid(page: Page, testId: string): Promise<number[][]> {
  return JSON.parse((await page.getByTestId(testId).getAttribute("data-values")) ?? "[]");
}

interface CliLens {
  input_tokens: string[];
  /** [L + 1][T] */
  target_prob: number[][];
}

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => {
    row.forEach((v, j) => {
      m = Math.max(m, Math.abs(v - b[i][j]));
    });
  });
  return m;
}

let link = "";
let shown: number[][] = [];

test("logit lens: the CLI's numbers; a cell click opens ROME at that layer and token", async ({
  page,
}) => {
  test.setTimeout(budget(240_000));
  const cli = cliJson<CliLens>(["lens", "--prompt", fact.prompt]);
  await page.goto("/");
  await ready(page);
  await page.getByTestId("tab-lens").click();
  await page.getByTestId("run-lens").click();
  await expect(page.getByTestId("run-status-lens")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  await expect(page.getByTestId("run-status-lens")).toHaveAttribute("data-tensors-left", "0");
  // drawn as the trace: rows = positions, columns = streams; the CLI's target_prob is [L + 1][T]
  const values = await grid(page, "lens-grid");
  const out = await cli;
  const T = out.input_tokens.length;
  expect(values).toHaveLength(T);
  expect(values[0]).toHaveLength(7);
  const cliRows = out.input_tokens.map((_, t) => out.target_prob.map((row) => row[t]));
  expect(maxDiff(values, cliRows)).toBeLessThan(TOL);
  shown = values;
  await page.getByTestId("lens-view").screenshot({ path: "test-results/lens-view.png" });

  // hover: the top tokens of the cell; click: ROME at layer 2 (the stream before layer 3) and
  // the last token
  const cell = page.locator(`[data-testid="lens-grid-cell"][data-row="${T - 1}"][data-col="3"]`);
  await cell.hover();
  await expect(page.getByTestId("lens-grid-tooltip")).toContainText("ROME at layer 2");
  await page.getByTestId("lens-view").screenshot({ path: "test-results/lens-tooltip.png" });
  await cell.click();
  const form = page.getByTestId("rome-form");
  await expect(form).toBeVisible();
  await expect(form).toContainText("MLP of layer 2");

  await page.getByTestId("share-button").click();
  link = await page.getByTestId("share-link").inputValue();
  expect(link).toContain("#v2.");
});

test("DLA: the terms sum to the logit difference; a head click opens the head form", async ({
  page,
}) => {
  test.setTimeout(budget(180_000));
  await page.goto("/");
  await ready(page);
  await page.getByTestId("tab-dla").click();
  await page.getByTestId("run-dla").click();
  await expect(page.getByTestId("run-status-dla")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  const check = page.getByTestId("dla-check");
  const total = Number(await check.getAttribute("data-total"));
  const ld = Number(await check.getAttribute("data-logit-diff"));
  expect(Math.abs(total - ld)).toBeLessThan(1e-4);
  await expect(check).toContainText("agree");
  await page.getByTestId("dla-view").screenshot({ path: "test-results/lens-dla.png" });
  await page.locator('[data-testid="dla-heads-cell"][data-row="4"][data-col="1"]').click();
  await expect(page.getByTestId("head-form")).toBeVisible();
});

test("attribution patching shows Pearson's r against exact patching for every site", async ({
  page,
}) => {
  test.setTimeout(budget(300_000));
  await page.goto("/");
  await ready(page);
  await page.getByTestId("tab-attrib").click();
  await expect(page.getByTestId("attrib-corrupt")).not.toHaveValue("");
  await page.getByTestId("run-attrib").click();
  await expect(page.getByTestId("run-status-attrib")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  const rows = page.locator('[data-testid="attrib-correlations"] tr[data-site]');
  await expect(rows).toHaveCount(5);
  for (let i = 0; i < 5; i++) {
    const r = Number(await rows.nth(i).getAttribute("data-r"));
    expect(r).toBeGreaterThan(-1.0001);
    expect(r).toBeLessThan(1.0001);
  }
  await expect(page.getByTestId("attrib-scatter-head_out")).toBeVisible();
  await page.getByTestId("attrib-view").screenshot({ path: "test-results/lens-attrib.png" });
});

test("a share link reopens the lens view with the same numbers", async ({ page }) => {
  test.setTimeout(budget(180_000));
  expect(link).not.toBe("");
  await page.goto(link);
  await expect(page.getByTestId("lens-view")).toBeVisible({ timeout: limit("modelLoad") });
  await expect(page.getByTestId("run-status-lens")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  const values = await grid(page, "lens-grid");
  expect(maxDiff(values, shown)).toBeLessThan(1e-6);
});
