/**
 * Sessions as links, end to end on the bundled model: run a trace, copy its link, open the link
 * in a fresh browser context: the carried heatmap shows, the trace is recomputed and the status
 * says recomputed = carried, with the same grid; once the session changes the Share box drops
 * the old link (and "copied"). A tampered link shows why it cannot be opened
 * and leaves the default session. Few samples, one kind: WebGPU through SwiftShader is slow.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { budget, limit } from "./limits";

const ROOT = path.resolve(__dirname, "..");
const fact = (
  JSON.parse(readFileSync(path.join(ROOT, "public/models/tiny-facts/dataset.json"), "utf8")) as {
    known_facts: { prompt: string; subject: string }[];
  }
).known_facts[0];

test.describe.configure({ mode: "serial" });

async function ready(page: Page) {
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
}

const grid = async (page: Page, scope: string) =>
  JSON.parse(
    (await page.getByTestId(scope).getByTestId("heatmap-hidden").getAttribute("data-values")) ??
      "[]",
  ) as (number | null)[][];

let link = "";
let traced: (number | null)[][] = [];
let sessionJson = "";

test("a trace's link opens elsewhere with the same grid, recomputed = carried", async ({
  browser,
}) => {
  test.setTimeout(budget(300_000));
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/");
  await ready(page);
  await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", fact.prompt);
  for (const k of ["mlp", "attn"]) await page.getByTestId(`kind-${k}`).uncheck({ force: true });
  await page.getByTestId("trace-samples").fill("2");
  await page.getByTestId("run-trace").click();
  await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  traced = await grid(page, "trace-maps");
  expect(traced.flat().every((v) => typeof v === "number")).toBe(true);

  await page.getByTestId("share-button").click();
  const field = page.getByTestId("share-link");
  await expect(field).toBeVisible();
  link = await field.inputValue();
  expect(link).toContain("#v2.");
  await expect(page.getByTestId("share-link-note")).toContainText(`${link.length} characters`);
  console.log(`share link of a 1-kind trace with its grid: ${link.length} characters`);

  // exports of the heatmap: SVG (the figure), PNG (drawn from it at 2×), the session file
  await page.getByTestId("export-hidden").locator("summary").click();
  const saved = async (testId: string) => {
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId(testId).click(),
    ]);
    return readFileSync((await dl.path()) as string);
  };
  const svg = (await saved("export-hidden-svg")).toString("utf8");
  expect(svg).toContain("Impact of restoring state after corrupted input");
  expect(svg).toContain("single restored layer");
  const svgWidth = Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
  const png = await saved("export-hidden-png");
  expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  expect(png.readUInt32BE(16)).toBe(svgWidth * 2); // IHDR width: devicePixelRatio 1 × 2
  const json = JSON.parse((await saved("export-hidden-json")).toString("utf8"));
  expect(json.scores).toEqual(traced);
  sessionJson = (await saved("session-export")).toString("utf8");
  expect(JSON.parse(sessionJson).format).toBe("causeway-session");

  // the session changes: the link, its "copied" and the address bar's hash no longer hold
  await expect(page.getByTestId("share-link-note")).toBeVisible();
  expect(await page.evaluate(() => window.location.hash)).toContain("#v2.");
  await page.getByTestId("trace-target").fill(" Belkor");
  await expect(page.getByTestId("share-link-stale")).toBeVisible();
  await expect(page.getByTestId("share-link")).toHaveCount(0);
  await expect(page.getByTestId("share-link-note")).toHaveCount(0);
  expect(await page.evaluate(() => window.location.hash)).toBe("");
  // sharing again gives the link of what is on screen
  await page.getByTestId("share-button").click();
  await expect(page.getByTestId("share-link")).not.toHaveValue(link);
  await expect(page.getByTestId("share-link-stale")).toHaveCount(0);
  await ctx.close();

  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  // the carried heatmap shows before the recompute is done
  await expect(other.getByTestId("share-carried").getByTestId("heatmap-hidden")).toBeVisible();
  const status = other.getByTestId("share-compare");
  await expect(status).toHaveAttribute("data-status", "match", { timeout: limit("sweep") });
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

test("a tampered link shows the error and leaves the default session", async ({ browser }) => {
  test.setTimeout(budget(180_000));
  expect(link, "needs the first test's link").not.toBe("");
  const i = link.indexOf("#v2.") + 10;
  const tampered = link.slice(0, i) + (link[i] === "A" ? "B" : "A") + link.slice(i + 1);
  const ctx = await browser.newContext();
  const plain = await ctx.newPage();
  await plain.goto("/");
  const defaultPrompt = await plain.getByTestId("prompt-input").inputValue();
  expect(defaultPrompt).not.toBe("");
  await plain.close();
  const page = await ctx.newPage();
  await page.goto(tampered);
  const err = page.getByTestId("share-error");
  await expect(err).toBeVisible();
  await expect(err).toHaveAttribute("data-code", /^(corrupt|bad_link|bad_field)$/);
  await ready(page);
  // nothing of the bad link is applied: the page's default session, not an empty prompt
  await expect(page.getByTestId("prompt-input")).toHaveValue(defaultPrompt);
  await expect(page.getByTestId("share-opened")).toHaveCount(0);
  await expect(page.getByTestId("trace-maps").getByTestId("heatmap-hidden")).toHaveAttribute(
    "data-filled",
    "0",
  );

  await page.goto(link.replace("#v2.", "#v7."));
  await expect(page.getByTestId("share-error")).toHaveAttribute("data-code", "unknown_version");
  await ctx.close();
});

test("a session file opened with the file picker recomputes the same trace", async ({
  browser,
}) => {
  test.setTimeout(budget(240_000));
  expect(sessionJson, "needs the first test's session file").not.toBe("");
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto("/");
  await ready(page);
  await page.getByTestId("session-import-input").setInputFiles({
    name: "causeway-session.json",
    mimeType: "application/json",
    buffer: Buffer.from(sessionJson),
  });
  await expect(page.getByTestId("share-compare")).toHaveAttribute("data-status", "match", {
    timeout: limit("sweep"),
  });
  const recomputed = await grid(page, "trace-maps");
  recomputed.flat().forEach((v, i) => {
    expect(Math.abs((v as number) - (traced.flat()[i] as number))).toBeLessThan(1e-3);
  });

  // a file dropped on the page goes through the same checks
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['{"format": "other"}'], "notes.json", { type: "application/json" }));
    document.body.dispatchEvent(
      new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }),
    );
  });
  await expect(page.getByTestId("share-error")).toContainText("not a Causeway session file");
  await ctx.close();
});
