/**
 * The LoReFT form's draft → recipe (components/edit-forms/loreft-recipe.ts): the recipe it builds
 * parses as an edit file and plans on the model's shape, the parameter count it shows before
 * training, and the first problem of a bad draft in words.
 */
import { describe, expect, it } from "vitest";
import {
  draftParamCount,
  type LoreftDraft,
  loreftRecipe,
  parseLayers,
} from "../components/edit-forms/loreft-recipe";
import { parseEditFile } from "../lib/edit/parse";

const config = { nLayer: 6, dModel: 128 };
const draft: LoreftDraft = {
  layers: "",
  position: "aspect",
  clicked: 7,
  rank: 4,
  nTrain: 16,
  steps: 40,
  lr: 0.01,
  seed: 0,
};

describe("LoReFT form recipe", () => {
  it("builds a recipe that parses, with the draft's settings", () => {
    const r = loreftRecipe({ ...draft, layers: "2, 3", position: "clicked" }, config);
    if ("error" in r) throw new Error(r.error);
    expect(r.edit.site).toEqual({ layers: [2, 3], hook: "resid_post", position: [7] });
    expect(r.edit.params).toEqual({ rank: 4, n_train: 16, steps: 40, lr: 0.01, seed: 0 });
    expect(parseEditFile([r.edit]).edits[0]).toEqual(r.edit);
    const auto = loreftRecipe(draft, config);
    expect("edit" in auto && auto.edit.site).toEqual({ hook: "resid_post", position: "aspect" });
  });

  it("counts trainable parameters before training", () => {
    expect(draftParamCount(draft, config)).toBe(1 * (2 * 4 * 128 + 4)); // default: layer 2 of 6
    expect(draftParamCount({ ...draft, layers: "1,2,3", rank: 8 }, config)).toBe(
      3 * (2 * 8 * 128 + 8),
    );
    expect(draftParamCount({ ...draft, layers: "9" }, config)).toBeNull();
    expect(draftParamCount(draft, null)).toBeNull();
  });

  it("says what is wrong", () => {
    const err = (d: Partial<LoreftDraft>) => {
      const r = loreftRecipe({ ...draft, ...d }, config);
      return "error" in r ? r.error : null;
    };
    expect(err({ layers: "6" })).toMatch(/0 to 5/);
    expect(err({ layers: "2,x" })).toMatch(/whole numbers/);
    expect(err({ layers: "2,2" })).toMatch(/twice/);
    expect(err({ rank: 0 })).toMatch(/rank .* 1 to 128/);
    expect(err({ rank: 129 })).toMatch(/rank/);
    expect(err({ nTrain: 0 })).toMatch(/Training examples/);
    expect(err({ lr: Number.NaN })).toMatch(/learning rate/);
    expect(err({ position: "clicked", clicked: null })).toMatch(/Click a token/);
    expect(parseLayers(" ", 6)).toBeNull();
  });
});
