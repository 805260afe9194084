/**
 * `causeway path`: path patching from a sender head to receiver heads (lib/interp/path-patch.ts).
 *
 *   causeway path --model M --clean P --corrupt C --target T --foil F --sender L3H1
 *     [--receivers L4H0,L5H2,…] [--joint-only] [--inputs q,k,v] [--backend wasm|cpu] --json
 *
 * Heads are written L3H1 (as the app labels them) or 3.1. --joint-only: only the receivers' joint
 * effect (4 forward passes), no per-head grid (scores all null).
 *
 * JSON: {clean_ids, corrupt_ids, target, foil, sender, inputs, receivers, clean_logit_diff,
 * corrupt_logit_diff, scores [L][H] (sender → that head alone; null up to the sender's layer),
 * joint (the receivers together; null without --receivers), evaluations, ms, backend}. Effects are
 * (LD − LD_clean) / (LD_clean − LD_corrupt): 0 = the path carries nothing, −1 = everything.
 */
import {
  type HeadRef,
  type PathPatchResult,
  RECEIVER_INPUTS,
  runPathPatch,
} from "../interp/path-patch";
import { choiceListFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, runOnEngine } from "./interp-run";

/** "L3H1" or "3.1" → {layer: 3, head: 1}; the range is checked against the model by the lib. */
export function parseHeadRef(text: string, flag: string): HeadRef {
  const m = /^(?:L(\d{1,4})H(\d{1,4})|(\d{1,4})\.(\d{1,4}))$/i.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `${flag} takes heads as L<layer>H<head> or LAYER.HEAD (e.g. L3H1 or 3.1); got "${text}"`,
    );
  }
  return { layer: Number(m[1] ?? m[3]), head: Number(m[2] ?? m[4]) };
}

export const pathCommand: Command = {
  name: "path",
  usage:
    "causeway path --model M --clean P --corrupt C --target T --foil F --sender L3H1 [--receivers L4H0,L5H2,…] [--joint-only] [--inputs q,k,v] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...ENGINE_FLAGS,
      clean: { type: "string" },
      corrupt: { type: "string" },
      target: { type: "string" },
      foil: { type: "string" },
      sender: { type: "string" },
      receivers: { type: "string" },
      "joint-only": { type: "boolean" },
      inputs: { type: "string" },
    });
    const spec = {
      clean: requireString(flags, "clean"),
      corrupt: requireString(flags, "corrupt"),
      target: requireString(flags, "target"),
      foil: requireString(flags, "foil"),
      sender: parseHeadRef(requireString(flags, "sender"), "--sender"),
      receivers:
        flags.receivers === undefined
          ? undefined
          : String(flags.receivers)
              .split(",")
              .map((s) => parseHeadRef(s, "--receivers")),
      inputs: choiceListFlag(flags, "inputs", RECEIVER_INPUTS, "q, k, v"),
      perHead: flags["joint-only"] !== true,
    };
    if (!spec.perHead && spec.receivers === undefined) {
      throw new UsageError(
        "--joint-only needs --receivers (the set whose joint effect to measure)",
      );
    }
    const r = await runOnEngine(flags, (engine) => runPathPatch(engine, spec));
    // JSON has no NaN: heads that are not receivers are null
    return { ...r, scores: r.scores.map((row) => row.map((v) => (Number.isNaN(v) ? null : v))) };
  },
  format(result) {
    const r = result as PathPatchResult & { scores: (number | null)[][] };
    const head = (h: HeadRef) => `L${h.layer}H${h.head}`;
    const grid = r.scores.some((row) => row.some((v) => v !== null));
    const lines = [
      `path patching from ${head(r.sender)} into the ${r.inputs.join("/")} of ${grid ? "each later head" : "the receivers"}: target ${JSON.stringify(r.target.token)} vs foil ${JSON.stringify(r.foil.token)}; LD clean ${r.clean_logit_diff.toFixed(3)}, corrupted ${r.corrupt_logit_diff.toFixed(3)}; ${r.evaluations} evaluations, ${r.ms.toFixed(0)} ms`,
      "effect = (LD − LD clean) / (LD clean − LD corrupted): 0 nothing, −1 all of it",
    ];
    r.scores.forEach((row, l) => {
      if (l <= r.sender.layer || !grid) return;
      lines.push(
        `L${String(l).padEnd(3)}${row.map((v) => (v === null ? "" : v.toFixed(3)).padStart(8)).join("")}`,
      );
    });
    if (r.joint !== null)
      lines.push(`joint (${r.receivers.map(head).join(", ")}): ${r.joint.toFixed(4)}`);
    return lines.join("\n");
  },
};
