/**
 * `causeway heads`: per-head attention scores, layer × head (lib/interp/head-scores.ts).
 *
 *   causeway heads --model M --prompt P [--subject S | --subject-range B:E]
 *     [--repeat-length N] [--repeat-batch 4] [--seed 1] [--backend wasm|cpu] --json
 *
 * JSON: {input_ids, input_tokens, subject_range, repeat: {length, batch, seed, ids},
 * scores: {previous_token, first_token, subject, duplicate_token, induction: [L][H] | null},
 * definitions: {name: sentence}, n_layer, n_head, backend}.
 */
import { HEAD_SCORE_NAMES, type HeadScoresResult, headScores } from "../interp/head-scores";
import { parseFlags, requireString } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, gridText, optionalInt, runOnEngine } from "./interp-run";
import { parseRange } from "./trace";

export const headsCommand: Command = {
  name: "heads",
  usage:
    "causeway heads --model M --prompt P [--subject S | --subject-range B:E] [--repeat-length N] [--repeat-batch 4] [--seed 1] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...ENGINE_FLAGS,
      prompt: { type: "string" },
      subject: { type: "string" },
      "subject-range": { type: "string" },
      "repeat-length": { type: "string" },
      "repeat-batch": { type: "string" },
      seed: { type: "string" },
    });
    const prompt = requireString(flags, "prompt");
    const range = flags["subject-range"];
    const subject =
      typeof range === "string"
        ? parseRange(range, "subject-range")
        : typeof flags.subject === "string" && flags.subject !== ""
          ? flags.subject
          : undefined;
    const spec = {
      prompt,
      subject,
      repeatLength: optionalInt(flags, "repeat-length", 2, 100_000),
      repeatBatch: optionalInt(flags, "repeat-batch", 1, 64),
      seed: optionalInt(flags, "seed", 0, 2 ** 32 - 1),
    };
    return runOnEngine(flags, (engine) => headScores(engine, spec));
  },
  format(result) {
    const r = result as HeadScoresResult;
    const lines: string[] = [];
    for (const name of HEAD_SCORE_NAMES) {
      const s = r.scores[name];
      lines.push(`${name}: ${r.definitions[name]}`);
      if (s === null) lines.push("  (not defined for this prompt)");
      else lines.push(...gridText(s, (l) => `  L${l}`));
    }
    return lines.join("\n");
  },
};
