/**
 * Steering edits from the edit panel (Debian's Chromium, WebGPU through SwiftShader, the bundled
 * model): a residual steering edit along the absc positive − negative direction moves
 * log P(" positive") − log P(" negative") on a positive review in the direction of α's sign, and
 * switching it off (or removing it) brings back the original numbers exactly; the head form's
 * probe grid holds one accuracy in [0, 1] per layer × head, and a top-K head steer names the K
 * heads that grid ranks highest. (The α curve is left out: 7 α × 50 reviews take over 90 s under
 * SwiftShader.)
 *
 * One page is shared by the tests in order (the model loads once), so they run serially.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { openApp, ROOT } from "./helpers";
import { budget, limit } from "./limits";

const MODEL = "tiny-facts";
// Layer 5 with α = −8 (raw) halves log P(+) − log P(−) on a positive review (0.42 → −0.03, wasm).
const LAYER = 5;
const ALPHA = -8;
const K = 3;

interface Review {
  prompt: string;
  label: string;
}

const data = JSON.parse(
  readFileSync(path.join(ROOT, "public", "models", MODEL, "dataset.json"), "utf8"),
) as { absc: { test: Review[] } };
const review = data.absc.test.find((r) => r.label === " positive");
if (!review) throw new Error("no positive review in the absc test split");

test.describe.configure({ mode: "serial" });

let page: Page;
let pageErrors: string[] = [];

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  test.setTimeout(budget(180_000)); // the model load only fails on a hang (openApp waits up to 120 s)
  page = await browser.newPage();
  pageErrors = await openApp(page);
});

test.afterAll(async () => {
  await page.close();
});

test.afterEach(() => {
  expect(pageErrors, "uncaught errors in the page").toEqual([]);
});

/** The prediction rows of a list: token text (leading space kept) → exact probability. */
async function bars(testId: string): Promise<Record<string, number>> {
  const rows = page.getByTestId(testId).getByTestId("prediction-row");
  const out: Record<string, number> = {};
  for (let i = 0, n = await rows.count(); i < n; i++) {
    const row = rows.nth(i);
    // a leading space shows as "·"
    const token = (await row.locator(".preds__tok").innerText()).trim().replace(/^·/, " ");
    out[token] = Number(await row.getAttribute("data-prob"));
  }
  return out;
}

test("residual steering: α < 0 moves P(' positive') / P(' negative') down; off and remove restore it", async () => {
  test.setTimeout(budget(90_000));
  await page.getByTestId("prompt-input").fill(review.prompt);
  await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", review.prompt);
  await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok");
  const original = await bars("predictions");
  expect(Object.keys(original)).toEqual(expect.arrayContaining([" positive", " negative"]));

  await page.getByTestId("add-edit-resid").click();
  const form = page.getByTestId("resid-form");
  await expect(form).toBeVisible();
  await page.locator("#resid-layer").fill(String(LAYER));
  await page.locator("#resid-alpha").fill(String(ALPHA));
  await expect(form.getByLabel("Direction: positive vs negative prompts")).toHaveValue("absc");
  await page.getByTestId("resid-apply").click();
  const row = page.getByTestId("edit-row");
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute("data-kind", "resid_steer");
  await expect(row).toContainText(`steer resid_post L${LAYER} α=${ALPHA} (raw) @last`);
  await expect(page.getByTestId("edits-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("learn"),
  });
  await expect(row).toHaveAttribute("data-learned", "true");

  // the original model's bars beside the edited ones, unchanged
  await expect(page.getByTestId("predictions-original")).toBeVisible({ timeout: limit("short") });
  await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok");
  await expect.poll(() => bars("predictions-original")).toEqual(original);
  const edited = await bars("predictions");
  console.log(
    `P(' positive') ${original[" positive"].toFixed(4)} → ${edited[" positive"]?.toFixed(4)}, ` +
      `P(' negative') ${original[" negative"].toFixed(4)} → ${edited[" negative"]?.toFixed(4)}`,
  );
  // α < 0 steers towards the negative reviews' mean: log P(+) − log P(−) falls (by 0.45 on wasm,
  // 0.42 → −0.03), mostly as P(" negative") rises (P(" positive") itself moves little)
  const logRatio = (b: Record<string, number>) => Math.log(b[" positive"] / b[" negative"]);
  console.log(
    `log P(+) − log P(−): ${logRatio(original).toFixed(3)} → ${logRatio(edited).toFixed(3)}`,
  );
  expect(logRatio(edited)).toBeLessThan(logRatio(original) - 0.3);
  expect(edited[" negative"]).toBeGreaterThan(original[" negative"] + 0.05);

  // off: the original numbers exactly; on: the same edited numbers again
  await page.getByTestId("edit-enabled").uncheck();
  await expect(page.getByTestId("predictions-original")).toHaveCount(0, {
    timeout: limit("short"),
  });
  await expect.poll(() => bars("predictions")).toEqual(original);
  await page.getByTestId("edit-enabled").check();
  await expect.poll(() => bars("predictions")).toEqual(edited);

  await page.getByTestId("edit-remove").click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId("edit-panel")).toContainText("No edits yet.");
  await expect(page.getByTestId("predictions-original")).toHaveCount(0, {
    timeout: limit("short"),
  });
  await expect.poll(() => bars("predictions")).toEqual(original);
});

test("head steering: a probe grid of layer × head accuracies; top-K steers the K best", async () => {
  test.setTimeout(budget(150_000));
  await page.getByTestId("add-edit-head").click();
  const form = page.getByTestId("head-form");
  await expect(form).toBeVisible();
  await form.getByText("Steer", { exact: true }).click();
  await form.getByRole("button", { name: /probe accuracy/ }).click();
  const cells = form.getByTestId("probe-cell");
  await expect(cells).toHaveCount(6 * 4, { timeout: limit("learn") });
  const rows = form.locator(".probe__table tbody tr");
  await expect(rows).toHaveCount(6);
  const acc: number[][] = [];
  for (let l = 0; l < 6; l++) {
    const tds = rows.nth(l).getByTestId("probe-cell");
    await expect(tds).toHaveCount(4);
    acc.push([]);
    for (let h = 0; h < 4; h++) {
      const a = Number(await tds.nth(h).getAttribute("data-acc"));
      expect(a, `L${l}H${h}`).toBeGreaterThanOrEqual(0);
      expect(a, `L${l}H${h}`).toBeLessThanOrEqual(1);
      // the cell shows the accuracy in percent
      await expect(tds.nth(h)).toHaveText(String(Math.round(a * 100)));
      acc[l].push(a);
    }
  }
  console.log(
    `probe accuracy: ${acc.map((r) => r.map((a) => a.toFixed(2)).join(" ")).join(" | ")}`,
  );
  // one probe per head, not one number repeated (near chance here: 0.25–0.57 over 40 held-out
  // reviews, so the last-token head outputs barely separate absc's positive from negative)
  expect(new Set(acc.flat()).size).toBeGreaterThan(1);

  await form.locator('select:has(option[value="top_k"])').selectOption("top_k");
  await page.locator("#head-topk").fill(String(K));
  await page.getByTestId("head-apply").click();
  const row = page.getByTestId("edit-row");
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute("data-kind", "head_steer");
  await expect(page.getByTestId("edits-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("learn"),
  });
  await expect(row).toHaveAttribute("data-learned", "true");
  const desc = await row.locator(".edits__desc").innerText();
  const m = /^steer ((?:L\d+H\d+,?)+) α=5 \(iti\) @last/.exec(desc);
  expect(m, desc).not.toBeNull();
  const chosen = (m as RegExpExecArray)[1].split(",").map((s) => {
    const [, l, h] = /L(\d+)H(\d+)/.exec(s) as RegExpExecArray;
    return [Number(l), Number(h)] as const;
  });
  console.log(`top ${K} heads: ${(m as RegExpExecArray)[1]}`);
  expect(chosen).toHaveLength(K);
  expect(new Set(chosen.map(([l, h]) => `${l},${h}`)).size).toBe(K);
  // they are the K best of the grid (ties broken by training accuracy, which the grid hides)
  const chosenAcc = chosen.map(([l, h]) => acc[l][h]);
  const others = acc.flatMap((r, l) =>
    r.filter((_, h) => !chosen.some(([cl, ch]) => cl === l && ch === h)),
  );
  expect(Math.min(...chosenAcc)).toBeGreaterThanOrEqual(Math.max(...others));

  await page.getByTestId("edit-remove").click();
  await expect(row).toHaveCount(0);
});

test("consistency recipe: before/after on held-out relations, probe grid, Apply adds its head_steer", async () => {
  test.setTimeout(budget(60_000));
  await page.getByTestId("add-edit-head").click();
  const form = page.getByTestId("head-form");
  await form.getByText("Consistency", { exact: true }).click();
  await page.locator("#cons-k").fill("2");
  await page.locator("#cons-alpha").fill("2");
  // 14 facts per relation leave the probes pairs to score (10 leave none); 20 took 30% longer
  await page.locator("#cons-facts").fill("14");
  await page.getByTestId("consistency-run").click();
  const scores = page.getByTestId("consistency-scores");
  await expect(scores).toBeVisible({ timeout: limit("sweep") });
  // held-out consistency before and after: fractions the run measured (app = CLI: test/consistency-app.test.ts)
  const cell = page.getByTestId("consistency-held-out").locator("td").first();
  for (const k of ["data-before", "data-after"]) {
    const v = Number(await cell.getAttribute(k));
    expect(v).toBeGreaterThan(0);
    expect(v).toBeLessThanOrEqual(1);
  }
  await expect(page.getByTestId("consistency-cell")).toHaveCount(6 * 4);
  await page.getByTestId("head-apply").click();
  const row = page.getByTestId("edit-row");
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute("data-kind", "head_steer");
  await expect(row).toHaveAttribute("data-learned", "true");
  await page.getByTestId("edit-remove").click();
  await expect(row).toHaveCount(0);
});
