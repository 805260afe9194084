/** lib/viz/cli.ts: the command line shown under a trace recomputes it. */
import { describe, expect, it } from "vitest";
import { shellQuote, traceCommand } from "../lib/viz/cli";

describe("traceCommand", () => {
  it("spells the job as CLI flags, quoted for a POSIX shell", () => {
    expect(
      traceCommand(
        {
          type: "trace",
          kinds: ["hidden", "mlp", "attn"],
          spec: {
            prompt: "Ralkrok Stennos lives in the city of",
            subject: [0, 5],
            samples: 3,
            noise: 3,
            seed: 1,
            corruption: { type: "noise" },
          },
        },
        "tiny-facts",
      ),
    ).toBe(
      "npx causeway trace --model tiny-facts --prompt 'Ralkrok Stennos lives in the city of' --subject-range 0:5 --kind all --samples 3 --noise 3 --seed 1 --json",
    );
  });

  it("counterfactual prompts, targets, windows and single kinds", () => {
    expect(
      traceCommand(
        {
          type: "trace",
          kinds: ["mlp"],
          spec: {
            prompt: "A b",
            subject: "A",
            target: " Paris",
            window: 2,
            corruption: { type: "prompt", prompt: "It's b" },
          },
        },
        "m",
      ),
    ).toBe(
      `npx causeway trace --model m --prompt 'A b' --subject A --target ' Paris' --kind mlp --corrupt-prompt 'It'\\''s b' --window 2 --json`,
    );
  });

  it("shellQuote leaves safe words bare", () => {
    expect(shellQuote("tiny-facts")).toBe("tiny-facts");
    expect(shellQuote("0:5")).toBe("0:5");
    expect(shellQuote("")).toBe("''");
  });
});
