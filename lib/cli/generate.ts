/**
 * `causeway generate`: text from a prompt, greedy or sampled (lib/edit/generate.ts), from the
 * model and, with --edits, from the edited model too, side by side (the same seed for both, so
 * the two differ only by the edits).
 */
import { type Generation, generate } from "../edit/generate";
import { EditError } from "../edit/types";
import type { Engine } from "../engine";
import { GENERATE_PARAMS } from "../params/table";
import { paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { editedFromFile } from "./edit-inputs";
import { loadCliEngine } from "./engine";

interface Side {
  text: string;
  ids: number[];
  tokens: string[];
  stop: Generation["stop"];
}

interface GenerateResult {
  model: string;
  backend: string;
  prompt: string;
  prompt_ids: number[];
  settings: { sample: boolean; max_new: number; seed: number; temperature: number; top_k: number };
  original: Side;
  edited?: Side & { edits: number };
}

const side = (engine: Engine, g: Generation): Side => ({
  text: g.text,
  ids: g.ids,
  tokens: g.ids.map((id) => engine.tokenText(id)),
  stop: g.stop,
});

export const generateCommand: Command = {
  name: "generate",
  usage:
    "causeway generate --model M --prompt P [--edits edits.json] [--max-new 20] [--sample --seed 0 --temperature 1 --top-k 0] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      prompt: { type: "string" },
      edits: { type: "string" },
      "max-new": { type: "string" },
      sample: { type: "boolean", default: false },
      seed: { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const prompt = flags.prompt;
    if (typeof prompt !== "string" || prompt === "") throw new UsageError("--prompt is required");
    const sample = flags.sample === true;
    if (!sample) {
      for (const f of ["seed", "temperature", "top-k"]) {
        if (flags[f] !== undefined) throw new UsageError(`--${f} needs --sample`);
      }
    }
    const settings = {
      sample,
      max_new: paramFlag(flags, "max-new", GENERATE_PARAMS.maxNew) as number,
      seed: paramFlag(flags, "seed", GENERATE_PARAMS.seed) as number,
      temperature: paramFlag(flags, "temperature", GENERATE_PARAMS.temperature) as number,
      top_k: paramFlag(flags, "top-k", GENERATE_PARAMS.topK) as number,
    };
    const model = requireString(flags, "model");
    const { engine, backend } = await loadCliEngine(model, flags.backend as string | undefined);
    try {
      const ids = engine.tokenize(prompt).ids;
      if (ids.length > engine.model.config.nCtx) {
        throw new UsageError(
          `the prompt has ${ids.length} tokens; the model's context is ${engine.model.config.nCtx}`,
        );
      }
      const opts = {
        maxNew: settings.max_new,
        sample,
        seed: settings.seed,
        temperature: settings.temperature,
        topK: settings.top_k,
        eosId: (engine.tokenizer as { eosId?: number }).eosId,
      };
      const run = (m: Parameters<typeof generate>[0]) =>
        generate(m, engine.tokenizer, ids, opts).catch((e) => {
          throw e instanceof EditError ? new UsageError(e.message) : e;
        });
      const original = side(engine, await run(engine.model));
      const result: GenerateResult = {
        model: engine.info.name,
        backend,
        prompt,
        prompt_ids: ids,
        settings,
        original,
      };
      if (typeof flags.edits === "string") {
        const edited = await editedFromFile(engine, model, flags.edits);
        try {
          result.edited = { ...side(engine, await run(edited)), edits: edited.plan.edits.length };
        } finally {
          edited.dispose();
        }
      }
      return result;
    } finally {
      engine.dispose();
    }
  },
  format(result) {
    const r = result as GenerateResult;
    const how = r.settings.sample
      ? `sampled (seed ${r.settings.seed}, temperature ${r.settings.temperature}, top-k ${r.settings.top_k || "all"})`
      : "greedy";
    const lines = [`${how}, at most ${r.settings.max_new} new tokens`];
    const show = (name: string, s: Side) =>
      `${name.padEnd(9)}${JSON.stringify(r.prompt)} + ${JSON.stringify(s.text)}  [${s.stop}]`;
    lines.push(show("original", r.original));
    if (r.edited) lines.push(show(`edited`, r.edited));
    return lines.join("\n");
  },
};
