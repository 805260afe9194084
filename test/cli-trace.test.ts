/**
 * `causeway trace | patch | trace-dataset` end to end through the CLI (lib/cli/main.ts) on the tiny
 * 4-layer model (byte-level tokenizer): JSON shapes as the issue lists them, numbers against the
 * numpy goldens, and one-line errors with a non-zero exit.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/run-cli";
import { loadTraceGoldens, maxDiff, TINY_DIR, type TraceGolden } from "./interp-helpers";

const cli = runCli;

const TRACE_KEYS = [
  "input_ids",
  "input_tokens",
  "subject_range",
  "answer",
  "high_score",
  "low_score",
  "noise_sigma",
  "samples",
  "seed",
  "window",
  "kind",
  "scores",
  "evaluations",
  "strategy",
  "backend",
  "ms",
];

describe("causeway trace", () => {
  const golden = loadTraceGoldens().cases.find((c) => c.name === "tiny-text-hidden") as TraceGolden;

  it("--json prints the trace, matching the numpy reference", async () => {
    const r = await cli([
      "trace",
      "--model",
      TINY_DIR,
      "--prompt",
      "Big cats run far",
      "--subject",
      "cats",
      "--samples",
      "3",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const k of TRACE_KEYS) expect(out, k).toHaveProperty(k);
    expect(out.subject_range).toEqual([4, 8]);
    expect(out.input_ids).toEqual(golden.input_ids);
    expect(out.answer).toMatchObject({ id: golden.target[0] });
    expect(typeof out.answer.token).toBe("string");
    expect(out).toMatchObject({
      samples: 3,
      seed: 1,
      window: 1,
      kind: "hidden",
      strategy: "fast",
      backend: "wasm",
    });
    expect(out.scores).toHaveLength(16);
    expect(out.scores[0]).toHaveLength(4);
    expect(Math.abs(out.high_score - golden.high_score)).toBeLessThan(1e-4);
    expect(Math.abs(out.low_score - golden.low_score)).toBeLessThan(1e-4);
    expect(maxDiff(out.scores, golden.scores)).toBeLessThan(1e-4);
  });

  it("--kind all prints {traces: {hidden, mlp, attn}}; a counterfactual prompt needs no subject", async () => {
    const r = await cli([
      "trace",
      "--model",
      TINY_DIR,
      "--prompt",
      "Big cats run far",
      "--corrupt-prompt",
      "Big dogs run far",
      "--kind",
      "all",
      "--window",
      "2",
      "--strategy",
      "naive",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out.traces)).toEqual(["hidden", "mlp", "attn"]);
    for (const [kind, t] of Object.entries(out.traces) as [string, Record<string, unknown>][]) {
      for (const k of TRACE_KEYS) expect(t, `${kind}.${k}`).toHaveProperty(k);
      expect(t).toMatchObject({
        kind,
        window: 2,
        strategy: "naive",
        noise_sigma: null,
        samples: 1,
      });
      expect(t.subject_range).toEqual([4, 7]); // "cat" vs "dog": the differing bytes
    }
  });

  it("a subject not in the prompt is a one-line error on stderr and exit code 2", async () => {
    const r = await cli([
      "trace",
      "--model",
      TINY_DIR,
      "--prompt",
      "Big cats run far",
      "--subject",
      "dogs",
      "--json",
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('causeway: subject "dogs" is not in the prompt "Big cats run far"\n');
  });

  it("bad flags are usage errors", async () => {
    const r = await cli([
      "trace",
      "--model",
      TINY_DIR,
      "--prompt",
      "Big cats",
      "--subject",
      "cats",
      "--kind",
      "neurons",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^causeway: --kind must be one of hidden, mlp, attn, all\n$/);
  });
});

describe("causeway patch", () => {
  it("--json prints {clean_ids, corrupt_ids, site, metric, scores}", async () => {
    const args = [
      "--model",
      TINY_DIR,
      "--clean",
      "Big cats run far ",
      "--corrupt",
      "Big dogs run far ",
    ];
    const r = await cli([
      "patch",
      ...args,
      "--target",
      "a",
      "--foil",
      "b",
      "--site",
      "head_out",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ site: "head_out", metric: "logit_diff_normalized" });
    expect(out.clean_ids).toHaveLength(17);
    expect(out.corrupt_ids).toHaveLength(17);
    expect(out.scores).toHaveLength(4); // [L][H]
    expect(out.scores[0]).toHaveLength(4);
    const byPos = JSON.parse(
      (
        await cli([
          "patch",
          ...args,
          "--target",
          "a",
          "--foil",
          "b",
          "--site",
          "resid_pre",
          "--json",
        ])
      ).stdout,
    );
    expect(byPos.scores).toHaveLength(4); // [L][T]
    expect(byPos.scores[0]).toHaveLength(17);
    expect(byPos.scores[0][0]).toBe(0); // before the first differing token
  });

  it("a target of several tokens is refused", async () => {
    const r = await cli([
      "patch",
      "--model",
      TINY_DIR,
      "--clean",
      "Big cats",
      "--corrupt",
      "Big dogs",
      "--target",
      "xy",
      "--foil",
      "b",
      "--site",
      "mlp_out",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^causeway: target "xy" is 3 tokens .*single token\n$/);
  });
});

describe("causeway trace-dataset", () => {
  it("--json prints the averaged curves for a dataset file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "causeway-ds-"));
    const file = path.join(dir, "known.json");
    writeFileSync(
      file,
      JSON.stringify([
        { prompt: "Big cats run far ", subject: "cats", attribute: "x" },
        { prompt: "Old dogs sing ", subject: "dogs", attribute: "y" },
        { prompt: "Old dogs sing ", subject: "owls", attribute: "y" },
      ]),
    );
    const r = await cli([
      "trace-dataset",
      "--model",
      TINY_DIR,
      "--dataset",
      file,
      "--kind",
      "hidden",
      "--samples",
      "1",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ n_facts: 3, skipped_invalid: 1, backend: "wasm", dataset: file });
    expect(out.n_used + out.skipped_wrong).toBe(2);
    expect(out.kinds.hidden.groups.map((g: { group: string }) => g.group)).toEqual([
      "first_subject",
      "middle_subject",
      "last_subject",
      "first_after",
      "further",
      "last",
    ]);
    for (const g of out.kinds.hidden.groups) {
      expect(g).toHaveProperty("mean");
      expect(g).toHaveProperty("lo");
      expect(g).toHaveProperty("hi");
    }
  });

  it("a missing dataset is a clear error", async () => {
    const r = await cli(["trace-dataset", "--model", TINY_DIR, "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^causeway: dataset .*dataset\.json does not exist \(give --dataset\)\n$/,
    );
  });
});
