/**
 * Sessions as links, end to end on the bundled model: run a trace, copy its link, open the link
 * in a fresh browser context: the carried heatmap shows, the trace is recomputed and the status
 * says recomputed = carried, with the same grid. A tampered link shows why it cannot be opened
 * and leaves an empty session. Few samples, one kind: WebGPU through SwiftShader is slow.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";

const ROOT = path.resolve(__dirname, "..");
const fact = (
  JSON.parse(readFileSync(path.join(ROOT, "public/models/tiny-facts/dataset.json"), "utf8")) as {
    known_facts: { prompt: string; subject: string }[];
  }
).known_facts[0];

test.describe.configure({ mode: "serial" });

async function ready(page: Page) {
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: 120_000,
  });
}

const grid = async (page: Page, scope: string) =>
  JSON.parse(
    (await page.getByTestId(scope).getByTestId("heatmap-hidden").getAttribute("data-values")) ??
      "[]",
  ) as (number | null)[][];

let link = "";
let traced: (number | null)[][] = [];

test("a trace's link opens elsewhere with the same grid, recomputed = carried", async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/");
  await ready(page);
  await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", fact.prompt);
  for (const k of ["mlp", "attn"]) await page.getByTestId(`kind-${k}`).uncheck({ force: true });
  await page.getByTestId("trace-samples").fill("2");
  await page.getByTestId("run-trace").click();
  await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
    timeout: 180_000,
  });
  traced = await grid(page, "trace-maps");
  expect(traced.flat().every((v) => typeof v === "number")).toBe(true);

  await page.getByTestId("share-button").click();
  const field = page.getByTestId("share-link");
  await expect(field).toBeVisible();
  link = await field.inputValue();
  expect(link).toContain("#v1.");
  await expect(page.getByTestId("share-link-note")).toContainText(`${link.length} characters`);
  console.log(`share link of a 1-kind trace with its grid: ${link.length} characters`);
  await ctx.close();

  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  // the carried heatmap shows before the recompute is done
  await expect(other.getByTestId("share-carried").getByTestId("heatmap-hidden")).toBeVisible();
  const status = other.getByTestId("share-compare");
  await expect(status).toHaveAttribute("data-status", "match", { timeout: 240_000 });
  await expect(status).toContainText("Recomputed = carried");
  await expect(other.getByTestId("subject-input")).toHaveValue(fact.subject);
  await expect(other.getByTestId("trace-samples")).toHaveValue("2");
  const recomputed = await grid(other, "trace-maps");
  const carried = await grid(other, "share-carried");
  expect(recomputed.length).toBe(traced.length);
  recomputed.flat().forEach((v, i) => {
    expect(Math.abs((v as number) - (traced.flat()[i] as number))).toBeLessThan(1e-3);
    expect(Math.abs((v as number) - (carried.flat()[i] as number))).toBeLessThan(2e-3);
  });
  await fresh.close();
});

test("a tampered link shows the error and an empty session", async ({ browser }) => {
  test.setTimeout(180_000);
  expect(link, "needs the first test's link").not.toBe("");
  const i = link.indexOf("#v1.") + 10;
  const tampered = link.slice(0, i) + (link[i] === "A" ? "B" : "A") + link.slice(i + 1);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(tampered);
  const err = page.getByTestId("share-error");
  await expect(err).toBeVisible();
  await expect(err).toHaveAttribute("data-code", /^(corrupt|bad_link|bad_field)$/);
  await ready(page);
  await expect(page.getByTestId("prompt-input")).toHaveValue("");
  await expect(page.getByTestId("share-opened")).toHaveCount(0);
  await expect(page.getByTestId("trace-maps").getByTestId("heatmap-hidden")).toHaveAttribute(
    "data-filled",
    "0",
  );

  await page.goto(link.replace("#v1.", "#v7."));
  await expect(page.getByTestId("share-error")).toHaveAttribute("data-code", "unknown_version");
  await ctx.close();
});
