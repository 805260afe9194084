/**
 * Dataset mode's answerAmong (lib/interp/dataset.ts), the rule the ABSC locate study picks its
 * reviews by: traced = the label has the highest logit among the three labels, as an independent
 * numpy forward finds it (scripts/reference/absc_locate_ref.py → test/fixtures/trace/absc-locate.json,
 * 8 reviews of the bundled tiny-facts). Each review in two forms: its own prompt ("seen", where the
 * model ranks a label first over the whole vocabulary too) and without the final colon ("unseen",
 * where it never does, yet ranks the labels). Without the option the whole-vocabulary rule is kept:
 * the unseen form traces nothing. An attribute outside the candidates is a bad_spec.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abscKnownFacts } from "../lib/edit/absc-data";
import type { Engine } from "../lib/engine";
import { runTraceDataset } from "../lib/interp/dataset";
import { TraceError } from "../lib/interp/spec";
import { targetIds } from "../lib/interp/tokens";
import { selectBackend } from "../lib/model/backend";
import { BUNDLED_DIR, loadEngine, TRACE_DIR } from "./interp-helpers";

interface Form {
  prompt: string;
  label_logits: number[];
  top1: number;
  label_prob: number;
  right_among_labels: boolean;
  right_whole_vocab: boolean;
}
const FX = JSON.parse(readFileSync(path.join(TRACE_DIR, "absc-locate.json"), "utf8")) as {
  labels: string[];
  label_ids: number[];
  reviews: { index: number; aspect: string; label: string; seen: Form; unseen: Form }[];
};
const FORMS = ["seen", "unseen"] as const;

let engine: Engine;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine?.dispose());

const factsOf = (form: (typeof FORMS)[number]) =>
  abscKnownFacts(
    FX.reviews.map((r) => ({ prompt: r[form].prompt, label: r.label, aspect: r.aspect })),
  );
const where = (form: (typeof FORMS)[number], rule: "right_among_labels" | "right_whole_vocab") =>
  FX.reviews.flatMap((r, i) => (r[form][rule] ? [i] : []));

/** The facts' indices traced (onFact "used"), and the result. */
async function traced(form: (typeof FORMS)[number], answerAmong?: string[]) {
  const used: number[] = [];
  const r = await runTraceDataset(engine, factsOf(form), {
    kinds: ["hidden"],
    samples: 1,
    answerAmong,
    onFact: (done, _, status) => {
      if (status === "used") used.push(done - 1);
    },
  });
  return { used, r };
}

describe("dataset mode: answerAmong (the ABSC locate study's rule)", () => {
  it("the fixture has both verdicts among the labels, and no label top-1 in the unseen form", () => {
    expect(where("unseen", "right_among_labels").length).toBeGreaterThanOrEqual(3);
    expect(FX.reviews.length - where("unseen", "right_among_labels").length).toBeGreaterThanOrEqual(
      3,
    );
    expect(where("unseen", "right_whole_vocab")).toEqual([]);
  });

  it("Causeway's label tokens and last-position label logits equal the numpy reference's", () => {
    for (const r of FX.reviews) {
      for (const form of FORMS) {
        const ids = engine.tokenizer!.encode(r[form].prompt);
        expect(FX.labels.map((l) => targetIds(engine, ids, l)[0])).toEqual(FX.label_ids);
        const got = tf.tidy(() =>
          engine.model
            .forward({ inputIds: [ids], logitPositions: "last" })
            .logits.reshape([-1])
            .gather(FX.label_ids),
        ); // [3]
        const data = Array.from(got.dataSync());
        got.dispose();
        data.forEach((x, j) => {
          expect(Math.abs(x - r[form].label_logits[j])).toBeLessThan(1e-3);
        });
      }
    }
  });

  for (const form of FORMS) {
    it(`${form} prompts: traced = right among the 3 labels (numpy); the metric is the label's probability`, async () => {
      const before = tf.memory().numTensors;
      const { used, r } = await traced(form, FX.labels);
      expect(tf.memory().numTensors).toBe(before);
      const want = where(form, "right_among_labels");
      expect(used).toEqual(want);
      expect(r).toMatchObject({
        n_facts: FX.reviews.length,
        n_used: want.length,
        skipped_wrong: FX.reviews.length - want.length,
        skipped_invalid: 0,
        answer_among: FX.labels,
      });
      const p = want.map((i) => FX.reviews[i][form].label_prob);
      expect(r.avg_high_score).toBeCloseTo(p.reduce((a, b) => a + b, 0) / p.length, 4);
    });

    it(`${form} prompts without answerAmong: traced = the label is the top-1 over the vocabulary (numpy)`, async () => {
      const { used, r } = await traced(form);
      expect(used).toEqual(where(form, "right_whole_vocab"));
      expect(r).not.toHaveProperty("answer_among");
    });
  }

  it("an attribute outside the candidates, or fewer than two candidates, is a bad_spec", async () => {
    const facts = factsOf("seen").slice(0, 2);
    const bad = [{ ...facts[0] }, { ...facts[1], attribute: " great" }];
    const err = await runTraceDataset(engine, bad, { answerAmong: FX.labels }).catch((e) => e);
    expect(err).toBeInstanceOf(TraceError);
    expect(err).toMatchObject({ code: "bad_spec" });
    expect((err as Error).message).toMatch(
      /fact 1's attribute " great" is not one of the candidate/,
    );
    await expect(
      runTraceDataset(engine, facts, { answerAmong: [facts[0].attribute] }),
    ).rejects.toMatchObject({ code: "bad_spec" });
  });
});
