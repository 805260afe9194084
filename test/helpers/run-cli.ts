/**
 * Runs the CLI for a test, returning its exit code and both streams.
 *
 * runCli calls lib/cli/main.ts in this process: a spawned `bin/causeway.mjs` pays tsx's and
 * tfjs's start-up (~2.3 s CPU) on every run, which was most of the CLI tests' time. Everything a
 * run writes — main's result line, deep code's process.stderr notices, console.* from lib/ or
 * tfjs — is captured for that run only (AsyncLocalStorage, so runs started together in one
 * Promise.all keep their own output), and process.env, the working directory and
 * process.exitCode are put back once the last run in flight ends (main moves --hub-endpoint
 * into HF_ENDPOINT, as the binary's process would keep it). Runs share this process's tfjs
 * engine: a test that counts tensors (tf.memory(), a worker run's tensorsLeft) must not count
 * across a run still in flight. Set CAUSEWAY_TEST_CLI=process to make runCli spawn the binary
 * instead (the whole suite against the real entry point).
 *
 * runCliProcess spawns `bin/causeway.mjs` as a user would: for what only the binary shows (the
 * process's exit status, the tsx entry, --help as printed) and for runs that need a fresh process.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { execFile } from "node:child_process";
import path from "node:path";
import { format } from "node:util";
import { ROOT } from "../../scripts/reference/golden";
import { workLimit } from "./work-budget";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = path.join(ROOT, "bin/causeway.mjs");

/** One CLI run only hangs past this (the test's own limit, scaled to its work, comes first). */
const RUN_LIMIT_MS = workLimit({ units: 1, perUnitMs: 900_000 });
const HANG_NOTE = `[runCli: no result after ${RUN_LIMIT_MS} ms; on a slow machine raise CAUSEWAY_TEST_TIME_SCALE]`;

export function runCli(args: string[]): Promise<CliResult> {
  return process.env.CAUSEWAY_TEST_CLI === "process" ? runCliProcess(args) : runCliInProcess(args);
}

/** Spawns `node bin/causeway.mjs ...args` in the repository root. */
export function runCliProcess(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, timeout: RUN_LIMIT_MS },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        const killed = (err as { killed?: boolean } | null)?.killed ? `\n${HANG_NOTE}` : "";
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr: stderr + killed });
      },
    );
  });
}

// ── in-process runs ──

interface Capture {
  stdout: string[];
  stderr: string[];
}

/** The capture of the run whose async context is executing, if any. */
const capture = new AsyncLocalStorage<Capture>();

function chunkText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === "string") return chunk;
  const enc = typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8";
  return Buffer.from(chunk as Uint8Array).toString(enc);
}

/** Routes writes made inside a run to its capture; everything else passes through unchanged. */
function divertStream(name: "stdout" | "stderr"): void {
  const stream = process[name];
  const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.write = ((chunk: unknown, encoding?: unknown, done?: unknown) => {
    const cap = capture.getStore();
    if (!cap) return original(chunk, encoding, done);
    cap[name].push(chunkText(chunk, encoding));
    const callback = typeof encoding === "function" ? encoding : done;
    if (typeof callback === "function") queueMicrotask(() => callback());
    return true;
  }) as typeof stream.write;
}

/** vitest replaces the global console (its output goes to the runner, not process.stdout). */
const CONSOLE_STREAMS = {
  log: "stdout",
  info: "stdout",
  debug: "stdout",
  warn: "stderr",
  error: "stderr",
  trace: "stderr",
} as const;

function divertConsole(): void {
  for (const [method, name] of Object.entries(CONSOLE_STREAMS)) {
    const key = method as keyof typeof CONSOLE_STREAMS;
    const original = console[key].bind(console) as (...a: unknown[]) => void;
    console[key] = (...args: unknown[]) => {
      const cap = capture.getStore();
      if (cap) cap[name].push(`${format(...args)}\n`);
      else original(...args);
    };
  }
}

let diverted = false;
function divertOutput(): void {
  if (diverted) return;
  diverted = true;
  divertStream("stdout");
  divertStream("stderr");
  divertConsole();
}

/** Process state a run may change, taken when the first run in flight starts. */
let saved: { env: NodeJS.ProcessEnv; cwd: string; exitCode: typeof process.exitCode } | null = null;
let inFlight = 0;

function restoreProcessState(): void {
  if (!saved) return;
  for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key];
  Object.assign(process.env, saved.env);
  if (process.cwd() !== saved.cwd) process.chdir(saved.cwd);
  process.exitCode = saved.exitCode;
  saved = null;
}

/** main(args) in this process, with the binary's result shape; see the file comment. */
export async function runCliInProcess(args: string[]): Promise<CliResult> {
  // imported on first use: a file that only spawns does not load every command's modules
  const { main } = await import("../../lib/cli/main");
  divertOutput();
  if (inFlight++ === 0) {
    saved = { env: { ...process.env }, cwd: process.cwd(), exitCode: process.exitCode };
  }
  const cap: Capture = { stdout: [], stderr: [] };
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = capture.run(cap, async () => {
      try {
        return await main([...args]);
      } catch (err) {
        // the binary's top-level await would print the uncaught error and exit 1
        cap.stderr.push(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        return 1;
      }
    });
    const hang = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        cap.stderr.push(`\n${HANG_NOTE}`);
        resolve(1);
      }, RUN_LIMIT_MS);
      timer.unref();
    });
    const code = await Promise.race([run, hang]);
    return { code, stdout: cap.stdout.join(""), stderr: cap.stderr.join("") };
  } finally {
    clearTimeout(timer);
    if (--inFlight === 0) restoreProcessState();
  }
}
