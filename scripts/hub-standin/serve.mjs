/**
 * Runs the hub stand-in (server.mjs) from the command line:
 *   npx tsx scripts/hub-standin/generate.ts .cache/hub-standin
 *   node scripts/hub-standin/serve.mjs --root .cache/hub-standin [--port 4180] [--slow-bps N]
 * then open the app with ?hub=http://127.0.0.1:4180 and load causeway-test/gpt2-standin.
 */
import path from "node:path";
import { startHubStandin } from "./server.mjs";

const arg = (flag, fallback) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const root = arg("--root");
if (!root) {
  console.error("usage: node scripts/hub-standin/serve.mjs --root <dir> [--port N] [--slow-bps N]");
  process.exit(2);
}
const s = await startHubStandin({
  root,
  port: Number(arg("--port", "4180")),
  slowBytesPerSec: Number(arg("--slow-bps", String(256 * 1024))),
});
console.log(`hub stand-in serving ${path.resolve(root)} at ${s.url}`);
