/**
 * Profiles one causal trace on the GPT-2-small-shaped random model (wasm, Node): wall time and
 * kernel time by kernel name (tf.profile). A developer tool for finding slow kernels:
 *   npx tsx scripts/bench/profile-trace.mts [--tokens 10] [--samples 10] [--kind hidden] [--tiny]
 */
import "../../lib/model/backends-node";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { Engine } from "../../lib/engine";
import type { TraceKind } from "../../lib/interp/spec";
import type { TraceHost } from "../../lib/interp/tokens";
import { runTrace } from "../../lib/interp/trace";
import { directorySource } from "../../lib/load/node-source";
import { selectBackend } from "../../lib/model/backend";
import { Gpt2Model } from "../../lib/model/gpt2";
import { GPT2_SMALL, randomGpt2Weights, randomTokenIds } from "./random-gpt2";

const { values: a } = parseArgs({
  options: {
    tokens: { type: "string", default: "10" },
    samples: { type: "string", default: "10" },
    kind: { type: "string", default: "hidden" },
    tiny: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    repeat: { type: "string", default: "1" },
  },
});
await selectBackend(["wasm"]);
let host: TraceHost;
let dispose: () => void;
if (a.tiny) {
  const e = await Engine.load(
    directorySource(path.resolve("public/models/tiny-facts")),
    "tiny-facts",
  );
  host = e;
  dispose = () => e.dispose();
} else {
  const m = Gpt2Model.fromWeights(GPT2_SMALL, randomGpt2Weights(GPT2_SMALL, 1).weights);
  host = { model: m };
  dispose = () => m.dispose();
}
const T = Number(a.tokens);
const ids = randomTokenIds(T, host.model.config.vocabSize, 7);
const spec = {
  prompt: ids,
  subject: [1, 4] as [number, number],
  kind: a.kind as TraceKind,
  samples: Number(a.samples),
  strategy: "fast" as const,
};
// biome-ignore lint/suspicious/noExplicitAny: developer tool
await runTrace(host, { ...spec, samples: 1 } as any); // warm-up
for (let i = 0; i < Number(a.repeat); i++) {
  const t0 = performance.now();
  if (a.profile) {
    // biome-ignore lint/suspicious/noExplicitAny: developer tool
    let r: any;
    const info = await tf.profile(async () => {
      // biome-ignore lint/suspicious/noExplicitAny: developer tool
      r = await runTrace(host, spec as any);
    });
    const byName = new Map<string, { ms: number; n: number }>();
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      const e = byName.get(k.name) ?? { ms: 0, n: 0 };
      e.ms += ms;
      e.n++;
      byName.set(k.name, e);
    }
    const rows = [...byName].sort((x, y) => y[1].ms - x[1].ms);
    const total = rows.reduce((s, [, v]) => s + v.ms, 0);
    console.log(`kernels ${info.kernels.length}, kernel ms ${total.toFixed(0)}`);
    for (const [n, v] of rows.slice(0, 15))
      console.log(`${n.padEnd(20)} ${v.ms.toFixed(0).padStart(7)} ms ${String(v.n).padStart(6)}×`);
    console.log(`high ${r.high} low ${r.low} s[0] ${r.scores[T - 1].slice(0, 3)}`);
  } else {
    // biome-ignore lint/suspicious/noExplicitAny: developer tool
    const r: any = await runTrace(host, spec as any);
    console.log(`high ${r.high} low ${r.low} s ${r.scores[T - 1].slice(0, 3)}`);
  }
  console.log(`wall ${(performance.now() - t0).toFixed(0)} ms`);
}
dispose();
