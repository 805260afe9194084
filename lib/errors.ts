/**
 * The one base class of Causeway's errors: a one-line message fit to show a user and a `code`
 * the UI, the CLI and the worker protocol switch on. Each area narrows the code to its own union
 * (LoadErrorCode, TraceErrorCode, …); lib/protocol.ts ErrorCode is the union of them all.
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
  }
}

/** The code of any thrown value: a CodedError's (or any object's string `code`), else "internal". */
export function errorCode(e: unknown): string {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
    ? (e as { code: string }).code
    : "internal";
}

/** The first line of any thrown value's message. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0] || "Unknown error";
}
