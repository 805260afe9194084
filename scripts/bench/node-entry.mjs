// Child process of scripts/bench.mjs: runs scripts/bench/node.ts (through tsx, as bin/causeway.mjs
// runs the CLI) with the plan given as JSON in argv[2], and writes its result to plan.outFile.
import { writeFileSync } from "node:fs";
import { tsImport } from "tsx/esm/api";

const plan = JSON.parse(process.argv[2]);
const { runNodeBench } = await tsImport("./node.ts", import.meta.url);
const t0 = performance.now();
const result = await runNodeBench({
  ...plan,
  log: (line) => console.log(`[node ${((performance.now() - t0) / 1000).toFixed(0)} s] ${line}`),
});
writeFileSync(plan.outFile, JSON.stringify(result));
