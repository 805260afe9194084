/**
 * The command line that recomputes what a panel shows (`npx causeway trace …`), so every number
 * on screen can be checked outside the browser.
 */
import type { TraceJob } from "../protocol";

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=,+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `npx causeway trace …` for a trace job on `model` (all kinds → --kind all). */
export function traceCommand(job: TraceJob, model: string): string {
  const { spec, kinds } = job;
  const args = ["npx", "causeway", "trace", "--model", model];
  if (typeof spec.prompt === "string") args.push("--prompt", spec.prompt);
  if (Array.isArray(spec.subject))
    args.push("--subject-range", `${spec.subject[0]}:${spec.subject[1]}`);
  else if (typeof spec.subject === "string") args.push("--subject", spec.subject);
  if (typeof spec.target === "string") args.push("--target", spec.target);
  const kind = kinds.length === 3 ? "all" : kinds.length === 1 ? kinds[0] : null;
  if (kind) args.push("--kind", kind);
  if (spec.corruption?.type === "prompt" && typeof spec.corruption.prompt === "string") {
    args.push("--corrupt-prompt", spec.corruption.prompt);
  } else {
    if (spec.samples !== undefined) args.push("--samples", String(spec.samples));
    if (spec.noise !== undefined) args.push("--noise", String(spec.noise));
    if (spec.seed !== undefined) args.push("--seed", String(spec.seed));
  }
  if (spec.window !== undefined) args.push("--window", String(spec.window));
  args.push("--json");
  return args.map((a, i) => (i < 3 ? a : shellQuote(a))).join(" ");
}
