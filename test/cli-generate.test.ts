/**
 * `causeway generate` and LoRA edits through the CLI (lib/cli/main.ts) on the bundled model:
 * token ids equal the numpy reference's (test/fixtures/generate/bundled.json), --edits prints
 * the original and the edited text side by side, a lora recipe is learned by `causeway edit`
 * (its info written to --out), `--save` writes the LoRA delta into a checkpoint that predicts
 * what the edited model predicts, and bad flags are one-line errors with exit code 2.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli as cli } from "./helpers/run-cli";
import { BUNDLED_DIR } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const fx = JSON.parse(readFileSync(path.join(__dirname, "fixtures/generate/bundled.json"), "utf8"));
const dir = mkdtempSync(path.join(tmpdir(), "causeway-generate-"));
const file = (name: string, json: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, JSON.stringify(json));
  return p;
};
const LORA_FILE = () =>
  file("lora.json", {
    version: 1,
    edits: [
      {
        kind: "lora",
        site: { layers: fx.lora.layers },
        params: { prefix: "x", suffix: " y", rank: fx.lora.rank, alpha: fx.lora.alpha },
        learned: { factors: fx.lora.factors },
      },
    ],
  });

describe.skipIf(!present)("causeway generate", () => {
  it("greedy and seeded sampling give the reference ids", async () => {
    const g = fx.greedy[1];
    const s = fx.sampled[1];
    const [a, b] = await Promise.all([
      cli(["generate", "--prompt", g.prompt, "--max-new", "12", "--json"]),
      cli([
        "generate",
        "--prompt",
        s.prompt,
        "--max-new",
        "12",
        "--sample",
        "--seed",
        String(s.seed),
        "--temperature",
        String(s.temperature),
        "--top-k",
        String(s.top_k),
        "--json",
      ]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ja = JSON.parse(a.stdout);
    expect(ja.prompt_ids).toEqual(g.prompt_ids);
    expect(ja.original.ids).toEqual(g.ids);
    expect(ja.original.stop).toBe("max_new");
    expect(ja.edited).toBeUndefined();
    expect(JSON.parse(b.stdout).original.ids).toEqual(s.ids);
  });

  it("--edits prints original and edited side by side (text and JSON)", async () => {
    const edits = LORA_FILE();
    const [j, t] = await Promise.all([
      cli(["generate", "--prompt", fx.lora.prompt, "--max-new", "12", "--edits", edits, "--json"]),
      cli(["generate", "--prompt", fx.lora.prompt, "--max-new", "12", "--edits", edits]),
    ]);
    expect(j.code, j.stderr).toBe(0);
    const r = JSON.parse(j.stdout);
    expect(r.original.ids).toEqual(fx.greedy[0].ids);
    expect(r.original.stop).toBe("eos");
    expect(r.edited.ids).toEqual(fx.lora.ids);
    expect(r.edited.edits).toBe(1);
    expect(t.code, t.stderr).toBe(0);
    const lines = t.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^greedy/);
    expect(lines[1]).toMatch(/^original .*\[eos\]$/);
    expect(lines[2]).toMatch(/^edited /);
    expect(lines[2]).toContain(JSON.stringify(r.edited.text));
  });

  it("bad flags are one-line errors with exit code 2", async () => {
    const bad = await Promise.all([
      cli(["generate", "--max-new", "3"]),
      cli(["generate", "--prompt", "The", "--seed", "3"]),
      cli(["generate", "--prompt", "The", "--sample", "--temperature", "0"]),
      cli(["generate", "--prompt", "The", "--max-new", "-2"]),
      cli(["generate", "--prompt", "The", "--edits", path.join(dir, "missing.json")]),
      cli([
        "generate",
        "--prompt",
        "The",
        "--edits",
        file("bad.json", [{ kind: "lora", site: {}, params: { prefix: "a" } }]),
      ]),
    ]);
    const want = [
      /--prompt/,
      /--seed needs --sample/,
      /--temperature/,
      /--max-new/,
      /does not exist/,
      /params.suffix/,
    ];
    bad.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(want[i]);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  });

  it("edit --save writes the LoRA delta into a checkpoint that predicts the same (≤ 1e-5)", async () => {
    const save = path.join(dir, "saved");
    const edits = LORA_FILE();
    const s = await cli([
      "edit",
      "--model",
      "tiny-facts",
      "--edit",
      edits,
      "--save",
      save,
      "--quiet",
      "--json",
    ]);
    expect(s.code, s.stderr).toBe(0);
    const js = JSON.parse(s.stdout);
    expect(js.saved.weight_edits).toEqual([0]);
    expect(js.saved.not_weight_changes).toEqual([]);
    const prompt = fx.lora.prompt;
    const [edited, saved, plain] = await Promise.all([
      cli(["predict", "--prompt", prompt, "--top", "8", "--edits", edits, "--json"]),
      cli(["predict", "--model", save, "--prompt", prompt, "--top", "8", "--json"]),
      cli(["predict", "--prompt", prompt, "--top", "8", "--json"]),
    ]);
    for (const x of [edited, saved, plain]) expect(x.code, x.stderr).toBe(0);
    const [a, b, c] = [edited, saved, plain].map((x) => JSON.parse(x.stdout).top);
    expect(b.map((t: { id: number }) => t.id)).toEqual(a.map((t: { id: number }) => t.id));
    for (const [i, t] of (a as { prob: number }[]).entries()) {
      expect(Math.abs(t.prob - b[i].prob)).toBeLessThan(1e-5);
    }
    expect(c[0].id).not.toBe(a[0].id); // the edit changes the prediction
  });

  it("causeway edit learns a lora recipe and writes its canonical measures", async () => {
    const recipe = file("recipe.json", [
      {
        kind: "lora",
        params: {
          prefix: "Ralkrok Stennos lives in the city of",
          suffix: " Orvane",
          steps: 3,
          texts: 10,
        },
      },
    ]);
    const out = path.join(dir, "learned.json");
    const r = await cli([
      "edit",
      "--model",
      "tiny-facts",
      "--edit",
      recipe,
      "--out",
      out,
      "--quiet",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const learned = JSON.parse(readFileSync(out, "utf8")).edits[0];
    expect(learned.kind).toBe("lora");
    expect(learned.site.layers).toEqual([0, 1]);
    expect(learned.learned.factors).toHaveLength(2);
    const info = learned.learned.info;
    expect(info.losses).toHaveLength(4);
    expect(info.n_eval).toBe(6);
    expect(info.loss_ratio).toBeLessThanOrEqual(1 + info.epsilon);
    expect(info.losses[3].loss).toBeLessThan(info.losses[0].loss);
  });
});
