/**
 * The edit cases of test/fixtures/families/edits-golden.json (scripts/reference/family_edit_ref.py)
 * as Causeway edits, for the save and Python-export tests of the rotary families.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Edit } from "../../lib/edit/types";

export interface GoldenCase {
  name: "rome" | "head_scale" | "head_mean" | "resid_steer" | "lora" | "lora_qkv";
  // biome-ignore lint/suspicious/noExplicitAny: the reference's per-case numbers
  edit: Record<string, any>;
  /** Whether the edit is a weight change on this family (a bias it needs exists). */
  saved: boolean;
  logits: number[][]; // [T][V]
}

export interface EditGoldens {
  ids: number[];
  fixtures: Record<string, { family: string; plain: number[][]; cases: GoldenCase[] }>;
}

export const goldens: EditGoldens = JSON.parse(
  readFileSync(path.resolve(__dirname, "..", "fixtures", "families", "edits-golden.json"), "utf8"),
);

/** The case as an edit file's edit, learned (every position where the kind has one). */
export function familyEdit(c: GoldenCase): Edit {
  const e = c.edit;
  switch (c.name) {
    case "rome":
      return {
        kind: "rome",
        site: { layer: e.layer },
        params: { prompt: "{} is", subject: "x", target_new: "y" },
        learned: { u: e.u, v: e.v },
      } as Edit;
    case "head_scale":
      return {
        kind: "head_scale",
        site: { layer: e.layer, head: e.head, position: "all" },
        params: { scale: e.scale },
      } as Edit;
    case "head_mean":
      return {
        kind: "head_ablate",
        site: { layer: e.layer, head: e.head, position: "all" },
        params: { mode: "mean", prompts: ["x"] },
        learned: { mean: e.mean },
      } as Edit;
    case "resid_steer":
      return {
        kind: "resid_steer",
        site: { layer: e.layer, hook: "resid_post", position: "all" },
        params: { alpha: 1, scale: "raw", vector: e.vector },
        learned: { direction: e.vector, norm: 1, sigma: 1 },
      } as Edit;
    case "lora":
    case "lora_qkv":
      return {
        kind: "lora",
        site: { layers: [0, 0] },
        params: { prefix: "x", suffix: " y", rank: e.rank, alpha: e.alpha, modules: e.modules },
        learned: { factors: e.factors },
      } as Edit;
  }
}

/** max |a − b| over two [T][V] grids. */
export function maxAbsGrid(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => {
    row.forEach((x, j) => {
      m = Math.max(m, Math.abs(x - b[i][j]));
    });
  });
  return m;
}
