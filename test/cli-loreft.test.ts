/**
 * LoReFT through the CLI (lib/cli/main.ts) on the bundled model: `causeway edit` learns a
 * loreft recipe, reports ABSC accuracy before/after with --eval (the same numbers the edit's
 * learned.info carries), and --save says it is not a weight change; `causeway trace --edits`
 * traces the edited model (fast = naive; different from the unedited trace); bad input gives a
 * one-line error with exit code 2. Skipped when the bundled model is absent.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, maxDiff } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const dir = mkdtempSync(path.join(tmpdir(), "causeway-loreft-"));
const recipeFile = path.join(dir, "loreft.json");
const learnedFile = path.join(dir, "learned.json");
/** A CLI run loads the model (~2 s idle); LoReFT's 8 steps and the 300-review evaluation ~15 s idle; at a load of 15–20 on 2 cores it took 420 s. */
const CLI_RUN_MS = 600_000;
const PROMPT =
  "Review: the staff seemed horrible whereas the price is perfect. Sentiment of staff:";

describe.skipIf(!present)("LoReFT in the CLI", () => {
  it(
    "causeway edit learns it, evaluates ABSC accuracy, and --save says it is no weight change",
    async () => {
      writeFileSync(
        recipeFile,
        JSON.stringify({
          version: 1,
          edits: [{ kind: "loreft", site: { layers: [2] }, params: { steps: 8, n_train: 8 } }],
        }),
      );
      const save = path.join(dir, "ckpt");
      const r = await runCli([
        "edit",
        "--model",
        "tiny-facts",
        "--edit",
        recipeFile,
        "--eval",
        "--save",
        save,
        "--out",
        learnedFile,
        "--quiet",
        "--json",
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.edits[0]).toMatchObject({
        kind: "loreft",
        learned_now: true,
        weight_change: false,
      });
      const info = out.learned_edits[0].learned.info;
      expect(info.losses).toHaveLength(9);
      expect(out.eval.absc.n_test).toBe(300);
      expect(out.eval.absc.original_accuracy).toBeCloseTo(info.accuracy_before, 10);
      expect(out.eval.absc.edited_accuracy).toBeCloseTo(info.accuracy_after, 10);
      expect(out.saved.weight_edits).toEqual([]);
      expect(out.saved.not_weight_changes[0].reason).toMatch(/LoReFT .*not a weight change/);
      const learned = JSON.parse(readFileSync(learnedFile, "utf8"));
      expect(learned.edits[0].learned.layers[0].R).toHaveLength(4 * 128);
    },
    workLimit({ units: 2, perUnitMs: CLI_RUN_MS }),
  ); // learning + evaluation

  it(
    "causeway trace --edits traces the edited model",
    async () => {
      const trace = async (extra: string[]) => {
        const r = await runCli([
          "trace",
          "--model",
          "tiny-facts",
          "--prompt",
          PROMPT,
          "--subject",
          "staff",
          "--target",
          " negative",
          "--samples",
          "2",
          ...extra,
          "--json",
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        return JSON.parse(r.stdout);
      };
      const plain = await trace([]);
      const fast = await trace(["--edits", learnedFile]);
      const naive = await trace(["--edits", learnedFile, "--strategy", "naive"]);
      expect(plain.edits).toBeUndefined();
      expect(fast.edits).toBe(1);
      expect(Math.abs(fast.high_score - plain.high_score)).toBeGreaterThan(1e-4);
      expect(maxDiff(fast.scores.flat(), naive.scores.flat())).toBeLessThan(1e-5);
      expect(fast.high_score).toBeCloseTo(naive.high_score, 6);
    },
    workLimit({ units: 3, perUnitMs: CLI_RUN_MS }),
  ); // three traces

  it(
    "bad edit files are one-line errors with exit code 2",
    async () => {
      const bad = path.join(dir, "bad.json");
      writeFileSync(
        bad,
        JSON.stringify([{ kind: "loreft", site: { position: "all" }, params: {} }]),
      );
      const r = await runCli(["trace", "--prompt", PROMPT, "--subject", "staff", "--edits", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/site.position must be "last", "aspect"/);
    },
    workLimit({ units: 1, perUnitMs: CLI_RUN_MS }),
  );
});
