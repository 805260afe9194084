/**
 * `causeway eval-facts` measures the bundled model's fact accuracy with the app's engine. The
 * known facts in dataset.json were selected by the torch trainer (scripts/tiny-facts) as facts its
 * own, independent forward pass gets right under the fact's template: the engine must agree.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/run-cli";

describe("causeway eval-facts", () => {
  it("reports trained and held-out phrasing accuracy; every known fact is right when trained", async () => {
    const r = await runCli(["eval-facts", "--model", "tiny-facts", "--limit", "12", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.facts).toBe(12);
    expect(out.trained_phrasings.prompts).toBeGreaterThanOrEqual(12 * 3);
    expect(out.trained_phrasings.top1).toBe(1);
    expect(out.heldout_phrasings.prompts).toBeGreaterThanOrEqual(12);
    expect(out.heldout_phrasings.top1).toBeGreaterThanOrEqual(0);
    expect(out.heldout_phrasings.top1).toBeLessThanOrEqual(1);
  });

  it("rejects a bad --limit with a one-line usage error", async () => {
    const r = await runCli(["eval-facts", "--limit", "zero", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--limit");
  });
});
