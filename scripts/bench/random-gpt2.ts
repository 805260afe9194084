/**
 * A GPT-2-shaped model with seeded random weights, built in memory (no files): the benchmark's
 * stand-in for GPT-2 small, whose real weights cannot be downloaded here.
 *
 *   const { config, weights } = randomGpt2Weights(GPT2_SMALL, 1234);
 *   const model = Gpt2Model.fromWeights(config, weights);
 *
 * Entries are uniform on [mean − std·√3, mean + std·√3] (as PyTorch's default Linear init; one
 * xoshiro128** draw each, so the 124M weights take about a second rather than the 17 s
 * Box–Muller would). Scales are chosen so that the computation looks like a trained model's
 * rather than a degenerate one (std per entry):
 *   wte 0.11     tied unembedding: logits = ln_f(x) · wteᵀ have std ≈ 0.11·√768 ≈ 3, so the
 *                next-token softmax over 50,257 tokens is peaked but not one-hot
 *   wpe 0.01     small positional signal, as in GPT-2
 *   c_attn 0.05  q·k/√64 has std ≈ 2: attention patterns neither uniform nor one-hot
 *   c_fc 0.04    MLP pre-activations std ≈ 1, in GELU's curved range
 *   c_proj 0.02/√(2L)  GPT-2's residual-branch scaling
 *   biases 0.01, LayerNorm gains 1 ± 0.05, LayerNorm biases 0.01
 */
import { GaussianRng } from "../../lib/interp/rng";
import type { Gpt2BlockWeights, Gpt2Config, Gpt2Weights, HostTensor } from "../../lib/load/types";

/** GPT-2 small's shape (124M parameters with the real 50,257-token vocabulary). */
export const GPT2_SMALL: Gpt2Config = {
  modelType: "gpt2",
  nLayer: 12,
  nHead: 12,
  dModel: 768,
  dMlp: 3072,
  nCtx: 1024,
  vocabSize: 50257,
  layerNormEps: 1e-5,
  activation: "gelu_new",
};

export const WEIGHT_STD = {
  wte: 0.11,
  wpe: 0.01,
  attnQkv: 0.05,
  mlpIn: 0.04,
  proj: 0.02,
  bias: 0.01,
  lnGain: 0.05,
} as const;

const TWO_POW_32 = 4294967296;

/** A tensor of uniform entries with the given mean and standard deviation. */
export function uniform(rng: GaussianRng, shape: number[], std: number, mean = 0): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const half = std * Math.sqrt(3);
  const scale = (2 * half) / TWO_POW_32;
  const lo = mean - half;
  for (let i = 0; i < n; i++) data[i] = lo + scale * rng.nextUint32();
  return { shape, data };
}

/** Weights in HF GPT-2 (Conv1D) layout for `config`, the same for the same seed everywhere. */
export function randomGpt2Weights(
  config: Gpt2Config,
  seed: number,
): { config: Gpt2Config; weights: Gpt2Weights } {
  const { nLayer: L, dModel: D, dMlp: M, nCtx, vocabSize: V } = config;
  const rng = new GaussianRng(seed);
  const s = WEIGHT_STD;
  const projStd = s.proj / Math.sqrt(2 * L);
  const ln = () => ({ g: uniform(rng, [D], s.lnGain, 1), b: uniform(rng, [D], s.bias) });
  const wte = uniform(rng, [V, D], s.wte);
  const wpe = uniform(rng, [nCtx, D], s.wpe);
  const blocks: Gpt2BlockWeights[] = [];
  for (let l = 0; l < L; l++) {
    blocks.push({
      ln1: ln(),
      attnQkv: { w: uniform(rng, [D, 3 * D], s.attnQkv), b: uniform(rng, [3 * D], s.bias) },
      attnOut: { w: uniform(rng, [D, D], projStd), b: uniform(rng, [D], s.bias) },
      ln2: ln(),
      mlpIn: { w: uniform(rng, [D, M], s.mlpIn), b: uniform(rng, [M], s.bias) },
      mlpOut: { w: uniform(rng, [M, D], projStd), b: uniform(rng, [D], s.bias) },
    });
  }
  return { config, weights: { wte, wpe, blocks, lnF: ln() } };
}

/** Number of parameters (wte counted once: the unembedding is tied). */
export function gpt2ParamCount(c: Gpt2Config): number {
  const { nLayer: L, dModel: D, dMlp: M, nCtx, vocabSize: V } = c;
  const block = 4 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * M + M) + (M * D + D);
  return V * D + nCtx * D + L * block + 2 * D;
}

/** `n` token ids drawn uniformly from [0, vocabSize), seeded. */
export function randomTokenIds(n: number, vocabSize: number, seed: number): number[] {
  const rng = new GaussianRng(seed);
  return Array.from({ length: n }, () => rng.nextUint32() % vocabSize);
}
