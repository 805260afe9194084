/**
 * `causeway lens`: the logit lens, every layer's residual stream decoded with the final
 * LayerNorm and the unembedding (lib/interp/logit-lens.ts).
 *
 *   causeway lens --model M --prompt P [--target T] [--top 5] [--backend wasm|cpu] --json
 *
 * JSON: {input_ids, input_tokens, layers: ["resid_pre 0", …, "resid_post L−1"], target: {id, token},
 * target_prob: [L+1][T], top: [L+1][T][k] {id, token, prob}, n_layer, backend}.
 */
import { type LensResult, logitLens, MAX_LENS_TOP_K } from "../interp/logit-lens";
import { parseFlags, requireString } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, optionalInt, runOnEngine } from "./interp-run";

export const lensCommand: Command = {
  name: "lens",
  usage: "causeway lens --model M --prompt P [--target T] [--top 5] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...ENGINE_FLAGS,
      prompt: { type: "string" },
      target: { type: "string" },
      top: { type: "string" },
    });
    const spec = {
      prompt: requireString(flags, "prompt"),
      target: flags.target === undefined ? undefined : requireString(flags, "target"),
      topK: optionalInt(flags, "top", 1, MAX_LENS_TOP_K),
    };
    return runOnEngine(flags, (engine) => logitLens(engine, spec));
  },
  format(result) {
    const r = result as LensResult;
    const T = r.input_tokens.length;
    const lines = [
      `logit lens: p(${JSON.stringify(r.target.token)}) at the last position, and each layer's top-1 there`,
    ];
    r.layers.forEach((label, i) => {
      const best = r.top[i][T - 1][0];
      lines.push(
        `${label.padEnd(14)} ${r.target_prob[i][T - 1].toFixed(4)}  top ${JSON.stringify(best.token)} ${best.prob.toFixed(4)}`,
      );
    });
    return lines.join("\n");
  },
};
