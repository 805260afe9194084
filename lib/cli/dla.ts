/**
 * `causeway dla`: direct logit attribution of target − foil to every head, MLP layer, bias and
 * the embeddings, with the final LayerNorm's scale frozen (lib/interp/dla.ts).
 *
 *   causeway dla --model M --prompt P --target T --foil F [--position N] [--backend wasm|cpu] --json
 *
 * JSON: {input_ids, input_tokens, position, target, foil, logit_diff, heads: [L][H], attn_bias: [L],
 * mlp: [L], embed, pos_embed, ln_final_bias, total, final_scale, n_layer, n_head, backend};
 * the terms sum to total, which equals logit_diff.
 */
import { type DlaResult, directLogitAttribution } from "../interp/dla";
import { parseFlags, requireString } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, gridText, optionalInt, runOnEngine } from "./interp-run";

export const dlaCommand: Command = {
  name: "dla",
  usage:
    "causeway dla --model M --prompt P --target T --foil F [--position N] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...ENGINE_FLAGS,
      prompt: { type: "string" },
      target: { type: "string" },
      foil: { type: "string" },
      position: { type: "string" },
    });
    const spec = {
      prompt: requireString(flags, "prompt"),
      target: requireString(flags, "target"),
      foil: requireString(flags, "foil"),
      position: optionalInt(flags, "position", 0, 100_000),
    };
    return runOnEngine(flags, (engine) => directLogitAttribution(engine, spec));
  },
  format(result) {
    const r = result as DlaResult;
    const f = (v: number) => v.toFixed(3);
    return [
      `direct logit attribution of ${JSON.stringify(r.target.token)} − ${JSON.stringify(r.foil.token)} at position ${r.position}: LD ${f(r.logit_diff)}, terms sum to ${f(r.total)}`,
      "heads (layer × head):",
      ...gridText(r.heads, (l) => `  L${l}`),
      `mlp:       ${r.mlp.map(f).join(" ")}`,
      `attn bias: ${r.attn_bias.map(f).join(" ")}`,
      `embed ${f(r.embed)}  pos_embed ${f(r.pos_embed)}  ln_final bias ${f(r.ln_final_bias)}`,
    ].join("\n");
  },
};
