/**
 * What a family model offers (the same forward contract as Gpt2Model's, minus interventions),
 * and the loader that reads config.json + weights from a FileSource and picks the family.
 */
import type * as tf from "@tensorflow/tfjs";
import { LoadError } from "../../load/errors";
import type { FileSource } from "../../load/types";
import { type FamilyConfig, parseFamilyConfig } from "./config";
import type { FamilyHookName } from "./hooks";
import { LlamaModel, llamaWeightSpec } from "./llama";
import { NeoxModel, neoxWeightSpec } from "./neox";
import { readFamilyWeights } from "./weights";

export interface ForwardArgs {
  inputIds: number[][]; // [B][T]
  /** Hook names whose activations to return (must be in hookNames). */
  record?: readonly string[];
}

export interface FamilyForward {
  logits: tf.Tensor3D; // [B, T, V]
  /** The caller owns and disposes these, like logits. */
  activations: Map<string, tf.Tensor>;
}

export interface FamilyModel {
  readonly config: FamilyConfig;
  readonly hookNames: readonly FamilyHookName[];
  forward(args: ForwardArgs): FamilyForward;
  dispose(): void;
}

export async function loadFamilyModel(source: FileSource): Promise<FamilyModel> {
  const text = new TextDecoder().decode(await source.read("config.json"));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LoadError("bad_config", "config.json", `not valid JSON (${(e as Error).message})`);
  }
  const config = parseFamilyConfig(json);
  if (config.family === "llama") {
    return LlamaModel.fromHost(config, await readFamilyWeights(source, llamaWeightSpec(config)));
  }
  return NeoxModel.fromHost(config, await readFamilyWeights(source, neoxWeightSpec(config)));
}
