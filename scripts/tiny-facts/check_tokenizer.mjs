// Checks that @huggingface/tokenizers gives the ids the Python encoder wrote into the fixture.
// Usage: node scripts/tiny-facts/check_tokenizer.mjs [tokenizer.json] [tokenization.json]
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [
  tokPath = "public/models/tiny-facts/tokenizer.json",
  fixPath = "test/fixtures/tiny-facts/tokenization.json",
] = process.argv.slice(2);
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokPath, "utf8")), {});
const { cases } = JSON.parse(readFileSync(fixPath, "utf8"));
let bad = 0;
for (const { text, ids } of cases) {
  const got = tokenizer.encode(text, { add_special_tokens: false }).ids;
  if (JSON.stringify(got) !== JSON.stringify(ids)) {
    bad++;
    console.log(
      `MISMATCH ${JSON.stringify(text)}\n  python ${JSON.stringify(ids)}\n  js     ${JSON.stringify(got)}`,
    );
  }
}
console.log(`${cases.length - bad}/${cases.length} fixture strings match`);
process.exit(bad ? 1 : 0);
