/** The largest |logit − golden| at a prompt's last position, for tests against numpy goldens. */
import * as tf from "@tensorflow/tfjs";
import type { Engine } from "../../lib/engine";

export async function lastLogitsError(
  engine: Engine,
  ids: number[],
  golden: readonly number[],
): Promise<number> {
  const logits = tf.tidy(
    () =>
      engine.model
        .forward({ inputIds: [ids], logitPositions: "last" })
        .logits.reshape([-1]) as tf.Tensor1D,
  );
  const last = await logits.data();
  logits.dispose();
  if (last.length !== golden.length) {
    throw new Error(`${last.length} logits, the golden has ${golden.length}`);
  }
  let worst = 0;
  for (let i = 0; i < last.length; i++) worst = Math.max(worst, Math.abs(last[i] - golden[i]));
  return worst;
}
