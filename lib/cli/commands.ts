/** Every CLI sub-command, in the order `causeway --help` lists them. Register new ones here. */
import type { Command } from "./command";
import { editCommand } from "./edit";
import { evalFactsCommand } from "./eval-facts";
import { generateCommand } from "./generate";
import { patchCommand } from "./patch";
import { predictCommand } from "./predict";
import { traceCommand } from "./trace";
import { traceDatasetCommand } from "./trace-dataset";

export const COMMANDS: Command[] = [
  predictCommand,
  traceCommand,
  patchCommand,
  traceDatasetCommand,
  editCommand,
  evalFactsCommand,
  generateCommand,
];
