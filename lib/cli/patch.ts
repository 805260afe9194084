/**
 * `causeway patch`: activation patching from a clean prompt into a corrupted one
 * (lib/interp/patch.ts).
 *
 *   causeway patch --model M --clean P --corrupt C --target T --foil F
 *     --site resid_pre|attn_out|mlp_out|head_out|head_out_pos [--metric logit_diff_normalized|prob]
 *     [--strategy fast|naive] [--backend wasm|cpu] --json
 *
 * JSON: {clean_ids, corrupt_ids, site, metric, scores, …}: scores [L][T] by position, [L][H] for
 * head_out (all positions), [L][T][H] for head_out_pos.
 */

import {
  PATCH_METRICS,
  PATCH_SITES,
  type PatchMetric,
  type PatchResult,
  type PatchSite,
} from "../interp";
import { runPatch } from "../interp/patch";
import { parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { loadCliEngine } from "./engine";
import { asUsage } from "./trace";

export const patchCommand: Command = {
  name: "patch",
  usage:
    "causeway patch --model M --clean P --corrupt C --target T --foil F --site resid_pre|attn_out|mlp_out|head_out|head_out_pos [--metric logit_diff_normalized|prob] [--strategy fast|naive] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      clean: { type: "string" },
      corrupt: { type: "string" },
      target: { type: "string" },
      foil: { type: "string" },
      site: { type: "string" },
      metric: { type: "string", default: "logit_diff_normalized" },
      strategy: { type: "string", default: "fast" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const site = requireString(flags, "site");
    if (!PATCH_SITES.includes(site as PatchSite)) {
      throw new UsageError(`--site must be one of ${PATCH_SITES.join(", ")}`);
    }
    const metric = flags.metric as string;
    if (!PATCH_METRICS.includes(metric as PatchMetric)) {
      throw new UsageError(`--metric must be one of ${PATCH_METRICS.join(", ")}`);
    }
    const strategy = flags.strategy as string;
    if (strategy !== "fast" && strategy !== "naive")
      throw new UsageError("--strategy must be fast or naive");
    const spec = {
      clean: requireString(flags, "clean"),
      corrupt: requireString(flags, "corrupt"),
      target: requireString(flags, "target"),
      foil: requireString(flags, "foil"),
      site: site as PatchSite,
      metric: metric as PatchMetric,
      strategy: strategy as "fast" | "naive",
    };
    const { engine, backend } = await loadCliEngine(
      requireString(flags, "model"),
      flags.backend as string | undefined,
    );
    try {
      const r = await runPatch(engine, spec).catch(asUsage);
      return { ...r, backend };
    } finally {
      engine.dispose();
    }
  },
  format(result) {
    const r = result as PatchResult;
    const lines = [
      `${r.site} patching, ${r.metric}: target ${JSON.stringify(r.target.token)} vs foil ${JSON.stringify(r.foil.token)}; LD clean ${r.clean_logit_diff.toFixed(3)}, corrupted ${r.corrupt_logit_diff.toFixed(3)}; ${r.evaluations} evaluations (${r.strategy}), ${r.ms.toFixed(0)} ms`,
    ];
    const fmt = (v: number) => v.toFixed(3).padStart(7);
    (r.scores as unknown[]).forEach((row, l) => {
      const flat = (row as (number | number[])[]).map((x) =>
        Array.isArray(x) ? `[${x.map(fmt).join("")}]` : fmt(x),
      );
      lines.push(`L${String(l).padEnd(3)}${flat.join(" ")}`);
    });
    return lines.join("\n");
  },
};
