/**
 * Encodes prompts with a model's tokenizer.json for make_goldens.py, using the tokenizer library
 * directly (not Causeway's wrapper), with no special tokens added, as GPT-2 does.
 *   npx tsx scripts/reference/encode.mts path/to/tokenizer.json "prompt one" "prompt two"
 * prints one JSON line: [[ids of prompt one], [ids of prompt two]].
 */
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [file, ...prompts] = process.argv.slice(2);
if (!file || prompts.length === 0) {
  console.error("usage: encode.mts tokenizer.json PROMPT...");
  process.exit(2);
}
const json = JSON.parse(readFileSync(file, "utf8"));
const tok = new Tokenizer({ ...json, added_tokens: json.added_tokens ?? [] }, {});
const ids = prompts.map((p) => tok.encode(p, { add_special_tokens: false }).ids);
console.log(JSON.stringify(ids));
