/** A CLI sub-command: parses its own flags, returns a JSON-able result, optionally pretty text. */
export interface Command {
  name: string;
  usage: string;
  run(argv: string[]): Promise<unknown>;
  /** Human-readable rendering when --json is not given; JSON otherwise. */
  format?(result: unknown): string;
}
