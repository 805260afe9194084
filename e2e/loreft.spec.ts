/**
 * A LoReFT edit from the edit panel (Debian's Chromium, WebGPU through SwiftShader, the bundled
 * model): the form shows the trainable parameter count before training and refuses a bad rank
 * with its reason; the worker learns the edit on the dataset's absc reviews (few steps, so it
 * stays short under SwiftShader) and the stack row shows its held-out accuracy before and after;
 * those numbers agree with `causeway edit --eval` on the same recipe (wasm in Node), within one
 * or two of the 300 reviews (a near tie can flip between backends); the original model's
 * predictions appear beside the edited ones; removing the edit brings the original back.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { openApp, ROOT } from "./helpers";
import { budget, limit } from "./limits";

const RECIPE = {
  kind: "loreft",
  site: { layers: [2], hook: "resid_post", position: "aspect" },
  params: { rank: 4, n_train: 8, steps: 5, lr: 0.01, seed: 0 },
};

interface CliEdit {
  learned_edits: { learned: { info: { accuracy_before: number; accuracy_after: number } } }[];
}

async function cliAccuracy(): Promise<{ before: number; after: number }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "causeway-loreft-e2e-")), "e.json");
  writeFileSync(file, JSON.stringify([RECIPE]));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(ROOT, "bin", "causeway.mjs"), "edit", "--edit", file, "--quiet", "--json"],
    { cwd: ROOT, timeout: limit("cli"), maxBuffer: 16 << 20 },
  );
  const info = (JSON.parse(stdout) as CliEdit).learned_edits[0].learned.info;
  return { before: info.accuracy_before, after: info.accuracy_after };
}

test("LoReFT: parameter count, learning in the worker, accuracy before/after as the CLI", async ({
  page,
}) => {
  test.setTimeout(budget(240_000));
  const cli = cliAccuracy();
  const errors = await openApp(page);
  await expect(page.getByTestId("predict-status")).toHaveAttribute("data-status", "ok");

  await page.getByTestId("add-edit-loreft").click();
  const form = page.getByTestId("loreft-form");
  await expect(form).toBeVisible();
  const params = page.getByTestId("loreft-params");
  await expect(params).toHaveAttribute("data-params", "1028"); // default: layer 2 of 6, r = 4
  await page.getByTestId("loreft-layers").fill("2, 3");
  await expect(params).toHaveAttribute("data-params", String(2 * (2 * 4 * 128 + 4)));
  await page.getByTestId("loreft-layers").fill("2");
  await page.getByTestId("loreft-rank").fill("200"); // above d_model (0 the browser refuses itself: min=1)
  await page.getByTestId("loreft-add").click();
  await expect(page.getByTestId("loreft-error")).toContainText("1 to 128");
  await expect(page.getByTestId("edit-row")).toHaveCount(0);

  await page.getByTestId("loreft-rank").fill("4");
  await page.getByTestId("loreft-ntrain").fill("8");
  await page.getByTestId("loreft-steps").fill("5");
  const t0 = Date.now();
  await page.getByTestId("loreft-add").click();
  const row = page.getByTestId("edit-row");
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId("edits-status")).toHaveAttribute("data-status", "ready", {
    timeout: limit("learn"),
  });
  console.log(`LoReFT learned and applied in ${Date.now() - t0} ms`);
  await expect(row).toHaveAttribute("data-kind", "loreft");
  await expect(row).toHaveAttribute("data-learned", "true");
  const info = await row.getByTestId("edit-info").innerText();
  const num = (key: string) => {
    const m = new RegExp(`${key}\\s+([0-9.,]+)`).exec(info);
    if (!m) throw new Error(`no "${key}" in the edit's info: ${info}`);
    return Number(m[1].replace(/,/g, ""));
  };
  const ui = { before: num("accuracy before"), after: num("accuracy after") };
  const node = await cli;
  console.log(
    `accuracy before/after: browser ${ui.before}/${ui.after}, CLI ${node.before}/${node.after}`,
  );
  // the panel shows three significant digits: 0.383 for 115/300
  expect(Math.abs(ui.before - node.before)).toBeLessThanOrEqual(2 / 300 + 5e-4);
  expect(Math.abs(ui.after - node.after)).toBeLessThanOrEqual(2 / 300 + 5e-4);
  expect(num("params")).toBe(1028);

  // the original model's bars beside the edited ones; removing the edit brings them back alone
  await expect(page.getByTestId("predictions-original")).toBeVisible({ timeout: limit("short") });
  await page.getByTestId("edit-remove").click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId("predictions-original")).toHaveCount(0, {
    timeout: limit("short"),
  });
  expect(errors).toEqual([]);
});

test("ABSC form: a bad layer is refused; a tiny run shows its table row and applies as two edits", async ({
  page,
}) => {
  test.setTimeout(budget(120_000));
  const errors = await openApp(page);
  await page.getByTestId("add-edit-absc").click();
  const form = page.getByTestId("absc-form");
  await page.getByTestId("absc-layers").fill("6"); // the bundled model has layers 0–5
  await page.getByTestId("absc-run").click();
  await expect(page.getByTestId("absc-error")).toHaveText(
    "Layers must be distinct layers from 0 to 5",
  );

  await page.getByTestId("absc-layers").fill("2");
  for (const m of ["loreft", "lora_all", "ft_layer"])
    await page.getByTestId(`absc-method-${m}`).uncheck();
  await page.getByTestId("absc-n-train").fill("8");
  await page.getByTestId("absc-n-test").fill("10");
  await page.getByTestId("absc-steps").fill("2");
  await page.getByTestId("absc-run").click();
  await expect(page.getByTestId("absc-progress")).toBeVisible();
  const row = form.getByTestId("absc-row-joint");
  await expect(row).toBeVisible({ timeout: limit("learn") });
  // r = 4 at layer 2 of d = 128, H·E = 128: LoReFT 2·4·128 + 4, LoRA 4·(128 + 128)
  await expect(row.locator("td").nth(1)).toHaveText("2052");
  await expect(row.locator("td").nth(3)).toHaveText(/^\d+\.\d% → \d+\.\d%$/);
  await page.getByTestId("absc-apply-joint").click();
  await expect(page.getByTestId("edit-row")).toHaveCount(2);
  await expect(page.getByTestId("edits-status")).toHaveAttribute("data-status", "ready");
  // the stack says what the LoRA half is and what the run scored (not its first training review)
  await expect(page.locator("[data-testid=edit-row][data-kind=lora] .edits__desc")).toContainText(
    /^lora attn\.c_proj L2-2 r=4: ABSC joint \(LoReFT \+ LoRA\), 8 reviews × 2 steps, lr 0\.01: in domain \d+\.\d% → \d+\.\d%, out of domain/,
  );
  expect(errors).toEqual([]);
});
