/**
 * Bad input to batch editing (issue 14), each refused with a specific error naming the case,
 * request or line, before any learning, and nothing already learned lost: a corpus too small
 * for a positive-definite C under ROME (γ = 0), a rewrite whose subject has no slot in its
 * prompt or two, a batch with one subject twice (named by case), and, from the command line, an
 * editing-data file in the wrong format (exit code 2, one line). MEMIT's singular C is
 * test/edit-memit.test.ts; the file formats one by one are test/edit-eval-import.test.ts.
 */
import "../lib/model/backends-node";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyBatchEdit } from "../lib/edit/batch-edit";
import type { Edit, RewriteRequest } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;

const req = (o: Partial<RewriteRequest> = {}): RewriteRequest => ({
  prompt: "{} lives in the city of",
  subject: "Ralkrok Stennos",
  target_new: "Orvane",
  ...o,
});

describe.skipIf(!present)("bad input to batch editing", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("ROME with γ = 0 and a corpus too small for a positive-definite C: refused before any step", async () => {
    const progress: string[] = [];
    const e = await applyBatchEdit({
      model: engine.model,
      tok: engine.tokenizer,
      method: "rome",
      requests: [req()],
      romeParams: { cov: "general_text", shrinkage: 0 },
      dataset: { general_text: ["a cat.", "dogs run"] },
      onProgress: (p) => progress.push(p.phase),
    }).catch((x) => x);
    expect(String(e.message)).toMatch(
      /rome layer 0: C is not positive definite \(C from \d+ tokens of general_text, d_mlp 512, shrinkage 0\): give a larger corpus \(at least 512 tokens\) or shrinkage > 0/,
    );
    expect(progress).toEqual([]);
  });

  it("a subject without exactly one slot, or twice in a batch: named by case and request; the stack is untouched", async () => {
    const before: Edit[] = [
      { kind: "rome", site: { layer: 0 }, params: { ...req(), subject: "Vonbak Nerbak" } },
    ];
    const snapshot = structuredClone(before);
    const run = (requests: RewriteRequest[]) =>
      applyBatchEdit({ model: engine.model, tok: engine.tokenizer, method: "memit", requests })
        .then(() => null)
        .catch((x) => String(x.message));
    expect(await run([req({ case_id: 4, prompt: "Ralkrok Stennos lives in" })])).toMatch(
      /case 4, request 0 \("Ralkrok Stennos"\): prompt "Ralkrok Stennos lives in" has no "\{\}" for the subject/,
    );
    expect(await run([req({ case_id: 5, prompt: "{} met {} in" })])).toMatch(
      /case 5, request 0 .*has "\{\}" 2 times: one slot for the subject/,
    );
    expect(
      await run([
        req({ case_id: 112 }),
        req({ case_id: 7, subject: "Vonbak Nerbak" }),
        req({ case_id: 113, prompt: "{} works as a" }),
      ]),
    ).toMatch(
      /case 113, request 2 \("Ralkrok Stennos"\): the same subject as request 0 \(case 112\): one subject per batch/,
    );
    expect(before).toEqual(snapshot);
  });

  it(
    "causeway edit --dataset with a wrong CounterFact file exits 2 naming the case",
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "cw-bad-"));
      const file = path.join(dir, "bad.json");
      const rewrite = {
        prompt: "Ralkrok Stennos lives in the city of",
        subject: "Ralkrok Stennos",
        target_new: { str: "Orvane" },
        target_true: { str: "Parrow" },
      };
      writeFileSync(
        file,
        JSON.stringify([
          {
            case_id: 41,
            requested_rewrite: rewrite,
            paraphrase_prompts: [],
            neighborhood_prompts: [],
          },
        ]),
      );
      const r = await runCli([
        "edit",
        "--model",
        "tiny-facts",
        "--dataset",
        file,
        "--counterfact",
        "1",
        "--json",
      ]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toEqual([
        `causeway: ${file}: counterfact[0] (case_id 41): the subject "Ralkrok Stennos" is not in its prompt "Ralkrok Stennos lives in the city of" (no "{}" where it goes)`,
      ]);
    },
    workLimit({ units: 1, perUnitMs: 30_000 }),
  );
});
