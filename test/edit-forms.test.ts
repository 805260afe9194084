/**
 * The edit forms' checks and recipes (components/edit-forms/*-recipe.ts): the ROME template from
 * the trace's prompt and subject, a specific message for each mistake, and head / steering
 * recipes that lib/edit's own parser accepts.
 */
import { describe, expect, it } from "vitest";
import { headRecipe, residRecipe } from "../components/edit-forms/head-recipe";
import { type RomeDraft, romeRecipe, romeTemplate } from "../components/edit-forms/rome-recipe";
import { parseEdit } from "../lib/edit/parse";

const PROMPT = "Ralkrok Stennos lives in the city of";
const draft = (p: Partial<RomeDraft> = {}): RomeDraft => ({
  prompt: PROMPT,
  subject: "Ralkrok Stennos",
  targetNew: "Halvek",
  layer: 0,
  cov: "general_text",
  shrinkage: 0.01,
  steps: 20,
  ...p,
});

describe("ROME form", () => {
  it("makes the template from the prompt and the subject's first occurrence", () => {
    expect(romeTemplate(PROMPT, "Ralkrok Stennos")).toBe("{} lives in the city of");
    expect(romeTemplate("The home city of Ralkrok Stennos is", " Ralkrok Stennos ")).toBe(
      "The home city of {} is",
    );
    expect(romeTemplate(PROMPT, "Paris")).toBeNull();
    expect(romeTemplate(PROMPT, "  ")).toBeNull();
  });

  it("builds a recipe that lib/edit parses, with C, shrinkage and steps", () => {
    const r = romeRecipe(draft({ targetNew: " Halvek " }), 6);
    if ("error" in r) throw new Error(r.error);
    expect(r.edit).toEqual({
      kind: "rome",
      site: { layer: 0 },
      params: {
        prompt: "{} lives in the city of",
        subject: "Ralkrok Stennos",
        target_new: "Halvek",
        cov: "general_text",
        shrinkage: 0.01,
        steps: 20,
      },
    });
    expect(parseEdit(r.edit)).toEqual(r.edit);
    const id = romeRecipe(draft({ cov: "identity" }), 6);
    if ("error" in id) throw new Error(id.error);
    expect(id.edit.params.shrinkage).toBeUndefined();
  });

  it("says what is wrong", () => {
    const err = (p: Partial<RomeDraft>) => {
      const r = romeRecipe(draft(p), 6);
      return "error" in r ? r.error : null;
    };
    expect(err({ targetNew: "  " })).toMatch(/new target/);
    expect(err({ subject: "Paris" })).toMatch(/"Paris" is not in the prompt/);
    expect(err({ subject: "" })).toMatch(/Type the subject/);
    expect(err({ prompt: "" })).toMatch(/prompt is empty/);
    expect(err({ prompt: "Ralkrok Stennos" })).toMatch(/only the subject/);
    expect(err({ layer: 6 })).toMatch(/from 0 to 5/);
    expect(err({ layer: 1.5 })).toMatch(/from 0 to 5/);
    expect(err({ shrinkage: -1 })).toMatch(/γ/);
    expect(err({ shrinkage: -1, cov: "identity" })).toBeNull();
    expect(err({ steps: 0 })).toMatch(/Steps/);
  });
});

describe("head and steering forms", () => {
  const dims = { nLayer: 6, nHead: 4 };
  const base = {
    mode: "ablate_zero" as const,
    layer: 2,
    head: 3,
    position: "last" as const,
    scale: 0.5,
    alpha: 5,
    steerScale: "iti" as const,
    pair: "absc" as const,
    which: "selected" as const,
    topK: 4,
  };

  it("every mode gives an edit lib/edit parses", () => {
    for (const mode of ["ablate_zero", "ablate_mean", "scale", "steer"] as const) {
      for (const which of ["selected", "top_k"] as const) {
        const r = headRecipe({ ...base, mode, which }, dims);
        if ("error" in r) throw new Error(r.error);
        expect(parseEdit(r.edit)).toEqual(r.edit);
      }
    }
    const steer = headRecipe({ ...base, mode: "steer", which: "top_k" }, dims);
    if ("error" in steer) throw new Error(steer.error);
    expect(steer.edit).toMatchObject({ kind: "head_steer", site: { top_k: 4 } });
  });

  it("refuses a head or layer out of range, a non-number scale or α", () => {
    const e = (p: object) => {
      const r = headRecipe({ ...base, ...p }, dims);
      return "error" in r ? r.error : null;
    };
    expect(e({ head: 4 })).toMatch(/head must be .* 0 to 3/);
    expect(e({ layer: -1 })).toMatch(/layer must be .* 0 to 5/);
    expect(e({ mode: "scale", scale: Number.NaN })).toMatch(/scale/);
    expect(e({ mode: "steer", alpha: null })).toMatch(/α/);
    expect(e({ mode: "steer", which: "top_k", topK: 25 })).toMatch(/K must/);
    expect(e({ mode: "steer", which: "top_k", head: 99 })).toBeNull(); // heads come from the probe
  });

  it("residual steering at the clicked position", () => {
    const r = residRecipe(
      { layer: 3, position: "cell", cell: 4, alpha: 2, steerScale: "raw", pair: "consistency" },
      6,
    );
    if ("error" in r) throw new Error(r.error);
    expect(r.edit).toMatchObject({ kind: "resid_steer", site: { layer: 3, position: [4] } });
    expect(parseEdit(r.edit)).toEqual(r.edit);
    const bad = residRecipe(
      { layer: 9, position: "last", cell: null, alpha: 2, steerScale: "raw", pair: "absc" },
      6,
    );
    expect("error" in bad && bad.error).toMatch(/0 to 5/);
  });
});
