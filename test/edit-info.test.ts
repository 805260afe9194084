/**
 * What the edit stack shows beside a learned edit (components/edit-info.ts): a SWEA edit's
 * subject tokens, ‖offsets‖, ‖δ‖, p(new) and suppression (its info is per request and spelling,
 * which the generic reader showed only as "ms"), and the generic scalars of other kinds. Hand-made
 * edits; expected values worked out by hand. No model.
 */
import { describe, expect, it } from "vitest";
import { learnedInfoItems } from "../components/edit-info";
import type { Edit, SweaEdit } from "../lib/edit/types";

const spelling = (o: { tokens: number[]; p: number; delta: number; dims: number[][] }) => ({
  tokens: o.tokens,
  prompt: "{} lives in",
  losses: [3, 1.5, 0.25],
  p_new: o.p,
  delta_norm: o.delta,
  suppressed: o.dims,
});

function swea(o: { mode?: "optimize"; twoSpellings?: boolean; skipped?: boolean }): SweaEdit {
  const spellings = [spelling({ tokens: [5, 6], p: 0.9, delta: 2, dims: [[1, 2], [7]] })];
  const fusions = [{ request: 0, tokens: [5, 6], offsets: [3, 0, 0, 4] }]; // ‖·‖ = 5
  if (o.twoSpellings) {
    spellings.push(spelling({ tokens: [8], p: 0.6, delta: 3, dims: [[4]] }));
    fusions.push({ request: 0, tokens: [8], offsets: [0, 12] }); // ‖all‖ = √(25 + 144) = 13
  }
  return {
    kind: "swea",
    params: {
      requests: [{ prompt: "{} lives in", subject: "Ann Bo", target_new: " Orvane" }],
      ...(o.mode ? { mode: o.mode } : {}),
    },
    learned: {
      fusions,
      info: {
        requests: [{ spellings, skipped_keys: o.skipped ? [[9, 9]] : [] }],
        templates: ["{}"],
        ms: 1234.4, // shown whole
      },
    },
  };
}

describe("the edit stack's info", () => {
  it("SWEA: subject tokens, ‖offsets‖, ‖δ‖, p(new), the suppression's dimensions, ms", () => {
    expect(learnedInfoItems(swea({}))).toEqual([
      ["subject tokens", "2"],
      ["‖offsets‖", "5"],
      ["‖δ‖", "2"],
      ["p new", "0.900"],
      ["suppression", "3 dims"],
      ["ms", "1,234"],
    ]);
  });

  it("SWEA: several spellings name the worst case; no suppression reads off", () => {
    expect(learnedInfoItems(swea({ mode: "optimize", twoSpellings: true, skipped: true }))).toEqual(
      [
        ["subject tokens", "3"],
        ["spellings", "2 (1 skipped)"],
        ["‖offsets‖", "13"],
        ["largest ‖δ‖", "3"],
        ["lowest p new", "0.600"],
        ["suppression", "off"],
        ["ms", "1,234"],
      ],
    );
  });

  it("an edit not learned shows nothing; other kinds' info scalars as before", () => {
    const { learned: _, ...bare } = swea({});
    expect(learnedInfoItems(bare)).toEqual([]);
    const rome = {
      kind: "rome",
      site: { layer: 1 },
      params: { prompt: "{} is in", subject: "a", target_new: " b" },
      learned: {
        info: { delta_norm: 1.5, cov: "identity", losses: [{ loss: 2, p_new: 0.25 }], ms: 6080.7 },
      },
    } as unknown as Edit;
    expect(learnedInfoItems(rome)).toEqual([
      ["delta_norm", "1.50"],
      ["cov", "identity"],
      ["final loss", "2"],
      ["final p_new", "0.250"],
      ["ms", "6,081"], // was 6.08e+3
    ]);
  });
});
