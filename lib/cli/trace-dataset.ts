/**
 * `causeway trace-dataset`: average indirect effects over a known-facts dataset
 * (lib/interp/dataset.ts), by layer, for ROME's token groups, per kind, with 95% bands.
 *
 *   causeway trace-dataset --model M [--dataset file] [--kind hidden|mlp|attn|all] [--limit N]
 *     [--samples 10] [--noise 3] [--seed 1] [--window W] [--strategy fast|naive] --json
 *
 * The dataset defaults to the model directory's dataset.json (its "known_facts"); a file may also
 * be a bare list in ROME's known_1000.json format.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type DatasetResult, parseKnownFacts, runTraceDataset } from "../interp/dataset";
import { TRACE_KINDS, type TraceKind } from "../interp/spec";
import { DATASET_PARAMS, TRACE_PARAMS } from "../params/table";
import { paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { loadCliEngine } from "./engine";
import { resolveModel } from "./model-source";
import { asUsage, checkWindowFlag } from "./trace";

export const traceDatasetCommand: Command = {
  name: "trace-dataset",
  usage:
    "causeway trace-dataset --model M [--dataset file] [--kind hidden|mlp|attn|all] [--limit N] [--samples 10] [--noise 3] [--seed 1] [--window W] [--strategy fast|naive] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      dataset: { type: "string" },
      kind: { type: "string", default: "all" },
      limit: { type: "string" },
      samples: { type: "string" },
      noise: { type: "string" },
      seed: { type: "string" },
      window: { type: "string" },
      strategy: { type: "string", default: "fast" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const modelSpec = requireString(flags, "model");
    const kindFlag = flags.kind as string;
    const kinds: TraceKind[] =
      kindFlag === "all"
        ? [...TRACE_KINDS]
        : TRACE_KINDS.includes(kindFlag as TraceKind)
          ? [kindFlag as TraceKind]
          : [];
    if (kinds.length === 0)
      throw new UsageError(`--kind must be one of ${TRACE_KINDS.join(", ")}, all`);
    const strategy = flags.strategy as string;
    if (strategy !== "fast" && strategy !== "naive")
      throw new UsageError("--strategy must be fast or naive");
    const file =
      typeof flags.dataset === "string"
        ? flags.dataset
        : path.join(resolveModel(modelSpec).dir, "dataset.json");
    if (!existsSync(file)) throw new UsageError(`dataset ${file} does not exist (give --dataset)`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new UsageError(`dataset ${file} is not valid JSON (${(e as Error).message})`);
    }
    let facts: ReturnType<typeof parseKnownFacts>;
    try {
      facts = parseKnownFacts(json, file);
    } catch (e) {
      asUsage(e);
    }
    const { engine, backend } = await loadCliEngine(modelSpec, flags.backend as string | undefined);
    try {
      checkWindowFlag(flags, engine);
      const r = await runTraceDataset(engine, facts, {
        kinds,
        limit: paramFlag(flags, "limit", DATASET_PARAMS.limit),
        samples: paramFlag(flags, "samples", TRACE_PARAMS.samples),
        noise: paramFlag(flags, "noise", TRACE_PARAMS.noise),
        seed: paramFlag(flags, "seed", TRACE_PARAMS.seed),
        window: paramFlag(flags, "window", TRACE_PARAMS.window),
        strategy: strategy as "fast" | "naive",
      }).catch(asUsage);
      return { model: engine.info.name, dataset: file, backend, ...r };
    } finally {
      engine.dispose();
    }
  },
  format(result) {
    const r = result as DatasetResult & { dataset: string };
    const lines = [
      `${r.n_used} of ${r.n_facts} facts traced (${r.skipped_wrong} wrong, ${r.skipped_invalid} invalid); avg high ${r.avg_high_score.toFixed(4)}, low ${r.avg_low_score.toFixed(4)}`,
    ];
    for (const k of Object.values(r.kinds)) {
      if (!k) continue;
      lines.push(`${k.kind} (window ${k.window}): average indirect effect by layer`);
      for (const g of k.groups) {
        lines.push(
          `  ${g.group.padEnd(15)} n=${String(g.n).padEnd(5)} ${g.mean.map((v) => v.toFixed(3).padStart(7)).join("")}`,
        );
      }
    }
    return lines.join("\n");
  },
};
