/**
 * The generation panel in Chromium (WebGPU through SwiftShader) on the bundled model: greedy and
 * seeded sampled texts, original and edited side by side, with the token ids of the numpy
 * reference (test/fixtures/generate/bundled.json, scripts/reference/generate_ref.py), and a
 * form error for bad settings. With no edit in the stack the edited side says it is the original.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { budget, limit } from "./limits";

const ROOT = path.resolve(__dirname, "..");
const fx = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/generate/bundled.json"), "utf8"),
) as {
  greedy: { prompt: string; ids: number[] }[];
  sampled: { prompt: string; ids: number[]; seed: number; temperature: number; top_k: number }[];
};

test("generation: greedy and seeded sampling give the reference ids on both sides", async ({
  page,
}) => {
  test.setTimeout(budget(180_000));
  await page.goto("/");
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  const panel = page.getByTestId("generation-panel");
  await panel.scrollIntoViewIfNeeded();

  // the initial prompt is the first known fact (greedy[0] of the fixture): it ends at <|endoftext|>
  await expect(page.getByTestId("prompt-input")).toHaveValue(fx.greedy[0].prompt);
  await page.getByTestId("generate-max-new").fill("12");
  await page.getByTestId("run-generate").click();
  for (const side of ["original", "edited"]) {
    await expect(page.getByTestId(`generate-${side}`)).toHaveAttribute("data-status", "done", {
      timeout: limit("sweep"),
    });
    await expect(page.getByTestId(`generate-${side}-text`)).toHaveAttribute(
      "data-ids",
      fx.greedy[0].ids.join(","),
    );
  }
  await expect(page.getByTestId("generate-edited")).toContainText("same as the original");

  // sampled, on another prompt
  const s = fx.sampled[1];
  await page.getByTestId("prompt-input").fill(s.prompt);
  await page.getByTestId("generate-mode").selectOption("sample");
  await page.getByTestId("generate-seed").fill(String(s.seed));
  await page.getByTestId("generate-temperature").fill(String(s.temperature));
  await page.getByTestId("generate-top-k").fill(String(s.top_k));
  await page.getByTestId("run-generate").click();
  await expect(page.getByTestId("generate-original")).toHaveAttribute("data-status", "done", {
    timeout: limit("sweep"),
  });
  await expect(page.getByTestId("generate-original-text")).toHaveAttribute(
    "data-ids",
    s.ids.join(","),
  );

  // a bad setting is a form error, nothing is sent
  await page.getByTestId("generate-temperature").fill("0");
  await page.getByTestId("run-generate").click();
  await expect(page.getByTestId("generate-form-error")).toContainText("temperature");
});
