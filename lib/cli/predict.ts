/** `causeway predict`: the top next-token predictions for a prompt. */
import { Engine } from "../engine";
import { PREDICT_PARAMS } from "../params/table";
import { paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { editedFromFile } from "./edit-inputs";
import { loadCliEngine } from "./engine";

export const predictCommand: Command = {
  name: "predict",
  usage:
    "causeway predict --model M --prompt P [--top 10] [--edits edits.json] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      prompt: { type: "string" },
      top: { type: "string" },
      edits: { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const prompt = flags.prompt;
    if (typeof prompt !== "string") throw new UsageError("--prompt is required");
    const top = paramFlag(flags, "top", PREDICT_PARAMS.top) as number;
    const { engine, backend } = await loadCliEngine(
      requireString(flags, "model"),
      flags.backend as string | undefined,
    );
    try {
      // --edits: the edited model (docs/edits.md) as a view for this prompt's length
      const edited =
        typeof flags.edits === "string"
          ? await editedFromFile(engine, requireString(flags, "model"), flags.edits)
          : undefined;
      const T = engine.tokenize(prompt).ids.length;
      const p = await (edited && T > 0 && T <= engine.model.config.nCtx
        ? Engine.fromModel(engine.info.name, edited.view(T), engine.tokenizer).predict(prompt, top)
        : engine.predict(prompt, top)
      ).finally(() => edited?.dispose());
      return {
        model: engine.info.name,
        backend,
        ...(edited ? { edits: edited.plan.edits.length } : {}),
        input_ids: p.inputIds,
        input_tokens: p.inputTokens,
        top: p.top.map((t) => ({ id: t.id, token: t.token, prob: t.prob })),
      };
    } finally {
      engine.dispose();
    }
  },
  format(result) {
    const r = result as { input_tokens: string[]; top: { token: string; prob: number }[] };
    const lines = [`tokens: ${r.input_tokens.map((t) => JSON.stringify(t)).join(" ")}`];
    for (const t of r.top)
      lines.push(`${(t.prob * 100).toFixed(2).padStart(6)}%  ${JSON.stringify(t.token)}`);
    return lines.join("\n");
  },
};
