/**
 * The steps most e2e tests start with, in one place: collect the page's uncaught errors, open
 * the app and wait until its model is loaded (and, when asked, until the predictions show a
 * prompt); the bundled models' first known fact; the CLI's numbers to compare with. Waiting is
 * on the page's own status attributes, so a helper adds no time of its own.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect, type Page } from "@playwright/test";
import { limit } from "./limits";

export const ROOT = path.resolve(__dirname, "..");

export interface Fact {
  prompt: string;
  subject: string;
  attribute: string;
}

/** known_facts[0] of a bundled model's dataset.json (the app's example prompt). */
export function firstFact(model = "tiny-facts"): Fact {
  const file = path.join(ROOT, "public", "models", model, "dataset.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { known_facts: Fact[] }).known_facts[0];
}

/** The page's uncaught errors from now on; a test ends with `expect(errors).toEqual([])`. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/**
 * Waits until the model is loaded (load-status ready) and, with `prompt`, until the predictions
 * are those of a prompt matching it. The timeout only catches a hang (SwiftShader is slow).
 */
export async function modelReady(
  page: Page,
  o: { timeout?: number; prompt?: string | RegExp } = {},
): Promise<void> {
  await expect(page.getByTestId("load-status")).toHaveAttribute("data-status", "ready", {
    timeout: o.timeout ?? limit("modelLoad"),
  });
  if (o.prompt !== undefined)
    await expect(page.getByTestId("predictions")).toHaveAttribute("data-prompt", o.prompt);
}

/** Collects the page's errors, opens `url` and waits for its model: most tests' first lines. */
export async function openApp(
  page: Page,
  o: { url?: string; timeout?: number; prompt?: string | RegExp } = {},
): Promise<string[]> {
  const errors = pageErrors(page);
  await page.goto(o.url ?? "/");
  await modelReady(page, o);
  return errors;
}

/**
 * `causeway …args --json` run as a user runs it (node bin/causeway.mjs), parsed: the reference
 * numbers. Start it before the page's own work and await it where the numbers are compared, so
 * the CLI's start-up (tsx, tfjs, the model) runs alongside the browser. The timeout only catches
 * a hang (the start-up alone took 20 s at a load of 12).
 */
export async function cliJson<T>(args: string[], o: { timeout?: number } = {}): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(ROOT, "bin", "causeway.mjs"), ...args, "--json"],
    { cwd: ROOT, timeout: o.timeout ?? limit("cli"), maxBuffer: 16 << 20 },
  );
  return JSON.parse(stdout) as T;
}
