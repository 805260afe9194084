/**
 * Threads against one thread in Node: a GPT-2-small-shaped forward (random weights, batch 11 ×
 * 10 tokens, as in the peers' table) and the bundled model's calibration pass (2 × 8 tokens), on
 * tfjs-wasm with as many threads as CAUSEWAY_WASM_THREADS asks (lib/model/backends-node.ts).
 * Prints the best of 3 passes after a warm-up. Timings, not tests.
 *
 *   npx tsx scripts/bench/threads.mts                             one thread
 *   CAUSEWAY_WASM_THREADS=2 npx tsx scripts/bench/threads.mts     two threads
 */
import "../../lib/model/backends-node";
import os from "node:os";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { selectBackend } from "../../lib/model/backend";
import { Gpt2Model } from "../../lib/model/gpt2";
import { startWasm, wasmThreadsAvailable } from "../../lib/model/wasm-threads";
import { BUNDLED_MODEL_DIR, loadModelDir } from "../reference/golden";
import { GPT2_SMALL, randomGpt2Weights, randomTokenIds } from "./random-gpt2";

async function bestOf(model: Gpt2Model, batch: number, tokens: number): Promise<number> {
  const ids = Array.from({ length: batch }, (_, r) =>
    randomTokenIds(tokens, model.config.vocabSize, r + 1),
  );
  const pass = async () => {
    const t0 = performance.now();
    const { logits } = model.forward({ inputIds: ids, logitPositions: "last" });
    await logits.data();
    logits.dispose();
    return performance.now() - t0;
  };
  await pass();
  return Math.min(await pass(), await pass(), await pass());
}

const threads = wasmThreadsAvailable();
await (threads > 1 ? startWasm(threads) : selectBackend(["wasm"]));
const rows: [string, number][] = [];
const bundled = await loadModelDir(BUNDLED_MODEL_DIR);
let m = Gpt2Model.fromWeights(bundled.config, bundled.weights);
rows.push(["tiny-facts, 2 × 8 tokens (the calibration pass)", await bestOf(m, 2, 8)]);
m.dispose();
const small = randomGpt2Weights(GPT2_SMALL, 1);
m = Gpt2Model.fromWeights(small.config, small.weights);
rows.push(["GPT-2-small shape, 11 × 10 tokens", await bestOf(m, 11, 10)]);
m.dispose();
const load = os.loadavg().map((l) => l.toFixed(1));
console.log(`wasm on ${getThreadsCount()} thread(s); load average ${load.join(" / ")}`);
for (const [what, ms] of rows) console.log(`  ${what}: ${ms.toFixed(1)} ms`);
