/**
 * The second bundled model, tiny-facts-llama, chosen in the model picker: it loads, the token
 * strip starts with its BOS, and the predictions match the command-line tool's (wasm in Node)
 * within 1e-3.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { limit } from "./limits";

const ROOT = path.resolve(__dirname, "..");
const MODEL = "tiny-facts-llama";

test("tiny-facts-llama from the picker: BOS in the strip, the CLI's numbers", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const { known_facts } = JSON.parse(
    readFileSync(path.join(ROOT, "public/models", MODEL, "dataset.json"), "utf8"),
  ) as { known_facts: { prompt: string; subject: string }[] };
  const fact = known_facts[0];

  await page.goto("/");
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });
  await page.getByTestId("model-select").selectOption(`bundled:${MODEL}`);
  await expect(page.getByTestId("model-select")).toHaveValue(`bundled:${MODEL}`);
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("modelLoad"),
  });

  await page.getByTestId("prompt-input").fill(fact.prompt);
  const list = page.getByTestId("predictions");
  await expect(list).toHaveAttribute("data-prompt", fact.prompt);
  await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok");
  const tokens = page.getByTestId("input-token");
  await expect(tokens.first()).toHaveText("<|begin_of_text|>");

  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      path.join(ROOT, "bin/causeway.mjs"),
      "predict",
      "--model",
      MODEL,
      "--prompt",
      fact.prompt,
      "--json",
    ],
    { cwd: ROOT, timeout: limit("cli") },
  );
  const cli = JSON.parse(stdout) as { input_ids: number[]; top: { id: number; prob: number }[] };
  expect(cli.input_ids[0]).toBe(1303);
  const shown = await list.getByTestId("prediction-row").evaluateAll((rows) =>
    rows.map((r) => ({
      id: Number(r.getAttribute("data-token-id")),
      prob: Number(r.getAttribute("data-prob")),
    })),
  );
  expect(shown[0].id).toBe(cli.top[0].id);
  for (const row of shown.slice(0, 5)) {
    const want = cli.top.find((t) => t.id === row.id);
    expect(want, `token ${row.id}`).toBeDefined();
    expect(Math.abs(row.prob - (want?.prob ?? 0))).toBeLessThan(1e-3);
  }
  await page.screenshot({ path: "test-results/model-llama.png" });
  expect(errors).toEqual([]);
});
