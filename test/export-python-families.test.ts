/**
 * The exported Python script (lib/export/python.ts) on the Llama-family and GPT-NeoX fixtures,
 * run with Debian's /usr/bin/python3 torch: its forward of each family, with a ROME rank-one
 * update written into the family's own down-projection (down_proj / dense_4h_to_h, nn.Linear
 * [d_model, d_mlp]: W += v uᵀ), gives the numpy reference's logits of the same update applied to
 * the MLP output (scripts/reference/family_edit_ref.py → edits-golden.json); and its causal trace
 * runs on a family checkpoint with a high score equal to the reference's probability; on the
 * bundled tiny-facts-llama (BOS, GQA, untied head) the script's three traces equal the app's
 * (lib/interp runTrace on wasm), with and without a ROME update.
 */
import "../lib/model/backends-node";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import type { Edit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { type PythonTraceInput, pythonScript } from "../lib/export/python";
import { GaussianRng } from "../lib/interp/rng";
import type { TraceKind } from "../lib/interp/spec";
import { runTrace } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import { familyEdit, goldens, maxAbsGrid } from "./helpers/family-edits";
import { hasTorch, TorchScripts } from "./helpers/torch-scripts";
import { workLimit } from "./helpers/work-budget";
import { loadEngine } from "./interp-helpers";

const FAMILIES = path.resolve(__dirname, "fixtures", "families");
const tmp = mkdtempSync(path.join(tmpdir(), "causeway-py-families-"));
/** One torch run of a generated script on a 2-layer fixture (torch's import dominates). */
const SCRIPT_MS = workLimit({ units: 1, perUnitMs: 120_000 });
const fixtures = Object.entries(goldens.fixtures);

function input(model: string, extra: Partial<PythonTraceInput> = {}): PythonTraceInput {
  return {
    model,
    inputIds: goldens.ids,
    inputTokens: goldens.ids.map(String),
    subject: [1, 3],
    targetIds: [0],
    answer: "?",
    kinds: ["hidden"],
    samples: 2,
    noise: 3,
    seed: 5,
    window: 1,
    corruptIds: null,
    edits: [],
    defaultRomeLayer: 0,
    ...extra,
  };
}

const torch = new TorchScripts();
afterAll(() => torch.close());

async function runScript(name: string, script: string, args: string[]): Promise<unknown> {
  const file = path.join(tmp, `${name}.py`);
  const out = path.join(tmp, `${name}.json`);
  writeFileSync(file, script);
  const r = await torch.run(file, ["--device", "cpu", "--out", out, ...args], SCRIPT_MS);
  const why = r.status === null ? " (CAUSEWAY_TEST_TIME_SCALE raises the limit)" : "";
  expect(r.status, r.output + why).toBe(0);
  return JSON.parse(readFileSync(out, "utf8"));
}

describe.skipIf(!hasTorch)(
  `export to Python on the rotary families (${hasTorch ? "torch at /usr/bin/python3" : "SKIPPED: /usr/bin/python3 has no torch"})`,
  () => {
    it.each(fixtures)(
      "%s: the script's forward with a ROME update gives the reference's logits",
      async (name, fx) => {
        const rome = fx.cases.find((c) => c.name === "rome")!;
        const script = pythonScript(
          input(path.join(FAMILIES, name), { edits: [familyEdit(rome)] }),
        );
        const got = (await runScript(`${name}-rome`, script, [
          "--logits",
          "--dtype",
          "float64",
        ])) as {
          logits: number[][];
        };
        const d = maxAbsGrid(got.logits, rome.logits);
        console.log(
          `${name}: python (torch float64) vs reference with ROME, max |Δ| ${d.toExponential(1)}`,
        );
        expect(d).toBeLessThan(1e-4);
        // the update moves the logits, so this is not a match with the unedited model
        expect(maxAbsGrid(rome.logits, fx.plain)).toBeGreaterThan(0.1);
      },
      SCRIPT_MS,
    );

    it(
      "traces a family checkpoint: high score = the reference's probability of the answer",
      async () => {
        const name = "pythia-parallel-f16";
        const plain = goldens.fixtures[name].plain;
        const last = plain[plain.length - 1];
        const target = last.indexOf(Math.max(...last));
        const z = last.reduce((s, x) => s + Math.exp(x - last[target]), 0);
        const script = pythonScript(
          input(path.join(FAMILIES, name), { targetIds: [target], kinds: ["hidden", "mlp"] }),
        );
        const res = (await runScript(`${name}-trace`, script, [])) as {
          kind: string;
          high_score: number;
          low_score: number;
          scores: number[][];
        }[];
        expect(res.map((r) => r.kind)).toEqual(["hidden", "mlp"]);
        for (const r of res) {
          expect(Math.abs(r.high_score - 1 / z)).toBeLessThan(1e-5);
          expect(r.scores).toHaveLength(goldens.ids.length);
          expect(r.scores[0]).toHaveLength(2);
          // restoring the last layer's output at the last token restores the clean run exactly
          if (r.kind === "hidden")
            expect(r.scores[goldens.ids.length - 1][1]).toBeCloseTo(r.high_score, 5);
        }
      },
      SCRIPT_MS,
    );
  },
);

const LLAMA_DIR = path.resolve(__dirname, "..", "public", "models", "tiny-facts-llama");
const hasLlama = existsSync(path.join(LLAMA_DIR, "model.safetensors"));
/** Three app traces (6 layers, ~10 tokens, 2 samples) and one torch run of the script. */
const TRACE_MS = workLimit({ units: 2, perUnitMs: 300_000 });

describe.skipIf(!hasTorch || !hasLlama)("export to Python on tiny-facts-llama", () => {
  let engine: Engine;
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(LLAMA_DIR);
  });
  afterAll(() => engine?.dispose());

  const KINDS: TraceKind[] = ["hidden", "mlp", "attn"];
  async function compare(name: string, edits: Edit[]) {
    const host = edits.length > 0 ? applyEdits(engine.model, edits) : null;
    const prompt = "Ralkrok Stennos lives in the city of";
    const first = await runTrace(engine, {
      prompt,
      subject: "Ralkrok Stennos",
      kind: "hidden",
      samples: 1,
    });
    const spec = { prompt: first.ids, subject: first.subject, samples: 2, noise: 3, seed: 7 };
    const results = [];
    for (const kind of KINDS) {
      const model = host ? { model: host.view(first.ids.length) } : engine;
      results.push(await runTrace(model, { ...spec, kind }));
    }
    host?.dispose();
    const r0 = results[0];
    const script = pythonScript(
      input(LLAMA_DIR, {
        inputIds: r0.ids,
        inputTokens: r0.tokens,
        subject: r0.subject,
        targetIds: r0.answer.ids,
        answer: r0.answer.token,
        kinds: KINDS,
        samples: 2,
        noise: 3,
        seed: 7,
        window: r0.window,
        edits,
      }),
    );
    const py = (await runScript(name, script, [])) as {
      kind: string;
      scores: number[][];
      low_score: number;
      high_score: number;
    }[];
    const diffs = results.map((r, i) => maxAbsGrid(py[i].scores, r.scores));
    console.log(
      `tiny-facts-llama ${name}: python vs app (wasm), max |Δ| per kind ${diffs.map((d) => d.toExponential(1)).join(", ")}`,
    );
    results.forEach((r, i) => {
      expect(py[i].kind).toBe(KINDS[i]);
      expect(Math.abs(py[i].high_score - r.high)).toBeLessThan(1e-4);
      expect(Math.abs(py[i].low_score - r.low)).toBeLessThan(1e-4);
      expect(diffs[i]).toBeLessThan(1e-4);
    });
    // the BOS the app's tokenizer put first is in the script's ids too
    const { bos_token_id } = JSON.parse(readFileSync(path.join(LLAMA_DIR, "config.json"), "utf8"));
    expect(r0.ids[0]).toBe(bos_token_id);
    return results;
  }

  it(
    "the script's traces equal the app's, and with a ROME update (down_proj += v uᵀ)",
    async () => {
      const plain = await compare("llama-plain", []);
      const rng = new GaussianRng(3);
      const { dMlp, dModel } = engine.model.config;
      const rome = {
        kind: "rome",
        site: { layer: 1 },
        params: {
          prompt: "{} lives in the city of",
          subject: "Ralkrok Stennos",
          target_new: "Rome",
        },
        learned: {
          u: Array.from({ length: dMlp }, () => rng.nextNormal() / Math.sqrt(dMlp)),
          // large enough to move a confident answer (the trained model gives p ≈ 1)
          v: Array.from({ length: dModel }, () => rng.nextNormal() * 8),
        },
      } as Edit;
      const edited = await compare("llama-rome", [rome]);
      expect(Math.abs(edited[0].high - plain[0].high)).toBeGreaterThan(1e-3);
    },
    2 * TRACE_MS,
  );
});
