/**
 * The edit forms' checks and recipes (components/edit-forms/*-recipe.ts): the ROME template from
 * the trace's prompt and subject, a specific message for each mistake, and head / steering
 * recipes that lib/edit's own parser accepts.
 */
import { describe, expect, it } from "vitest";
import {
  headModeNeedsDataset,
  headRecipe,
  residRecipe,
} from "../components/edit-forms/head-recipe";
import { loreftRecipe } from "../components/edit-forms/loreft-recipe";
import {
  datasetAvailability,
  defaultCov,
  noDatasetReason,
} from "../components/edit-forms/model-dataset";
import { type RomeDraft, romeRecipe, romeTemplate } from "../components/edit-forms/rome-recipe";
import { parseEdit } from "../lib/edit/parse";
import { EDIT_PARAMS } from "../lib/params/table";
import type { ModelSource } from "../lib/protocol";

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

describe("forms on a model without dataset.json", () => {
  const hub: ModelSource = { kind: "hub", repo: "gpt2" };
  const files: ModelSource = { kind: "files", name: "my-model" };

  it("knows which sources carry a dataset.json", () => {
    expect(datasetAvailability({ kind: "bundled", name: "tiny-facts" })).toBe("yes");
    expect(datasetAvailability(hub)).toBe("no");
    expect(datasetAvailability(files)).toBe("no");
    // a URL model's dataset.json is looked up next to its weights: it may or may not be there
    expect(datasetAvailability({ kind: "url", baseUrl: "https://example.org/m/" })).toBe("unknown");
    expect(datasetAvailability(null)).toBe("unknown");
    expect(noDatasetReason(hub)).toMatch(/Hugging Face hub .* no dataset\.json/);
    expect(noDatasetReason(files)).toMatch(/files on this computer .* no dataset\.json/);
  });

  it("ROME defaults C to the identity and refuses dataset-based C", () => {
    expect(defaultCov("yes")).toBe("general_text+facts");
    expect(defaultCov("unknown")).toBe("general_text+facts");
    expect(defaultCov("no")).toBe("identity");
    const ok = romeRecipe(draft({ cov: defaultCov("no") }), 6, false);
    if ("error" in ok) throw new Error(ok.error);
    expect(ok.edit.params.cov).toBe("identity");
    expect(parseEdit(ok.edit)).toEqual(ok.edit);
    for (const cov of ["general_text", "general_text+facts"] as const) {
      const r = romeRecipe(draft({ cov }), 6, false);
      expect("error" in r && r.error).toMatch(/needs the model's dataset\.json.*choose identity/);
      expect("edit" in romeRecipe(draft({ cov }), 6, true)).toBe(true);
    }
  });

  it("head forms allow zero ablation and scaling, and explain mean ablation and steering", () => {
    const base = {
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
    const dims = { nLayer: 6, nHead: 4 };
    for (const mode of ["ablate_zero", "scale"] as const) {
      expect(headModeNeedsDataset(mode)).toBe(false);
      expect("edit" in headRecipe({ ...base, mode }, dims, false)).toBe(true);
    }
    const mean = headRecipe({ ...base, mode: "ablate_mean" }, dims, false);
    expect("error" in mean && mean.error).toMatch(
      /^Mean ablation needs prompt sets .*dataset\.json/,
    );
    const steer = headRecipe({ ...base, mode: "steer", which: "top_k" }, dims, false);
    expect("error" in steer && steer.error).toMatch(
      /^Steering needs .*use zero ablation or scaling/,
    );
    const resid = residRecipe(
      { layer: 3, position: "last", cell: null, alpha: 2, steerScale: "raw", pair: "absc" },
      6,
      false,
    );
    expect("error" in resid && resid.error).toMatch(
      /^Representation steering needs .*dataset\.json/,
    );
  });
});

describe("the forms' bounds are the edit parser's (lib/params/table.ts EDIT_PARAMS)", () => {
  it("ROME: the most steps and shrinkage the form accepts parse; one more is refused by both", () => {
    const { romeSteps, shrinkage } = EDIT_PARAMS;
    const ok = romeRecipe(draft({ steps: romeSteps.max, shrinkage: shrinkage.max }), 6);
    if (!("edit" in ok)) throw new Error(ok.error);
    expect(() => parseEdit(ok.edit)).not.toThrow();
    const over = romeRecipe(draft({ steps: romeSteps.max + 1 }), 6);
    expect(over).toEqual({ error: `Steps must be a whole number from 1 to ${romeSteps.max}.` });
    expect(() =>
      parseEdit({ ...ok.edit, params: { ...ok.edit.params, steps: romeSteps.max + 1 } }),
    ).toThrow(/steps/);
    expect("error" in romeRecipe(draft({ shrinkage: shrinkage.max * 2 }), 6)).toBe(true);
  });

  it("LoReFT: the most steps the form accepts parse; one more is refused by both", () => {
    const d = {
      layers: "",
      position: "last" as const,
      clicked: null,
      rank: 4,
      nTrain: 16,
      steps: EDIT_PARAMS.loreftSteps.max,
      lr: 0.01,
      seed: 0,
    };
    const config = { nLayer: 6, dModel: 64 };
    const ok = loreftRecipe(d, config);
    if (!("edit" in ok)) throw new Error(ok.error);
    expect(() => parseEdit(ok.edit)).not.toThrow();
    const over = loreftRecipe({ ...d, steps: d.steps + 1 }, config);
    expect("error" in over && over.error).toMatch(/^Steps must be a whole number/);
    expect(() =>
      parseEdit({ ...ok.edit, params: { ...ok.edit.params, steps: d.steps + 1 } }),
    ).toThrow(/steps/);
    expect("error" in loreftRecipe({ ...d, rank: 65 }, config)).toBe(true);
  });
});
