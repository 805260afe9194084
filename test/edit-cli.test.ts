/**
 * `causeway edit` and `causeway predict --edits` end to end through the CLI (lib/cli/main.ts) on the tiny
 * 4-layer fixture model (byte-level tokenizer, so ROME's target is two tokens here): learning a
 * stack, the JSON it prints, the learned file read back, the saved checkpoint predicting what the
 * edited model predicts, and one-line errors with exit code 2.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli as cli } from "./helpers/run-cli";
import { TINY_DIR } from "./interp-helpers";

const dir = mkdtempSync(path.join(tmpdir(), "causeway-edit-"));
const file = (name: string, json: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, JSON.stringify(json));
  return p;
};

const WEIGHT_STACK = {
  version: 1,
  edits: [
    {
      kind: "rome",
      site: { layer: 1 },
      params: {
        prompt: "{} is in",
        subject: "Bob",
        target_new: "Xy",
        target_true: "Al",
        paraphrase_prompts: ["Bob lives in"],
        neighborhood_prompts: ["Ann is in"],
        cov: "identity",
        steps: 4,
        context: { lengths: [4], per_length: 1 },
      },
    },
    { kind: "head_ablate", site: { layer: 2, head: 1, position: "all" }, params: { mode: "zero" } },
    {
      kind: "head_steer",
      site: { heads: [{ layer: 1, head: 0 }], position: "all" },
      params: { alpha: 2, positive: ["good day", "good cat"], negative: ["bad day", "bad cat"] },
    },
  ],
};

describe("causeway edit", () => {
  it("learns a stack, evaluates it, writes the learned file and a checkpoint that predicts the same", async () => {
    const out = path.join(dir, "learned.json");
    const save = path.join(dir, "saved");
    const r = await cli([
      "edit",
      "--model",
      TINY_DIR,
      "--edit",
      file("stack.json", WEIGHT_STACK),
      "--eval",
      "--save",
      save,
      "--out",
      out,
      "--json",
    ]);
    expect(r.stderr).toMatch(/ROME step 1\/4/);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.mode).toBe("stack");
    expect(j.edits.map((e: { learned_now: boolean }) => e.learned_now)).toEqual([
      true,
      false,
      true,
    ]);
    expect(j.edits.every((e: { weight_change: boolean }) => e.weight_change)).toBe(true);
    expect(j.eval.counterfact.edited.n_cases).toBe(1);
    for (const k of ["efficacy", "paraphrase", "neighborhood", "score"]) {
      expect(typeof j.eval.counterfact.edited[k]).toBe("number");
    }
    expect(j.eval.general_text).toBeUndefined(); // the fixture has no dataset.json
    expect(j.saved.not_weight_changes).toEqual([]);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json"]) {
      expect(existsSync(path.join(save, f))).toBe(true);
    }
    const learned = JSON.parse(readFileSync(out, "utf8"));
    expect(learned.edits[0].learned.u).toHaveLength(128);
    expect(learned.edits[0].learned.info.losses).toHaveLength(4);

    const prompt = "Bob is in";
    const [edited, saved, plain] = await Promise.all([
      cli([
        "predict",
        "--model",
        TINY_DIR,
        "--prompt",
        prompt,
        "--edits",
        out,
        "--top",
        "5",
        "--json",
      ]),
      cli(["predict", "--model", save, "--prompt", prompt, "--top", "5", "--json"]),
      cli(["predict", "--model", TINY_DIR, "--prompt", prompt, "--top", "5", "--json"]),
    ]);
    for (const x of [edited, saved, plain]) expect(x.code, x.stderr).toBe(0);
    const [a, b, c] = [edited, saved, plain].map((x) => JSON.parse(x.stdout).top);
    expect(a.map((t: { id: number }) => t.id)).toEqual(b.map((t: { id: number }) => t.id));
    a.forEach((t: { prob: number }, i: number) => {
      expect(Math.abs(t.prob - b[i].prob)).toBeLessThan(1e-5);
    });
    expect(JSON.parse(edited.stdout).edits).toBe(3);
    expect(a).not.toEqual(c);
  });

  it("says which edits are not weight changes", async () => {
    const stack = {
      edits: [
        { kind: "head_scale", site: { layer: 0, head: 2, position: "all" }, params: { scale: 0 } },
        {
          kind: "resid_steer",
          site: { layer: 1, position: "last" },
          params: { alpha: 1, vector: new Array(32).fill(0.1) },
          eval: { prompts: ["good day", "bad day"], target: "!", foil: "?" },
        },
      ],
    };
    const save = path.join(dir, "saved2");
    const r = await cli([
      "edit",
      "--model",
      TINY_DIR,
      "--edit",
      file("s2.json", stack),
      "--save",
      save,
      "--alphas",
      "0,1,4",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.edits.map((e: { weight_change: boolean }) => e.weight_change)).toEqual([true, false]);
    expect(j.saved.weight_edits).toEqual([0]);
    expect(j.saved.not_weight_changes).toHaveLength(1);
    expect(j.saved.not_weight_changes[0]).toMatchObject({ index: 1 });
    expect(j.saved.not_weight_changes[0].reason).toMatch(/last position/);
    expect(j.alpha_curves).toHaveLength(1);
    expect(j.alpha_curves[0].curve.map((c: { alpha: number }) => c.alpha)).toEqual([0, 1, 4]);
    const d = j.alpha_curves[0].curve.map(
      (c: { mean_logprob_diff: number }) => c.mean_logprob_diff,
    );
    expect(d[0]).not.toBe(d[2]);
  });

  it("refuses bad input in one line with exit code 2", async () => {
    const [bad, none, big, cf] = await Promise.all([
      cli([
        "edit",
        "--model",
        TINY_DIR,
        "--edit",
        file("bad.json", [{ kind: "rome", site: {}, params: {} }]),
        "--json",
      ]),
      cli(["edit", "--model", TINY_DIR, "--json"]),
      cli([
        "edit",
        "--model",
        TINY_DIR,
        "--edit",
        file("big.json", [
          { kind: "head_scale", site: { layer: 7, head: 0 }, params: { scale: 2 } },
        ]),
        "--json",
      ]),
      cli(["edit", "--model", TINY_DIR, "--counterfact", "5", "--json"]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^causeway: edit 0: params.prompt must be a string/);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--edit FILE or --counterfact N/);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/layer must be 0 to 3/);
    expect(cf.code).toBe(2);
    expect(cf.stderr).toMatch(/no counterfact cases/);
  });
});
