/** Every CLI sub-command, in the order `causeway --help` lists them. Register new ones here. */
import { abscCommand } from "./absc";
import { attribCommand } from "./attrib";
import { canonicalCommand, forgetCommand } from "./canonical";
import type { Command } from "./command";
import { consistencyCommand } from "./consistency";
import { dlaCommand } from "./dla";
import { editCommand } from "./edit";
import { evalFactsCommand } from "./eval-facts";
import { generateCommand } from "./generate";
import { headsCommand } from "./heads";
import { lensCommand } from "./lens";
import { patchCommand } from "./patch";
import { pathCommand } from "./path";
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
  headsCommand,
  lensCommand,
  dlaCommand,
  attribCommand,
  pathCommand,
  consistencyCommand,
  abscCommand,
  canonicalCommand,
  forgetCommand,
];
