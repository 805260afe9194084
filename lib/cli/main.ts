/**
 * `causeway <command> [flags]`. Results go to stdout (JSON with --json); any error goes to
 * stderr as one line "causeway: <reason>" with exit code 2 for usage errors, 1 otherwise.
 */
import { UsageError } from "./args";
import { COMMANDS } from "./commands";

function usage(): string {
  return ["usage:", ...COMMANDS.map((c) => `  ${c.usage}`)].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  // --hub-endpoint URL (any command): where hub ids in --model are fetched from, like HF_ENDPOINT.
  const at = argv.indexOf("--hub-endpoint");
  if (at >= 0) {
    const endpoint = argv[at + 1];
    if (!endpoint || endpoint.startsWith("--")) {
      process.stderr.write("causeway: --hub-endpoint needs a URL\n");
      return 2;
    }
    process.env.HF_ENDPOINT = endpoint;
    argv = [...argv.slice(0, at), ...argv.slice(at + 2)];
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`causeway: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    const result = await command.run(rest);
    const asJson = rest.includes("--json") || !command.format;
    process.stdout.write(`${asJson ? JSON.stringify(result) : command.format!(result)}\n`);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const reason = (e.message ?? String(err)).split("\n")[0];
    process.stderr.write(`causeway: ${reason}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
