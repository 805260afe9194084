/** Every CLI sub-command, in the order `causeway --help` lists them. Register new ones here. */
import type { Command } from "./command";
import { predictCommand } from "./predict";

export const COMMANDS: Command[] = [predictCommand];
