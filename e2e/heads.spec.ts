/**
 * All heads, end to end on the bundled model: the view draws every head (6 layers × 4 heads of
 * tiny-facts), its score table shows the numbers `causeway heads --json` prints for the same
 * prompt and subject, hovering enlarges a head, clicks pin two heads side by side (token labels
 * on the axes) with a button to the head edit form, a row's click outlines its head in the
 * grid, the CSV export holds the table's numbers, and a share link reopens the view — pins,
 * sort and the same numbers, recomputed.
 * Screenshots of the view go to test-results/heads-*.png.
 */
import { readFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";
import { cliJson, firstFact, modelReady } from "./helpers";
import { budget, limit } from "./limits";

const fact = firstFact();
const NAMES = ["previous_token", "first_token", "subject", "duplicate_token", "induction"];
const TOL = 1e-4; // the browser's backend against the CLI's wasm

test.describe.configure({ mode: "serial" });

interface CliHeads {
  input_tokens: string[];
  scores: Record<string, number[][]>;
}

/** Table rows as {layer, head, values} in the order shown (one read of every row). */
function tableRows(
  page: Page,
): Promise<{ layer: number; head: number; values: (number | null)[] }[]> {
  return page.getByTestId("heads-row").evaluateAll((rows) =>
    rows.map((r) => ({
      layer: Number(r.getAttribute("data-layer")),
      head: Number(r.getAttribute("data-head")),
      values: JSON.parse(r.getAttribute("data-values") ?? "[]"),
    })),
  );
}

let link = "";
let shown: Awaited<ReturnType<typeof tableRows>> = [];

test("every head drawn, the CLI's numbers, hover, pins, selection, export", async ({ browser }) => {
  test.setTimeout(budget(240_000));
  const cliRun = cliJson<CliHeads>(["heads", "--prompt", fact.prompt, "--subject", fact.subject]);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/");
  await modelReady(page, { prompt: fact.prompt });
  await page.getByTestId("tab-heads").click();
  await page.getByTestId("heads-run").click();
  await expect(page.getByTestId("run-status-heads")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });

  // every head, each a drawn thumbnail, with the colour legend
  const view = page.getByTestId("heads-view");
  await expect(view.getByTestId("heads-grid")).toHaveAttribute("data-layers", "6");
  await expect(view.getByTestId("heads-grid")).toHaveAttribute("data-heads", "4");
  await expect(view.getByTestId("heads-cell")).toHaveCount(24);
  await expect(view.getByTestId("heads-cell").locator("canvas")).toHaveCount(24);
  await expect(view.getByTestId("heads-legend")).toBeVisible();
  await expect(view.getByTestId("heads-about")).toContainText(`subject “${fact.subject}”`);

  // the table: one row per head, the CLI's numbers
  const cli = await cliRun;
  shown = await tableRows(page);
  expect(shown).toHaveLength(24);
  let worst = 0;
  for (const row of shown) {
    NAMES.forEach((name, i) => {
      const want = cli.scores[name][row.layer][row.head];
      worst = Math.max(worst, Math.abs((row.values[i] as number) - want));
    });
  }
  console.log(`heads table vs causeway heads --json: max |Δ| ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(TOL);

  // hover enlarges, with the prompt's tokens on the axes
  const T = cli.input_tokens.length;
  const cell = (l: number, h: number) =>
    view.locator(`[data-testid="heads-cell"][data-layer="${l}"][data-head="${h}"]`);
  await cell(2, 1).hover();
  const enlarged = view.getByTestId("heads-enlarged");
  await expect(enlarged).toHaveAttribute("data-layer", "2");
  await expect(enlarged).toHaveAttribute("data-head", "1");
  await expect(enlarged.locator(".axis__token")).toHaveCount(2 * T);
  await page.screenshot({ path: "test-results/heads-hover.png", fullPage: true });

  // clicks pin: two side by side, a third drops the oldest
  await cell(0, 3).click();
  await expect(cell(0, 3)).toHaveAttribute("aria-pressed", "true");
  await cell(4, 2).click();
  await expect(view.getByTestId("heads-compare")).toHaveAttribute("data-pinned", "2");
  await expect(view.getByTestId("heads-pinned-1")).toHaveAttribute("data-layer", "0");
  await expect(view.getByTestId("heads-pinned-2")).toHaveAttribute("data-layer", "4");
  await expect(view.getByTestId("heads-pinned-1-matrix").locator("rect")).toHaveCount(
    (T * (T + 1)) / 2,
  );
  await cell(5, 0).click();
  await expect(cell(0, 3)).toHaveAttribute("aria-pressed", "false");
  await expect(view.getByTestId("heads-pinned-1")).toHaveAttribute("data-layer", "4");
  await expect(view.getByTestId("heads-pinned-2")).toHaveAttribute("data-layer", "5");
  // a pinned head opens the head edit form on itself
  await view.getByTestId("heads-edit-1").click();
  await expect(page.getByTestId("head-form")).toBeVisible();
  await expect(page.locator("#head-layer")).toHaveValue("4");
  await expect(page.locator("#head-head")).toHaveValue("2");

  // sort by induction, largest first; selecting the top row outlines its head in the grid
  await view.getByTestId("heads-sort-induction").click();
  await expect(view.getByTestId("heads-table")).toHaveAttribute("data-sort", "induction");
  const sorted = await tableRows(page);
  const ind = sorted.map((r) => r.values[4] as number);
  expect(ind).toEqual([...ind].sort((a, b) => b - a));
  await view.getByTestId("heads-row").first().click();
  const top = sorted[0];
  await expect(cell(top.layer, top.head)).toHaveClass(/heads-grid__cell--selected/);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: "test-results/heads-view.png", fullPage: true });
  await view.screenshot({ path: "test-results/heads-panel.png" });

  // the CSV export holds the table's numbers
  const [dl] = await Promise.all([
    page.waitForEvent("download"),
    view.getByTestId("heads-export-csv").click(),
  ]);
  const csv = readFileSync((await dl.path()) as string, "utf8")
    .trim()
    .split(/\r\n/);
  expect(csv[0]).toBe(["layer", "head", ...NAMES].join(","));
  expect(csv).toHaveLength(25);
  for (const line of csv.slice(1)) {
    const [l, h, ...vals] = line.split(",").map(Number);
    const row = shown.find((r) => r.layer === l && r.head === h);
    expect(vals).toEqual(row?.values); // numbers in full, as the table holds them
  }

  await page.getByTestId("share-button").click();
  link = await page.getByTestId("share-link").inputValue();
  expect(link).toContain("#v2.");
  await ctx.close();
});

test("a share link reopens the view with its pins, sort and the same numbers", async ({
  browser,
}) => {
  test.setTimeout(budget(240_000));
  expect(link).not.toBe("");
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(link);
  await modelReady(page);
  const view = page.getByTestId("heads-view");
  await expect(page.getByTestId("run-status-heads")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  await expect(page.getByTestId("views")).toHaveAttribute("data-view", "heads");
  await expect(view.getByTestId("heads-table")).toHaveAttribute("data-sort", "induction");
  await expect(view.getByTestId("heads-table")).toHaveAttribute("data-desc", "true");
  await expect(view.getByTestId("heads-pinned-1")).toHaveAttribute("data-layer", "4");
  await expect(view.getByTestId("heads-pinned-2")).toHaveAttribute("data-layer", "5");
  const again = await tableRows(page);
  const byHead = (rows: typeof again) =>
    Object.fromEntries(rows.map((r) => [`${r.layer}.${r.head}`, r.values]));
  expect(byHead(again)).toEqual(byHead(shown)); // same numbers, recomputed
  await page.screenshot({ path: "test-results/heads-reopened.png", fullPage: true });
  await ctx.close();
});
