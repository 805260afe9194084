/** A model folder (config.json, safetensors, as the loaders read it) as a Gpt2Model, for tests. */
import { loadWeights, readModelConfig } from "../../lib/load/model-files";
import { directorySource } from "../../lib/load/node-source";
import { Gpt2Model } from "../../lib/model/gpt2";

export async function loadModelDir(dir: string): Promise<Gpt2Model> {
  const src = directorySource(dir);
  const config = await readModelConfig(src);
  return Gpt2Model.fromWeights(config, await loadWeights(src, config));
}
