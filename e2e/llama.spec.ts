/**
 * Every main step on the second bundled model, tiny-facts-llama (Llama: BOS, RMSNorm, rotary,
 * GQA, SwiGLU), in Debian's Chromium (WebGPU through SwiftShader):
 *   1. chosen in the model picker: an MLP-only trace (2 samples) → click the MLP cell of the
 *      subject's last token at layer 0 → the ROME form opens there → ROME learns (20 steps, C =
 *      identity; the new target becomes the top prediction) → "Re-trace edited model" gives a map that differs from the original one → the
 *      share link, opened in a fresh context, recomputes the same map (status "match") with the
 *      edit carried (its predictions equal the edited ones);
 *   2. the hub stand-in's Llama repo (causeway-test/tiny-facts-llama-bf16: BF16, two shards and an
 *      index) loads by hub id, its predictions equal the numpy reference's on the same BF16 files
 *      (test/fixtures/hub-standin/llama-golden.json) within 1e-3, and a hidden trace fills its grid.
 * Timeouts are bounds on SwiftShader's slowness on a loaded machine, not speed checks.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { type HubStandin, startHubStandin } from "../scripts/hub-standin/server.mjs";
import { budget, limit } from "./limits";

const ROOT = path.resolve(__dirname, "..");
const MODEL = "tiny-facts-llama";
const STANDIN_ROOT = path.join(ROOT, ".cache", "hub-standin");
/** scripts/hub-standin/llama.ts LLAMA_STANDIN_REPO (an ES module: not importable from a spec). */
const LLAMA_STANDIN_REPO = "causeway-test/tiny-facts-llama-bf16";

const fact = (
  JSON.parse(readFileSync(path.join(ROOT, "public/models", MODEL, "dataset.json"), "utf8")) as {
    known_facts: { prompt: string; subject: string; attribute: string }[];
  }
).known_facts[0];

type Bar = { id: number; token: string; prob: number };

/** The prediction rows of a list: token id, text (leading space shown as "·" dropped), prob. */
const bars = (page: Page, testId: string): Promise<Bar[]> =>
  page
    .getByTestId(testId)
    .getByTestId("prediction-row")
    .evaluateAll((rows) =>
      rows.map((r) => ({
        id: Number(r.getAttribute("data-token-id")),
        token: (r.querySelector(".preds__tok")?.textContent ?? "").trim().replace(/^·/, ""),
        prob: Number(r.getAttribute("data-prob")),
      })),
    );

const mapOf = async (page: Page, testId: string) =>
  JSON.parse((await page.getByTestId(testId).getAttribute("data-values")) ?? "[]") as number[][];

async function ready(page: Page) {
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("llamaLoad"),
  });
}

async function pickLlama(page: Page) {
  await page.goto("/");
  await ready(page);
  await page.getByTestId("model-select").selectOption(`bundled:${MODEL}`);
  await expect(page.getByTestId("model-select")).toHaveValue(`bundled:${MODEL}`);
  await ready(page);
  await expect(page.getByTestId("load-status")).toContainText("6L");
}

test("tiny-facts-llama: trace → MLP cell → ROME → re-trace differs → link reopens it", async ({
  browser,
}) => {
  test.setTimeout(budget(900_000));
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await pickLlama(page);

  await page.getByTestId("prompt-input").fill(fact.prompt);
  await page.getByTestId("subject-input").fill(fact.subject);
  await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", fact.prompt);
  await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok", {
    timeout: limit("short"),
  });
  await expect(page.getByTestId("input-token").first()).toHaveText("<|begin_of_text|>");
  const range = page.getByTestId("subject-range");
  await expect(range).toHaveAttribute("data-range", /^\d+,\d+$/);
  const [, end] = ((await range.getAttribute("data-range")) ?? "").split(",").map(Number);
  const subjectLast = end - 1; // [start, end): the BOS is row 0
  const original = await bars(page, "predictions");
  // the new target: the model's second choice (" Belkor" for the first known fact, p 0.0075);
  // 20 steps at layer 0 make it the top-1 (0.99 in Chromium)
  const target = original[1];

  // 1. an MLP-only trace with two noise samples
  await page.getByTestId("trace-samples").fill("2");
  await page.getByTestId("kind-hidden").uncheck({ force: true });
  await page.getByTestId("kind-attn").uncheck({ force: true });
  await page.getByTestId("run-trace").click();
  await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
    timeout: limit("llamaSweep"),
  });
  const mlp = page.getByTestId("heatmap-mlp");
  const cells = (await mlp.getAttribute("data-cells")) ?? "";
  await expect(mlp).toHaveAttribute("data-filled", cells);
  const originalGrid = await mapOf(page, "heatmap-mlp");
  expect(originalGrid[0].length, "one column per layer").toBe(6);
  expect(originalGrid.flat().every((v) => Number.isFinite(v))).toBe(true);

  // 2. the MLP cell of the subject's last token at layer 0 opens the ROME form there
  const canvas = page.getByTestId("heatmap-canvas-mlp");
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the MLP map is not laid out");
  const rows = originalGrid.length;
  const cols = originalGrid[0].length;
  await canvas.click({
    position: { x: (0.5 * box.width) / cols, y: ((subjectLast + 0.5) * box.height) / rows },
  });
  const form = page.getByTestId("rome-form");
  await expect(form).toBeVisible();
  await expect(form).toContainText("layer 0");
  await expect(page.getByTestId("rome-subject")).toHaveValue(fact.subject);

  // 3. ROME on down_proj: 20 steps, C = identity
  await page.getByTestId("rome-target").fill(target.token);
  await page.getByTestId("rome-steps").fill("20");
  await form.getByText("identity", { exact: true }).click();
  await page.getByTestId("rome-apply").click();
  await expect(page.getByTestId("edit-row")).toHaveCount(1);
  await expect(page.getByTestId("edits-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("llamaLearn"),
  });
  await expect(page.getByTestId("edit-row")).toHaveAttribute("data-learned", "true");
  await expect(page.getByTestId("predictions-original")).toBeVisible({ timeout: limit("short") });
  await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok");
  const edited = await bars(page, "predictions");
  const pTarget = (list: Bar[]) => list.find((b) => b.id === target.id)?.prob ?? 0;
  console.log(
    `ROME on ${MODEL}: p(${target.token}) ${target.prob.toFixed(4)} → ${pTarget(edited).toFixed(4)}`,
  );
  expect(edited[0].id).toBe(target.id);
  expect(pTarget(edited)).toBeGreaterThan(target.prob);
  expect(await bars(page, "predictions-original")).toEqual(original);

  // 4. the edited model's re-trace differs from the original map
  await page.getByTestId("retrace-edited").click();
  const compare = page.getByTestId("run-status-compare");
  await expect(compare).toHaveAttribute("data-status", "done", { timeout: limit("llamaSweep") });
  await expect(compare).toHaveAttribute("data-tensors-left", "0");
  await expect(page.getByTestId("heatmap-edited-mlp")).toHaveAttribute("data-filled", cells);
  const editedGrid = await mapOf(page, "heatmap-edited-mlp");
  let maxDiff = 0;
  editedGrid.forEach((row, t) => {
    row.forEach((v, l) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - originalGrid[t][l]));
    });
  });
  console.log(`edited vs original MLP map on ${MODEL}: max |Δ| = ${maxDiff.toFixed(4)}`);
  expect(maxDiff).toBeGreaterThan(0.01);
  expect(await mapOf(page, "heatmap-mlp")).toEqual(originalGrid);

  // 5. the link reopens elsewhere: the same model, the edit carried, the same map recomputed
  await page.getByTestId("share-button").click();
  const link = await page.getByTestId("share-link").inputValue();
  expect(link).toContain("#v2.");
  await ctx.close();
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  other.on("pageerror", (e) => errors.push(e.message));
  await other.goto(link);
  const status = other.getByTestId("share-compare");
  await expect(status).toHaveAttribute("data-status", "match", { timeout: limit("llamaLearn") });
  await expect(other.getByTestId("model-select")).toHaveValue(`bundled:${MODEL}`);
  await expect(other.getByTestId("subject-input")).toHaveValue(fact.subject);
  // the recomputed map (the link's carried one is shown too, under share-carried)
  const reopened = JSON.parse(
    (await other
      .getByTestId("trace-maps")
      .getByTestId("heatmap-mlp")
      .getAttribute("data-values")) ?? "[]",
  ) as number[][];
  expect(reopened.length).toBe(originalGrid.length);
  reopened.flat().forEach((v, i) => {
    expect(Math.abs(v - originalGrid.flat()[i])).toBeLessThan(1e-3);
  });
  await expect(other.getByTestId("edit-row")).toHaveCount(1);
  await expect(other.getByTestId("edits-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("llamaLearn"),
  });
  await expect(other.getByTestId("predictions-original")).toBeVisible({ timeout: limit("short") });
  await expect(other.getByTestId("predict-status")).toHaveAttribute("data-status", "ok");
  const again = await bars(other, "predictions");
  expect(again[0].id).toBe(edited[0].id);
  // the learned arrays travel in f16: the probabilities agree to that precision
  expect(Math.abs(pTarget(again) - pTarget(edited))).toBeLessThan(5e-3);
  await other.screenshot({ path: path.join(ROOT, "test-results", "llama-link.png") });
  expect(errors, "uncaught errors in the pages").toEqual([]);
  await fresh.close();
});

test("the hub stand-in's sharded BF16 Llama repo loads, predicts as numpy does, and traces", async ({
  page,
}) => {
  test.setTimeout(budget(600_000));
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules/tsx/dist/cli.mjs"),
      "scripts/hub-standin/generate.ts",
      STANDIN_ROOT,
    ],
    { cwd: ROOT, stdio: "pipe" },
  );
  const hub: HubStandin = await startHubStandin({ root: STANDIN_ROOT });
  try {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`/?hub=${encodeURIComponent(hub.url)}`);
    await ready(page);
    const details = page.getByTestId("hub-source");
    if ((await details.getAttribute("open")) === null) await details.locator("summary").click();
    await page.getByTestId("hub-repo").fill(LLAMA_STANDIN_REPO);
    await page.getByTestId("hub-load").click();
    await expect(page.getByTestId("load-status")).toContainText("6L", {
      timeout: limit("llamaLoad"),
    });
    await ready(page);
    const shards = hub.requests.filter(
      (r) => r.method === "GET" && r.path.includes("model-0000") && r.path.includes("-of-00002"),
    );
    expect(new Set(shards.map((r) => r.path.replace(/^.*\//, ""))).size).toBe(2);

    // the numpy reference on the same BF16 files (scripts/tiny-facts/check_llama_ref.py --standin)
    const golden = JSON.parse(
      readFileSync(path.join(ROOT, "test/fixtures/hub-standin/llama-golden.json"), "utf8"),
    ) as { cases: { prompt: string; ids: number[]; logits_last: number[] }[] };
    const ref = golden.cases[0];
    const max = Math.max(...ref.logits_last);
    const z = ref.logits_last.reduce((s, v) => s + Math.exp(v - max), 0);
    const refProb = (id: number) => Math.exp(ref.logits_last[id] - max) / z;
    await page.getByTestId("prompt-input").fill(ref.prompt);
    await page.getByTestId("subject-input").fill(fact.subject);
    await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", ref.prompt);
    await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok", {
      timeout: limit("short"),
    });
    await expect(page.getByTestId("input-token")).toHaveCount(ref.ids.length);
    const shown = await bars(page, "predictions");
    const argmax = ref.logits_last.indexOf(max);
    expect(shown[0].id).toBe(argmax);
    for (const row of shown.slice(0, 5)) {
      expect(Math.abs(row.prob - refProb(row.id)), `token ${row.id}`).toBeLessThan(1e-3);
    }

    for (const k of ["mlp", "attn"]) await page.getByTestId(`kind-${k}`).uncheck({ force: true });
    await page.getByTestId("trace-samples").fill("2");
    await page.getByTestId("run-trace").click();
    await expect(page.getByTestId("run-status-trace")).toHaveAttribute("data-status", "done", {
      timeout: limit("llamaSweep"),
    });
    const hidden = page.getByTestId("heatmap-hidden");
    await expect(hidden).toHaveAttribute("data-cells", String(ref.ids.length * 6));
    await expect(hidden).toHaveAttribute("data-filled", String(ref.ids.length * 6));
    const grid = await mapOf(page, "heatmap-hidden");
    expect(grid.flat().every((v) => Number.isFinite(v))).toBe(true);
    expect(errors, "uncaught errors in the page").toEqual([]);
  } finally {
    await hub.close();
  }
});
