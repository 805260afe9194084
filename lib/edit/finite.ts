/**
 * After a stack is learned, one short pass of the edited model checks that its outputs are
 * finite: a scale or α near the float range, or learned values that overflow, otherwise give
 * NaN/Infinity logits, which the app shows as "NaN%" or arbitrary top tokens. The check costs
 * one forward of a few tokens; only when it fails are prefixes of the stack tried, to name the
 * first edit that breaks the outputs.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Config } from "../load/types";
import type { Gpt2Model } from "../model/gpt2";
import { applyEdits } from "./apply";
import { planEdits } from "./plan";
import { describeEdit, type Edit, EditError, isEnabled } from "./types";

/** Tokens in the probe: enough to reach the explicit positions edits name (up to the context). */
const PROBE_TOKENS = 16;

function probeLength(edits: readonly Edit[], config: Gpt2Config): number {
  let last = PROBE_TOKENS - 1;
  for (const m of planEdits(edits, config).maps) {
    for (const r of [m.position, m.loreft?.rule]) if (Array.isArray(r)) last = Math.max(last, ...r);
  }
  return Math.min(config.nCtx, last + 1);
}

/** Whether the logits of the model with `edits` are all finite on a probe of T tokens. */
async function finiteWith(model: Gpt2Model, edits: readonly Edit[], T: number): Promise<boolean> {
  const { vocabSize } = model.config;
  const ids = Array.from({ length: T }, (_, i) => (i * 7919) % vocabSize);
  const edited = applyEdits(model, edits);
  try {
    // x − x is 0 for every finite x and NaN for ±Infinity and NaN: one scalar to read back
    const s = tf.tidy(() => {
      const { logits } = edited.forward({ inputIds: [ids], logitPositions: "all" }); // [1, T, V]
      return logits.sub(logits).sum();
    });
    const v = (await s.data())[0];
    s.dispose();
    return v === 0;
  } finally {
    edited.dispose();
  }
}

/**
 * Throws EditError "bad_edit" naming the first edit (in stack order) after which the model's
 * logits hold NaN or Infinity; nothing when every output is finite or no edit is enabled.
 */
export async function checkFiniteOutputs(model: Gpt2Model, edits: readonly Edit[]): Promise<void> {
  if (!edits.some(isEnabled)) return;
  const T = probeLength(edits, model.config);
  if (await finiteWith(model, edits, T)) return;
  if (!(await finiteWith(model, [], T))) {
    throw new EditError(
      "bad_edit",
      "the model's own outputs are not finite (NaN or Infinity) before any edit",
    );
  }
  for (const [i, e] of edits.entries()) {
    if (!isEnabled(e)) continue;
    if (!(await finiteWith(model, edits.slice(0, i + 1), T))) {
      throw new EditError(
        "bad_edit",
        `edit ${i} (${describeEdit(e)}) makes the model's outputs NaN or Infinity: its scale, α or learned values are too large`,
      );
    }
  }
}
