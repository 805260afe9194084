/**
 * `causeway edit --save` on the bundled Llama model (tiny-facts-llama) end to end through
 * bin/causeway.mjs: the saved checkpoint has Llama's own tensor names (model.layers.*, F32), it
 * predicts what the edited model predicts (`predict --edits` with the weight edits), and a mean
 * ablation — which needs an o_proj bias Llama lacks — is listed as not a weight change, naming
 * that tensor.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { safetensorsHeader } from "../lib/load/safetensors";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";

const dir = mkdtempSync(path.join(tmpdir(), "causeway-edit-llama-"));
const PROMPT = "Ralkrok Stennos lives in the city of";
/** One edit run (ROME, 8 steps on a 6-layer model) and two predictions. */
const CLI_MS = workLimit({ units: 3, perUnitMs: 120_000 });

const STACK = {
  version: 1,
  edits: [
    {
      kind: "rome",
      site: { layer: 1 },
      params: {
        prompt: "{} lives in the city of",
        subject: "Ralkrok Stennos",
        target_new: "Belkor",
        cov: "identity",
        steps: 8,
        context: { lengths: [4], per_length: 1 },
      },
    },
    { kind: "head_ablate", site: { layer: 2, head: 1, position: "all" }, params: { mode: "zero" } },
    {
      kind: "head_ablate",
      site: { layer: 3, head: 0, position: "all" },
      params: { mode: "mean", prompts: ["the cat sat", "a dog ran"] },
    },
  ],
};

describe("causeway edit --save on tiny-facts-llama", () => {
  it(
    "writes Llama's own names; the saved model predicts as the edited one; the mean ablation is named",
    async () => {
      const edits = path.join(dir, "edits.json");
      const learned = path.join(dir, "learned.json");
      const save = path.join(dir, "saved");
      writeFileSync(edits, JSON.stringify(STACK));
      const r = await runCli([
        "edit",
        "--model",
        "tiny-facts-llama",
        "--edit",
        edits,
        "--out",
        learned,
        "--save",
        save,
        "--quiet",
        "--json",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.saved.weight_edits).toEqual([0, 1]);
      expect(j.saved.not_weight_changes).toHaveLength(1);
      expect(j.saved.not_weight_changes[0].index).toBe(2);
      expect(j.saved.not_weight_changes[0].reason).toContain(
        "model.layers.3.self_attn.o_proj.bias",
      );

      const bytes = readFileSync(path.join(save, "model.safetensors"));
      const header = safetensorsHeader(bytes, "model.safetensors");
      expect(header.tensors.get("model.layers.1.mlp.down_proj.weight")?.dtype).toBe("F32");
      expect([...header.tensors.keys()].some((n) => n.startsWith("transformer."))).toBe(false);

      // the edited model with the weight edits only (the mean ablation disabled), as --edits
      const file = JSON.parse(readFileSync(learned, "utf8"));
      file.edits[2].enabled = false;
      const weightOnly = path.join(dir, "weight-only.json");
      writeFileSync(weightOnly, JSON.stringify(file));
      const [saved, edited, plain] = await Promise.all([
        runCli(["predict", "--model", save, "--prompt", PROMPT, "--top", "5", "--json"]),
        runCli([
          "predict",
          "--model",
          "tiny-facts-llama",
          "--edits",
          weightOnly,
          "--prompt",
          PROMPT,
          "--top",
          "5",
          "--json",
        ]),
        runCli([
          "predict",
          "--model",
          "tiny-facts-llama",
          "--prompt",
          PROMPT,
          "--top",
          "5",
          "--json",
        ]),
      ]);
      for (const x of [saved, edited, plain]) expect(x.code, x.stderr).toBe(0);
      const [a, b, c] = [saved, edited, plain].map(
        (x) => JSON.parse(x.stdout).top as { id: number; prob: number }[],
      );
      expect(a.map((t) => t.id)).toEqual(b.map((t) => t.id));
      a.forEach((t, i) => {
        expect(Math.abs(t.prob - b[i].prob)).toBeLessThan(1e-5);
      });
      // and the edits changed the prediction
      expect(Math.max(...a.map((t, i) => Math.abs(t.prob - (c[i]?.prob ?? 0))))).toBeGreaterThan(
        1e-3,
      );
    },
    CLI_MS,
  );
});
