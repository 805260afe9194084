/**
 * Full fine-tuning of a layer range (Hewitt et al. 2024 compare it with LoRA at the same deviation
 * cap): a lora edit with params.full = true trains every module's ΔW [in, out] directly, Adam from
 * ΔW = 0, with the loss, cap and evaluation of lib/edit/lora.ts. The file stores ΔW exactly as
 * factors of rank r = min(in, out), one side the identity (A = I, B = ΔW when in ≤ out, else
 * A = ΔW, B = I) with α = r (s = 1), so applying, saving, links and checkpoints are LoRA's.
 */
import * as tf from "@tensorflow/tfjs";
import type { AnyModelConfig } from "./family-sites";
import type { Trainable, TrainablesOptions } from "./lora";
import { loraWeight } from "./lora-site";
import { EditError, type LoraModule } from "./types";

/** The largest rank a lora edit's file may carry (lib/edit/bounds.ts lora_rank). */
const MAX_RANK = 256;

/** r = min(in, out), the same for every module, or a clear refusal. */
export function fullRank(modules: readonly LoraModule[], config: AnyModelConfig): number {
  const ranks = modules.map((m) => {
    const { rows, cols } = loraWeight(m, config);
    return Math.min(rows, cols);
  });
  if (ranks.some((r) => r !== ranks[0]))
    throw new EditError(
      "bad_edit",
      `full fine-tuning needs modules of one rank min(in, out); ${modules.join(", ")} have ${ranks.join(", ")}`,
    );
  if (ranks[0] > MAX_RANK)
    throw new EditError(
      "bad_edit",
      `full fine-tuning stores ΔW as rank-${ranks[0]} factors; a lora edit carries at most rank ${MAX_RANK}`,
    );
  return ranks[0];
}

/** Identity [n, n] as a row-major list. */
function eye(n: number): number[] {
  const out = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** ΔW of every (layer, module), zero to start. */
export function fullTrainables(o: TrainablesOptions): Trainable[] {
  const { layers, modules, config } = o;
  const train: Trainable[] = [];
  for (let layer = layers[0]; layer <= layers[1]; layer++) {
    for (const module of modules) {
      const { name, rows, cols, colOffset } = loraWeight(module, config);
      const d0 = tf.zeros([rows, cols]);
      const d = tf.variable(d0, true); // [in, out]
      d0.dispose();
      train.push({
        layer,
        module,
        name,
        colOffset,
        vars: [d],
        delta: () => d,
        factor: async () => {
          const dw = Array.from(await d.data());
          return rows <= cols
            ? { layer, module, a: eye(rows), b: dw }
            : { layer, module, a: dw, b: eye(cols) };
        },
      });
    }
  }
  return train;
}
