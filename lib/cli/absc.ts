/**
 * `causeway absc`: the ABSC recipe (docs/recipes.md "ABSC"; arXiv 2503.15117) in one command.
 *
 *   causeway absc --model M [--methods joint,loreft,lora_all,ft_layer] [--layers 2] [--rank 4]
 *     [--n-train 96] [--n-test 300] [--steps 60] [--lr 0.01] [--seed 0] [--dev] [--backend wasm|cpu] --json
 *   causeway absc --locate --model M [--limit 100] [--samples 10] [--noise 3] [--seed 1]
 *     [--facts-out FILE] --json
 *
 * The first form trains each method on the same seeded training reviews of the train domain and
 * prints one row per method: trainable parameters, final loss, and accuracy before → after on
 * the in-domain and out-of-domain test splits (lib/edit/absc-train.ts); --dev scores on the train
 * domain's validation split instead (for choosing settings without the tests). --locate is the locate
 * study: dataset-mode causal tracing (lib/interp/dataset.ts) over the in-domain test reviews with
 * the aspect word corrupted, averaged over the set, per kind (hidden, mlp, attn) and token group;
 * it traces the reviews answered right among the labels (ABSC accuracy's rule, answerAmong), not
 * by top-1 over the whole vocabulary, which a model that never saw the review prompt misses;
 * --facts-out writes those reviews as known facts, which the app's Dataset tab takes as a file.
 */
import { writeFileSync } from "node:fs";
import { abscDevSplits, abscKnownFacts, abscSplits } from "../edit/absc-data";
import { abscCells, abscSplitHeads } from "../edit/absc-request";
import {
  ABSC_DEFAULTS,
  ABSC_METHODS,
  type AbscMethod,
  type AbscResult,
  runAbscMethod,
} from "../edit/absc-train";
import { type DatasetResult, runTraceDataset } from "../interp/dataset";
import { TRACE_KINDS } from "../interp/spec";
import { ABSC_PARAMS, DATASET_PARAMS, TRACE_PARAMS } from "../params/table";
import { choiceListFlag, paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { asUsage, loadDataset, progress } from "./edit-inputs";
import { loadCliEngine } from "./engine";
import { resolveModel } from "./model-source";

export interface AbscReport {
  model: string;
  backend: string;
  train_domain: string;
  params: typeof ABSC_DEFAULTS;
  methods: AbscResult[];
}

/** "2" or "2,3" → [2, 3]. */
function layersFlag(v: string | boolean | undefined, nLayer: number): number[] {
  if (v === undefined) return ABSC_DEFAULTS.layers;
  const parts = String(v)
    .split(",")
    .map((s) => s.trim());
  const layers = parts.map(Number);
  if (
    parts.some((p) => !/^\d+$/.test(p)) ||
    layers.some((l) => l >= nLayer) ||
    new Set(layers).size !== layers.length
  ) {
    throw new UsageError(
      `--layers takes distinct layers from 0 to ${nLayer - 1}, comma-separated; got "${v}"`,
    );
  }
  return layers;
}

/** The methods table as text (the --json output has every number; the app's form shows the same cells). */
export function formatAbsc(r: AbscReport): string {
  const head = ["method", "layers", "params", "final loss", ...abscSplitHeads(r.methods[0])];
  const rows = r.methods.map((m) => {
    const c = abscCells(m);
    return [c.method, c.layers, c.params, c.loss, ...c.splits];
  });
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]))
      .join("  ")
      .trimEnd();
  const p = r.params;
  return [
    `ABSC on ${r.model} (${r.backend}): train ${r.train_domain}, n_train ${p.n_train}, ${p.steps} steps, lr ${p.lr}, rank ${p.rank}, seed ${p.seed}`,
    line(head),
    ...rows.map(line),
  ].join("\n");
}

function formatLocate(r: DatasetResult & { model: string }): string {
  const rule = r.answer_among
    ? `answered right among the ${r.answer_among.length} labels`
    : "answered right over the whole vocabulary";
  const invalid = r.skipped_invalid > 0 ? `, ${r.skipped_invalid} invalid` : "";
  const out = [
    `ABSC locate on ${r.model}: ${r.n_used} of ${r.n_facts} reviews traced (${rule}; ${r.skipped_wrong} answered wrong${invalid})`,
  ];
  for (const k of Object.values(r.kinds)) {
    if (!k) continue;
    out.push(`${k.kind} (window ${k.window}): mean indirect effect by layer`);
    for (const g of k.groups) {
      if (g.n === 0) continue;
      out.push(
        `  ${g.group.padEnd(15)} n=${String(g.n).padEnd(5)} ${g.mean.map((x) => x.toFixed(3)).join(" ")}`,
      );
    }
  }
  return out.join("\n");
}

export const abscCommand: Command = {
  name: "absc",
  usage:
    "causeway absc --model M [--methods joint,loreft,lora_all,ft_layer] [--layers 2] [--rank 4] [--n-train 96] [--n-test 300] [--steps 60] [--lr 0.01] [--seed 0] [--dev] | --locate [--limit N] [--samples 10] [--noise 3] [--facts-out FILE]; [--backend wasm|cpu] [--quiet] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      methods: { type: "string" },
      layers: { type: "string" },
      rank: { type: "string" },
      "n-train": { type: "string" },
      "n-test": { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      locate: { type: "boolean", default: false },
      dev: { type: "boolean", default: false },
      "facts-out": { type: "string" },
      limit: { type: "string" },
      samples: { type: "string" },
      noise: { type: "string" },
      backend: { type: "string" },
      quiet: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    });
    const modelSpec = requireString(flags, "model");
    const dataset = loadDataset(resolveModel(modelSpec).dir);
    let splits: ReturnType<typeof abscSplits>;
    try {
      splits = abscSplits(dataset);
      if (flags.dev === true) splits = abscDevSplits(splits);
    } catch (e) {
      asUsage(e);
    }
    const log = progress(flags.quiet === true);
    if (flags.locate === true) {
      const facts = abscKnownFacts(splits.tests[0].reviews);
      // the same facts for the app's Dataset tab (drop the file there): the same traces
      if (typeof flags["facts-out"] === "string") {
        writeFileSync(flags["facts-out"], `${JSON.stringify({ known_facts: facts }, null, 1)}\n`);
      }
      const { engine } = await loadCliEngine(modelSpec, flags.backend as string | undefined);
      try {
        const r = await runTraceDataset(engine, facts, {
          kinds: [...TRACE_KINDS],
          limit: paramFlag(flags, "limit", DATASET_PARAMS.limit),
          samples: paramFlag(flags, "samples", TRACE_PARAMS.samples),
          noise: paramFlag(flags, "noise", TRACE_PARAMS.noise),
          seed: paramFlag(flags, "seed", TRACE_PARAMS.seed),
          answerAmong: splits.labels, // ABSC accuracy's rule: right among the labels
        });
        return { model: engine.info.name, domain: splits.tests[0].domain, ...r };
      } finally {
        engine.dispose();
      }
    }
    const methods = choiceListFlag(flags, "methods", ABSC_METHODS) ?? [...ABSC_METHODS];
    const { engine, backend } = await loadCliEngine(modelSpec, flags.backend as string | undefined);
    try {
      const P = ABSC_PARAMS; // the app's ABSC form reads the same rows
      const params = {
        layers: layersFlag(flags.layers, engine.model.config.nLayer),
        rank: paramFlag(flags, "rank", P.rank) ?? ABSC_DEFAULTS.rank,
        n_train: paramFlag(flags, "n-train", P.nTrain) ?? ABSC_DEFAULTS.n_train,
        n_test: paramFlag(flags, "n-test", P.nTest) ?? ABSC_DEFAULTS.n_test,
        steps: paramFlag(flags, "steps", P.steps) ?? ABSC_DEFAULTS.steps,
        lr: paramFlag(flags, "lr", P.lr) ?? ABSC_DEFAULTS.lr,
        seed: paramFlag(flags, "seed", P.seed) ?? ABSC_DEFAULTS.seed,
      };
      const results: AbscResult[] = [];
      for (const method of methods as AbscMethod[]) {
        log(`absc: training ${method}`);
        try {
          results.push(
            await runAbscMethod(engine.model, engine.tokenizer, splits, method, params, {
              before: results[0]?.splits.map((x) => x.before),
              onStep: (s) => {
                if (s.step % 10 === 0 || s.step === s.total)
                  log(`  ${method} step ${s.step}/${s.total} loss ${s.loss.toFixed(4)}`);
              },
            }),
          );
        } catch (e) {
          asUsage(e);
        }
      }
      const report: AbscReport = {
        model: engine.info.name,
        backend,
        train_domain: splits.train_domain,
        params,
        methods: results,
      };
      return report;
    } finally {
      engine.dispose();
    }
  },
  format(result) {
    const r = result as AbscReport | (DatasetResult & { model: string });
    return "methods" in r ? formatAbsc(r) : formatLocate(r);
  },
};
