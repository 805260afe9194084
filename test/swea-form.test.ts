/**
 * SWEA in the app's forms (components/edit-forms/swea-recipe.ts, batch-recipe.ts): the one-fact
 * SWEA form's recipe and its mistakes, SWEA's settings against the edit parser's ranges
 * (lib/params/swea.ts), the Batch form's SWEA run (no layers, no C, SWEA's hparams), and a
 * learned SWEA edit that is switched off surviving a share link and a session file. No model.
 */
import { describe, expect, it } from "vitest";
import { batchSpec } from "../components/edit-forms/batch-recipe";
import {
  defaultSweaSettings,
  type SweaDraft,
  type SweaSettings,
  sweaRecipe,
} from "../components/edit-forms/swea-recipe";
import { parseEdit } from "../lib/edit/parse";
import { describeEdit, type SweaEdit } from "../lib/edit/types";
import { SWEA_PARAMS } from "../lib/params/swea";
import { readSessionFile, sessionFile } from "../lib/share/file";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";

const draft: SweaDraft = {
  prompt: "Ralkrok Stennos lives in the city of",
  subject: "Ralkrok Stennos",
  targetNew: "Orvane",
  targetTrue: "",
  settings: defaultSweaSettings(),
};

const withValue = (k: keyof typeof SWEA_PARAMS, v: number | null): SweaSettings => {
  const s = defaultSweaSettings();
  return { ...s, values: { ...s.values, [k]: v } };
};

const err = (r: { error: string } | object) => ("error" in r ? r.error : "");

describe("the SWEA form", () => {
  it("makes a one-request swea edit that lib/edit parses; the old object defaults to the answer", () => {
    const r = sweaRecipe(draft, " Parrow");
    if (!("edit" in r)) throw new Error(r.error);
    expect(r.edit.params.requests).toEqual([
      {
        prompt: "{} lives in the city of",
        subject: "Ralkrok Stennos",
        target_new: "Orvane",
        target_true: "Parrow",
      },
    ]);
    expect(r.edit.params).toMatchObject({ v_num_grad_steps: 25, v_lr: 0.02, mode: "kn+optimize" });
    expect(r.edit.site).toBeUndefined();
    expect(parseEdit(r.edit)).toEqual(r.edit);
    expect(describeEdit(r.edit)).toMatch(/acts only where the subject's tokens occur/);

    const typed = sweaRecipe({ ...draft, targetTrue: " Belkor " }, " Parrow");
    expect("edit" in typed && typed.edit.params.requests[0].target_true).toBe("Belkor");
    // no answer and no old object: no suppression target (SWEA skips that step)
    const none = sweaRecipe(draft, null);
    expect("edit" in none && none.edit.params.requests[0]).not.toHaveProperty("target_true");
    const off = sweaRecipe({ ...draft, settings: { ...draft.settings, suppress: false } }, null);
    expect("edit" in off && off.edit.params.mode).toBe("optimize");
  });

  it("names what is wrong", () => {
    expect(err(sweaRecipe({ ...draft, subject: "Rekin" }, null))).toMatch(
      /"Rekin" is not in the prompt/,
    );
    expect(err(sweaRecipe({ ...draft, subject: " " }, null))).toMatch(/Type the subject/);
    expect(err(sweaRecipe({ ...draft, prompt: "Ralkrok Stennos" }, null))).toMatch(
      /only the subject/,
    );
    expect(err(sweaRecipe({ ...draft, targetNew: "" }, null))).toMatch(/Type the new target/);
    expect(err(sweaRecipe(draft, "Orvane"))).toMatch(/old and the new target are both/);
    expect(err(sweaRecipe({ ...draft, settings: withValue("v_lr", 0) }, null))).toMatch(
      /SWEA: The learning rate must be a number above 0/,
    );
    expect(
      err(sweaRecipe({ ...draft, settings: withValue("v_num_grad_steps", null) }, null)),
    ).toMatch(/Steps must be a whole number/);
  });

  it("accepts what the edit parser accepts, and refuses one past it like the parser", () => {
    for (const [k, p] of Object.entries(SWEA_PARAMS) as [
      keyof typeof SWEA_PARAMS,
      (typeof SWEA_PARAMS)[keyof typeof SWEA_PARAMS],
    ][]) {
      const ok = sweaRecipe({ ...draft, settings: withValue(k, p.max) }, null);
      if (!("edit" in ok)) throw new Error(`${k} at its max: ${ok.error}`);
      expect(() => parseEdit(ok.edit), k).not.toThrow();
      const over = p.integer ? p.max + 1 : p.max * 1.01;
      expect(err(sweaRecipe({ ...draft, settings: withValue(k, over) }, null)), k).not.toBe("");
      expect(() => parseEdit({ ...ok.edit, params: { ...ok.edit.params, [k]: over } }), k).toThrow(
        new RegExp(`params.${k}`),
      );
    }
  });
});

describe("the Batch form with SWEA", () => {
  const ctx = {
    nLayer: 6,
    hasDataset: false, // a hub model: SWEA needs no C, so no corpus is asked for
    imported: null,
    corpus: null,
    methods: ["rome", "memit", "swea", "memit+blue"],
  };
  const bdraft = {
    source: "paste" as const,
    suite: "counterfact" as const,
    start: 0,
    count: 3,
    pasted:
      '{"prompt": "{} lives in the city of", "subject": "Ralkrok Stennos", "target_new": "Orvane", "target_true": "Parrow"}',
    method: "swea",
    blue: false,
    layers: "3,4", // what the form fills in from a trace: SWEA leaves it out
    batch: 1,
    sequential: true,
    steps: 7, // the generic steps box (hidden for SWEA): SWEA's own steps count
    cov: "general_text" as const,
    fluency: false,
    cacheStats: true,
    swea: withValue("v_num_grad_steps", 4),
  };

  it("runs without layers or C, with SWEA's settings as its hparams", () => {
    const r = batchSpec(bdraft, ctx);
    if (!("spec" in r)) throw new Error(r.error);
    expect(r.spec).not.toHaveProperty("layers");
    expect(r.spec).toMatchObject({ method: "swea", cov: "identity", steps: 4, batch: 1 });
    expect(r.spec.hparams).toMatchObject({ v_lr: 0.02, kn_threshold: 0.35, mode: "kn+optimize" });
    // what the worker hands lib/edit/swea-batch.ts is a valid swea edit
    const edit = {
      kind: "swea",
      params: {
        requests: [{ prompt: "{} is", subject: "x", target_new: "y" }],
        ...r.spec.hparams,
        v_num_grad_steps: r.spec.steps,
      },
    };
    expect(() => parseEdit(edit)).not.toThrow();
  });

  it("names a SWEA setting out of range and refuses BLUE", () => {
    expect(err(batchSpec({ ...bdraft, swea: withValue("kn_threshold", 2) }, ctx))).toMatch(
      /SWEA: The knowledge threshold must be a number from 0 to 1/,
    );
    expect(err(batchSpec({ ...bdraft, blue: true }, ctx))).toMatch(/swea\+blue is not available/);
  });
});

describe("a learned SWEA edit in links and session files", () => {
  const learned: SweaEdit = {
    kind: "swea",
    enabled: false,
    params: {
      requests: [
        { prompt: "{} lives in", subject: "bob", target_new: "Paris", target_true: "Rome" },
      ],
      v_num_grad_steps: 3,
    },
    learned: {
      fusions: [
        { request: 0, tokens: [17, 3], offsets: [0.125, -1.5, 2.75e-3, 3, 0.5, -0.25] },
        { request: 0, tokens: [901], offsets: [1, 2, -3] },
      ],
    },
  };
  const near = (a: number[], b: number[]) =>
    a.every((x, i) => Math.abs(x - b[i]) <= 2 ** -11 * Math.max(1, Math.abs(b[i])));

  it("keeps its fusions (token ids exact, offsets to f16) and its off switch", async () => {
    const { hash } = await encodeSession({ ...DEFAULT_SESSION, edits: [learned] });
    const fromLink = (await decodeSession(hash)).edits[0] as SweaEdit;
    const fromFile = readSessionFile(sessionFile({ ...DEFAULT_SESSION, edits: [learned] }))
      .edits[0] as SweaEdit;
    for (const back of [fromLink, fromFile]) {
      expect(back.kind).toBe("swea");
      expect(back.enabled).toBe(false);
      expect(back.params).toEqual(learned.params);
      const f = back.learned!.fusions;
      expect(f.map((x) => [x.request, x.tokens])).toEqual([
        [0, [17, 3]],
        [0, [901]],
      ]);
      f.forEach((x, i) => {
        expect(near(x.offsets, learned.learned!.fusions[i].offsets)).toBe(true);
      });
    }
  });
});
