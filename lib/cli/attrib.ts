/**
 * `causeway attrib`: attribution patching, the first-order estimate of activation patching at
 * every site from one clean forward, one corrupted forward and one backward pass
 * (lib/interp/attribution.ts), beside exact patching (lib/interp/patch.ts) with Pearson's r.
 *
 *   causeway attrib --model M --clean P --corrupt C --target T --foil F
 *     [--sites resid_pre,attn_out,mlp_out,head_out,head_out_pos] [--skip-exact]
 *     [--backend wasm|cpu] --json
 *
 * JSON: {clean_ids, corrupt_ids, target, foil, clean_logit_diff, corrupt_logit_diff,
 * scores: {resid_pre, attn_out, mlp_out: [L][T], head_out: [L][H], head_out_pos: [L][T][H]}, ms,
 * exact: [{site, correlation, exact, evaluations, ms}] (one per --sites entry; [] with
 * --skip-exact), backend}. Scores are normalised as patch's logit_diff_normalized.
 */
import {
  type AttributionComparison,
  type AttributionResult,
  attributionPatching,
  compareWithPatching,
} from "../interp/attribution";
import { PATCH_SITES } from "../interp/spec";
import { choiceListFlag, parseFlags, requireString } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, runOnEngine } from "./interp-run";

export const attribCommand: Command = {
  name: "attrib",
  usage:
    "causeway attrib --model M --clean P --corrupt C --target T --foil F [--sites resid_pre,attn_out,mlp_out,head_out,head_out_pos] [--skip-exact] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...ENGINE_FLAGS,
      clean: { type: "string" },
      corrupt: { type: "string" },
      target: { type: "string" },
      foil: { type: "string" },
      sites: { type: "string" },
      "skip-exact": { type: "boolean", default: false },
    });
    const spec = {
      clean: requireString(flags, "clean"),
      corrupt: requireString(flags, "corrupt"),
      target: requireString(flags, "target"),
      foil: requireString(flags, "foil"),
    };
    const sites = flags["skip-exact"]
      ? []
      : (choiceListFlag(flags, "sites", PATCH_SITES) ?? [...PATCH_SITES]);
    return runOnEngine(flags, async (engine) => {
      const estimate = await attributionPatching(engine, spec);
      const exact = await compareWithPatching(engine, spec, estimate, sites);
      return { ...estimate, exact };
    });
  },
  format(result) {
    const r = result as AttributionResult & { exact: AttributionComparison[] };
    const lines = [
      `attribution patching, ${JSON.stringify(r.target.token)} vs ${JSON.stringify(r.foil.token)}: LD clean ${r.clean_logit_diff.toFixed(3)}, corrupted ${r.corrupt_logit_diff.toFixed(3)}; estimate ${r.ms.toFixed(0)} ms`,
    ];
    for (const c of r.exact) {
      lines.push(
        `${c.site.padEnd(13)} r = ${c.correlation.toFixed(3)} against exact patching (${c.evaluations} evaluations, ${c.ms.toFixed(0)} ms)`,
      );
    }
    return lines.join("\n");
  },
};
