/**
 * `causeway absc` as a user runs it: bad flags exit 2 with a specific line before any model
 * loads; a small run on the bundled model prints a row per method whose numbers equal the
 * library's (lib/edit/absc-train.ts runAbscMethod) for the same seed and settings; --locate
 * --facts-out writes the reviews as known facts for the app's Dataset tab, and its summary says
 * the reviews traced are those answered right among the labels.
 */
import "../lib/model/backends-node";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AbscReport } from "../lib/cli/absc";
import { abscKnownFacts, abscSplits } from "../lib/edit/absc-data";
import { runAbscMethod } from "../lib/edit/absc-train";
import { parseEditDataset } from "../lib/edit/dataset";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));

describe("causeway absc: bad flags", () => {
  it(
    "names the bad method or layer",
    async () => {
      const a = await runCli(["absc", "--methods", "joint,bogus", "--json"]);
      expect(a.code).toBe(2);
      expect(a.stderr).toMatch(
        /--methods takes a comma-separated list of joint, loreft, lora_all, ft_layer; got "bogus"/,
      );
      const b = await runCli(["absc", "--layers", "9", "--json"]);
      expect(b.code).toBe(2);
      expect(b.stderr).toMatch(/--layers takes distinct layers from 0 to 5/);
      // tiny-facts' dataset has no validation split (tiny-facts-opinions' has)
      const c = await runCli(["absc", "--dev", "--json"]);
      expect(c.code).toBe(2);
      expect(c.stderr).toMatch(/this dataset has no restaurant dev split/);
    },
    workLimit({ units: 3, perUnitMs: 30_000 }),
  );
});

describe.skipIf(!present)("causeway absc on the bundled model", () => {
  let engine: Engine;
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it(
    "prints the library's numbers for the same seed",
    async () => {
      const params = { layers: [2], rank: 2, n_train: 8, n_test: 6, steps: 2, lr: 0.01, seed: 5 };
      const r = await runCli([
        "absc",
        "--methods",
        "joint,ft_layer",
        "--rank",
        "2",
        "--n-train",
        "8",
        "--n-test",
        "6",
        "--steps",
        "2",
        "--seed",
        "5",
        "--backend",
        "wasm",
        "--quiet",
        "--json",
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const cli = JSON.parse(r.stdout) as AbscReport;
      expect(cli.params).toEqual(params);
      const splits = abscSplits(
        parseEditDataset(JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8"))),
      );
      for (const [i, method] of (["joint", "ft_layer"] as const).entries()) {
        const lib = await runAbscMethod(engine.model, engine.tokenizer, splits, method, params);
        expect(cli.methods[i].method).toBe(method);
        expect(cli.methods[i].params).toBe(lib.params);
        expect(cli.methods[i].splits).toEqual(lib.splits);
        cli.methods[i].losses.forEach((l, k) => {
          expect(l.loss).toBeCloseTo(lib.losses[k].loss, 6);
        });
      }
    },
    workLimit({ units: 2, perUnitMs: 60_000, fixedMs: 60_000 }),
  );

  it(
    "--locate --facts-out writes the in-domain reviews as known facts",
    async () => {
      const out = path.join(mkdtempSync(path.join(tmpdir(), "absc-")), "facts.json");
      const r = await runCli([
        "absc",
        "--locate",
        "--limit",
        "1",
        "--samples",
        "1",
        "--facts-out",
        out,
        "--json",
      ]);
      expect(r.code).toBe(0);
      const located = JSON.parse(r.stdout) as { n_facts: number; domain: string };
      expect([located.n_facts, located.domain]).toEqual([1, "restaurant"]);
      const { known_facts } = JSON.parse(readFileSync(out, "utf8"));
      const splits = abscSplits(
        parseEditDataset(JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8"))),
      );
      expect(known_facts).toEqual(abscKnownFacts(splits.tests[0].reviews));
    },
    workLimit({ units: 1, perUnitMs: 120_000 }),
  );

  it(
    "--locate's summary names the rule that picked the reviews: right among the labels",
    async () => {
      const r = await runCli(["absc", "--locate", "--limit", "3", "--samples", "1", "--quiet"]);
      expect(r.code).toBe(0);
      const m =
        /^ABSC locate on tiny-facts: (\d+) of 3 reviews traced \(answered right among the 3 labels; (\d+) answered wrong\)$/m.exec(
          r.stdout,
        );
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m![1]) + Number(m![2])).toBe(3);
    },
    workLimit({ units: 1, perUnitMs: 120_000 }),
  );
});
