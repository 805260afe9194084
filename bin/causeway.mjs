#!/usr/bin/env node
// Entry point for `npx causeway …`: loads the TypeScript CLI through tsx so lib/ runs unbuilt,
// exactly the code the browser worker runs.
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("../lib/cli/main.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
