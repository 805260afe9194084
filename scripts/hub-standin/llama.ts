/**
 * A Llama-layout hub repo for the stand-in: the bundled tiny-facts-llama (config.json with
 * model_type llama, HF LlamaForCausalLM names, GQA, untied lm_head) converted to BF16 and
 * SHARDED in two files with a model.safetensors.index.json, as hub Llama checkpoints are.
 *
 *   npx tsx scripts/hub-standin/generate.ts <root>     writes both stand-ins, this one at
 *                                                       <root>/<LLAMA_STANDIN_REPO>/…
 *
 * scripts/tiny-facts/check_llama_ref.py --standin DIR --write-goldens computes its golden logits
 * (numpy) from the written files.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseSafetensors } from "../../lib/load/safetensors";
import { type Tensor, writeShards } from "./write-safetensors";

export const LLAMA_STANDIN_REPO = "causeway-test/tiny-facts-llama-bf16";
const BUNDLED = fileURLToPath(new URL("../../public/models/tiny-facts-llama/", import.meta.url));

/** Writes the BF16 sharded copy into `<root>/<repo>/` (skipped when already there). */
export function generateLlamaStandin(root: string, repo = LLAMA_STANDIN_REPO): string {
  const dir = path.join(root, ...repo.split("/"));
  const config = {
    ...JSON.parse(readFileSync(path.join(BUNDLED, "config.json"), "utf8")),
    torch_dtype: "bfloat16",
  };
  const configText = `${JSON.stringify(config, null, 2)}\n`;
  const configPath = path.join(dir, "config.json");
  const bundledBytes = readFileSync(path.join(BUNDLED, "model.safetensors"));
  // The marker names the bundled weights it was made from, so a retrained model is re-converted.
  const marker = path.join(dir, ".source-sha256");
  const sha = createHash("sha256").update(bundledBytes).digest("hex");
  const fresh =
    existsSync(configPath) &&
    readFileSync(configPath, "utf8") === configText &&
    existsSync(marker) &&
    readFileSync(marker, "utf8") === sha;
  if (fresh) return dir;
  mkdirSync(dir, { recursive: true });
  const weights = parseSafetensors(bundledBytes, "tiny-facts-llama/model.safetensors");
  const all: [string, Tensor][] = [...weights].map(([name, t]) => [
    name,
    { shape: t.shape, data: t.data },
  ]);
  // Shard 1: embed_tokens and lm_head (half the bytes); shard 2: the layers and the final norm.
  const outer = (name: string) => name === "lm_head.weight" || name.endsWith("embed_tokens.weight");
  writeShards(
    dir,
    [
      ["model-00001-of-00002.safetensors", all.filter(([n]) => outer(n))],
      ["model-00002-of-00002.safetensors", all.filter(([n]) => !outer(n))],
    ],
    "BF16",
  );
  writeFileSync(
    path.join(dir, "tokenizer.json"),
    readFileSync(path.join(BUNDLED, "tokenizer.json")),
  );
  writeFileSync(configPath, configText);
  writeFileSync(marker, sha); // last: its presence means the rest is written
  return dir;
}
