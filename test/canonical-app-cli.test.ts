/**
 * The app and the CLI give the same numbers for the same seed: the canonical form's recipe
 * (components/edit-forms/canonical-recipe.ts, with the forgetting regulariser on) learned as the
 * worker learns it (lib/edit/learn.ts learnStack) against `causeway forget`'s row for the same
 * example, λ and cap (lib/cli/forget.ts), on the small random GPT-2 of test/fixtures with a
 * tiny dataset.json written next to it. Also: the evaluation sets are built as documented
 * (held-out, out-of-distribution, hard negatives, validation before test).
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalRecipe } from "../components/edit-forms/canonical-recipe";
import { canonicalCommand, forgetCommand } from "../lib/cli/canonical";
import { canonicalCases } from "../lib/edit/canonical-cases";
import type { SettingResult } from "../lib/edit/canonical-suite";
import { learnStack } from "../lib/edit/learn";
import type { LoraEdit } from "../lib/edit/types";
import { Engine } from "../lib/engine";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { canonicalModelDir, DATASET } from "./helpers/canonical-fixture";

let dir: string;
let remove: () => void;

describe("canonical examples: app and CLI agree", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    ({ dir, remove } = canonicalModelDir());
  });
  afterAll(() => remove());

  it("builds held-out, out-of-distribution and hard-negative sets, validation first", () => {
    const { val, test } = canonicalCases(DATASET, { nVal: 1, nTest: 2, ood: 2, capTexts: 100 });
    expect(val.map((c) => c.prefix)).toEqual(["ab is in"]);
    // relations in turn (R's ab, S's ab, R's cd, S's cd, R's ef), one fact per subject
    expect(test.map((c) => c.prefix)).toEqual(["cd is in", "ef went to"]);
    const c = val[0];
    expect(c.suffix).toBe(" y"); // the relation's next object: a counterfactual
    expect(c.heldout).toEqual(["ab went to", "ab is at"]);
    // a story, then another subject's fact that names neither " y" nor " x"
    expect(c.ood).toEqual(["A cat sat. It slept. ab went to", "cd eats p. ab is at"]);
    // other subjects with the same template (not already answering the suffix), same subject
    // other relations
    expect(c.negatives).toEqual([{ prompt: "ab eats", answer: " q", kind: "other_relation" }]);
    expect(test[1].negatives.map((n) => n.prompt)).toEqual([]);
  });

  it("the form's recipe learned as the worker does equals `causeway forget`'s row", async () => {
    const out = (await forgetCommand.run([
      "--model",
      dir,
      "--test",
      "1",
      "--steps",
      "2",
      "--lambda",
      "2",
      "--epsilon",
      "0.05",
      "--layers",
      "0,1",
      "--backend",
      "wasm",
    ])) as { rows: { lambda: number; cap: string | number; result: SettingResult }[] };
    const row = out.rows.find((r) => r.lambda === 2 && r.cap === 0.05);
    expect(row).toBeDefined();

    const c = canonicalCases(DATASET, { nVal: 0, nTest: 1, capTexts: 100 }).test[0];
    const engine = await Engine.load(directorySource(dir), "random");
    try {
      const r = canonicalRecipe(
        {
          prefix: c.prefix,
          suffix: c.suffix,
          first: 0,
          last: 1,
          rank: 4,
          epsilon: 0.05,
          steps: 2,
          lr: 0.01,
          seed: 0,
          forget: 2,
          full: false,
        },
        engine.model.config.nLayer,
      );
      if (!("edit" in r)) throw new Error(r.error);
      const { edits } = await learnStack(engine.model, engine.tokenizer, [r.edit], {
        dataset: DATASET,
      });
      const info = (edits[0] as LoraEdit).learned!.info!;
      expect(info.forget?.lambda).toBe(2);
      expect(info.losses.some((l) => (l.penalty ?? 0) > 0)).toBe(true);
      expect(info.eval_prompts).toEqual(c.heldout);
      expect(info.loss_ratio).toBe(row!.result.cases[0].ratio);
      expect(info.success_rate).toBe(row!.result.cases[0].heldout);
    } finally {
      engine.dispose();
    }
  });

  it("bad flags and a layer range outside the model get clear errors", async () => {
    const run = (cmd: typeof forgetCommand, ...argv: string[]) =>
      cmd.run(["--model", dir, "--backend", "wasm", ...argv]);
    await expect(run(forgetCommand, "--lambda", "-1")).rejects.toThrow(
      /--lambda must be a number above 0/,
    );
    await expect(run(canonicalCommand, "--methods", "lora,sgd")).rejects.toThrow(
      /--methods takes a comma-separated list of lora, lora\+forget, full, rome, memit/,
    );
    await expect(run(canonicalCommand, "--layers", "1,0")).rejects.toThrow(/FIRST,LAST/);
    await expect(
      run(forgetCommand, "--lambda", "1", "--test", "1", "--steps", "1", "--layers", "0,5"),
    ).rejects.toThrow(/site.layers must be \[first, last\] with 0 ≤ first ≤ last ≤ 1/);
    await expect(run(forgetCommand, "--lambda", "1", "--lambdas", "1,2")).rejects.toThrow(
      /--lambda \(one value\) or --lambdas \(a grid\), not both/,
    );
    await expect(run(forgetCommand, "--lambdas", "1,x")).rejects.toThrow(
      /--lambdas takes numbers above 0 separated by commas, got "1,x"/,
    );
    // a λ grid is chosen on validation facts: 5 by default, more than this dataset has
    await expect(run(forgetCommand, "--test", "1")).rejects.toThrow(
      /3 usable known facts; 6 asked for/,
    );
    await expect(run(canonicalCommand, "--val", "1", "--test", "9")).rejects.toThrow(
      /3 usable known facts; 10 asked for/,
    );
  });
});
