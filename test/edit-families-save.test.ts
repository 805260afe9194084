/**
 * `edit --save` on the Llama-family and GPT-NeoX fixtures (lib/edit/checkpoint.ts): the edited
 * checkpoint keeps the family's own hub names and layout, and its logits — read back by the
 * numpy reference (scripts/reference/family_edit_ref.py `logits`) — equal the reference's logits
 * of the same edit applied as an intervention on activations (edits-golden.json, made by the
 * same script from the definitions, never from this code). An edit that needs a bias the family
 * lacks (Llama's down_proj, Llama / Qwen2's o_proj) is left out and listed naming that tensor;
 * the saved file is then exactly the unedited model.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkpointNotes,
  editedCheckpoint,
  editedConfigJson,
  writeSafetensors,
} from "../lib/edit/checkpoint";
import { planEdits } from "../lib/edit/plan";
import type { Edit } from "../lib/edit/types";
import { loadFamilyWeights } from "../lib/load/family-checkpoint";
import { parseFamilyConfig } from "../lib/load/family-config";
import { directorySource } from "../lib/load/node-source";
import { safetensorsHeader } from "../lib/load/safetensors";
import { familyEdit, type GoldenCase, goldens, maxAbsGrid } from "./helpers/family-edits";
import { workLimit } from "./helpers/work-budget";

const ROOT = path.resolve(__dirname, "..");
const FAMILIES = path.join(ROOT, "test", "fixtures", "families");
const REF = path.join(ROOT, "scripts", "reference", "family_edit_ref.py");
const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
const tmp = mkdtempSync(path.join(tmpdir(), "causeway-family-save-"));
/** One numpy run over every saved checkpoint (30 small forwards). */
const REF_MS = workLimit({ units: 1, perUnitMs: 120_000 });

const fixtures = Object.entries(goldens.fixtures);

describe("edit --save on the rotary families", () => {
  it.skipIf(!hasNumpy)(
    `writes the family's own names and layout; the reference reads back the edited model (${hasNumpy ? "numpy" : "SKIPPED: python3 has no numpy"})`,
    async () => {
      const runs: { fixture: string; c: GoldenCase; dir: string; plain: number[][] }[] = [];
      for (const [name, fx] of fixtures) {
        const dir = path.join(FAMILIES, name);
        const configJson = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
        const config = parseFamilyConfig(configJson);
        const { hub } = await loadFamilyWeights(directorySource(dir), config);
        for (const c of fx.cases) {
          const edit = familyEdit(c);
          const before = new Map([...hub].map(([n, t]) => [n, Float32Array.from(t.data)]));
          const ck = editedCheckpoint(config, { hub }, [edit]);
          // the input weights are not changed; untouched tensors are shared, not copied
          for (const [n, t] of hub) expect(t.data, n).toEqual(before.get(n));
          expect([...ck.tensors.keys()]).toEqual([...hub.keys()]);
          const changed = [...ck.tensors].filter(([n, t]) => t !== hub.get(n)).map(([n]) => n);
          if (c.saved) {
            expect(ck.weightEdits, `${name} ${c.name}`).toEqual([0]);
            expect(changed.length).toBeGreaterThan(0);
          } else {
            expect(ck.weightEdits).toEqual([]);
            expect(changed).toEqual([]);
            const want = c.name === "head_mean" ? "self_attn.o_proj.bias" : "mlp.down_proj.bias";
            expect(ck.notWeightEdits[0].reason).toContain(`model.layers.${c.edit.layer}.${want}`);
          }
          const out = path.join(tmp, `${name}-${c.name}`);
          mkdirSync(out);
          writeFileSync(
            path.join(out, "config.json"),
            JSON.stringify(editedConfigJson(configJson)),
          );
          const bytes = writeSafetensors(ck.tensors, { format: "pt" });
          writeFileSync(path.join(out, "model.safetensors"), bytes);
          const header = safetensorsHeader(bytes, "model.safetensors");
          for (const n of ck.tensors.keys()) expect(header.tensors.get(n)?.dtype).toBe("F32");
          runs.push({ fixture: name, c, dir: out, plain: fx.plain });
        }
      }
      const r = spawnSync(
        "python3",
        [REF, "logits", goldens.ids.join(","), ...runs.map((x) => x.dir)],
        {
          encoding: "utf8",
          timeout: REF_MS,
          maxBuffer: 64 << 20,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as number[][][];
      const worst: string[] = [];
      runs.forEach((x, i) => {
        const want = x.c.saved ? x.c.logits : x.plain;
        const d = maxAbsGrid(got[i], want);
        worst.push(`${x.fixture} ${x.c.name} ${d.toExponential(1)}`);
        expect(d, `${x.fixture} ${x.c.name}`).toBeLessThan(1e-4);
        // the edit really moves the logits, so matching is not matching the unedited model
        if (x.c.saved) expect(maxAbsGrid(x.c.logits, x.plain)).toBeGreaterThan(0.1);
      });
      console.log(`saved checkpoint vs reference, max |Δ logit|: ${worst.join("; ")}`);
    },
    REF_MS + 60_000,
  );

  it("says when BF16 / F16 weights are written as F32, and config.json follows", () => {
    const cfg = JSON.parse(
      readFileSync(path.join(FAMILIES, "llama-gqa-bf16", "config.json"), "utf8"),
    );
    expect(checkpointNotes(cfg)[0]).toMatch(/bfloat16.*float32 \(F32\)/);
    expect(editedConfigJson(cfg).torch_dtype).toBe("float32");
    expect(cfg.torch_dtype).toBe("bfloat16");
    expect(checkpointNotes({ model_type: "gpt2" })).toEqual([]);
  });

  it("refuses, naming it, a site the family does not have", () => {
    const cfgOf = (n: string) =>
      parseFamilyConfig(JSON.parse(readFileSync(path.join(FAMILIES, n, "config.json"), "utf8")));
    const llama = cfgOf("llama-gqa-bf16");
    const pythia = cfgOf("pythia-parallel-f16");
    const lora = (modules: string[]) =>
      ({
        kind: "lora",
        site: { layers: [0, 0] },
        params: { prefix: "a", suffix: " b", modules },
      }) as unknown as Edit;
    const plan = (config: typeof llama, e: Edit) => () => planEdits([e], config);
    expect(plan(llama, lora(["c_attn"]))).toThrow(
      /LoRA module "c_attn" does not exist on a Llama-family model \(gate_proj, up_proj, down_proj, q_proj, k_proj, v_proj, o_proj\)/,
    );
    expect(plan(pythia, lora(["gate_proj"]))).toThrow(/"gate_proj" does not exist on a GPT-NeoX/);
    const mid = {
      kind: "resid_steer",
      site: { layer: 0, hook: "resid_mid", position: "all" },
      params: { alpha: 1 },
      learned: { direction: new Array(32).fill(0), norm: 1, sigma: 1 },
    } as unknown as Edit;
    expect(plan(pythia, mid)).toThrow(/hook_resid_mid does not exist in a parallel-residual/);
    expect(() => planEdits([mid], cfgOf("neox-sequential-bf16"))).not.toThrow();
    const head = { kind: "head_scale", site: { layer: 0, head: 4 }, params: { scale: 0 } } as Edit;
    expect(plan(llama, head)).toThrow(/head must be 0 to 3/);
    // head_dim 12 ≠ 32 / 4: a mean of 12 numbers fits, 8 does not
    const mean = (n: number) =>
      ({
        kind: "head_ablate",
        site: { layer: 0, head: 0, position: "all" },
        params: { mode: "mean", prompts: ["a"] },
        learned: { mean: new Array(n).fill(0.1) },
      }) as Edit;
    expect(plan(llama, mean(8))).toThrow(/learned.mean must be 12 finite numbers/);
    expect(plan(llama, mean(12))).not.toThrow();
  });
});
