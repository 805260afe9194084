/** `causeway predict`: the top next-token predictions for a prompt. */
import { intFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { loadCliEngine } from "./engine";

export const predictCommand: Command = {
  name: "predict",
  usage: "causeway predict --model M --prompt P [--top 10] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      prompt: { type: "string" },
      top: { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const prompt = flags.prompt;
    if (typeof prompt !== "string") throw new UsageError("--prompt is required");
    const top = intFlag(flags, "top", 10, 1, 1000);
    const { engine, backend } = await loadCliEngine(
      requireString(flags, "model"),
      flags.backend as string | undefined,
    );
    try {
      const p = await engine.predict(prompt, top);
      return {
        model: engine.info.name,
        backend,
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
