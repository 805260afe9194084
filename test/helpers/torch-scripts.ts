/**
 * Runs generated Python scripts (lib/export/python.ts) with Debian's torch for the export tests.
 *
 * Importing torch costs ~2.5 s CPU, which was most of each script run. A TorchScripts holds one
 * python3 that imports torch once; each script then runs in a child forked from it (a fresh
 * process with torch already imported, so one script's global state — default dtype, seeds,
 * modules it imports — never reaches the next) as `__main__` with its own argv, exactly the code
 * a user runs, on one thread (ONE_THREAD). Its stdout and stderr are captured for the failure
 * message.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export const TORCH_PY = "/usr/bin/python3";

/** Whether TORCH_PY has torch (found, not imported: a broken install fails the tests instead). */
export const hasTorch =
  existsSync(TORCH_PY) &&
  spawnSync(TORCH_PY, ["-c", "import importlib.util as u, sys; sys.exit(not u.find_spec('torch'))"])
    .status === 0;

/**
 * torch's own thread pool on a machine whose cores are taken (vitest runs two files at once on
 * 2 cores) spins: a 3-kind trace script took 390 s with 2 threads at a load of 11, 17 s with one.
 * These tiny models gain nothing from more threads; the numbers differ only in rounding.
 */
const ONE_THREAD = { OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };

/** The forking runner: one JSON job a line in, one JSON answer a line out. */
const DRIVER = String.raw`
import json, os, runpy, sys, time, traceback
import torch  # the one import every script shares
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.stdin = open(os.devnull)
        sys.argv = [job["file"], *job["args"]]
        code = 0
        try:
            runpy.run_path(job["file"], run_name="__main__")
        except SystemExit as e:
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    deadline = time.monotonic() + job["timeout_s"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            print(json.dumps({"status": None}), flush=True)
            break
        time.sleep(0.02)
`;

export interface ScriptRun {
  /** The exit status; null when the script ran past its time limit and was killed. */
  status: number | null;
  /** Its stdout and stderr, interleaved. */
  output: string;
}

export class TorchScripts {
  private py: ChildProcessWithoutNullStreams | null = null;
  private answers: ((line: string) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logs = mkdtempSync(path.join(tmpdir(), "causeway-torch-"));
  private runs = 0;

  /** Runs `python3 file ...args` (one at a time, in call order). */
  run(file: string, args: string[], timeoutMs: number): Promise<ScriptRun> {
    const next = this.queue.then(() => this.runOne(file, args, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the python process (afterAll). */
  close(): void {
    this.py?.stdin.end();
    this.py = null;
  }

  private start(): ChildProcessWithoutNullStreams {
    const py = spawn(TORCH_PY, ["-c", DRIVER], {
      stdio: "pipe",
      env: { ...process.env, ...ONE_THREAD },
    });
    let err = "";
    py.stderr.on("data", (d) => {
      err += d;
    });
    createInterface({ input: py.stdout }).on("line", (line) => this.answers.shift()?.(line));
    py.on("exit", (code) => {
      // the driver only exits when its stdin ends: anything else fails the runs waiting on it
      for (const answer of this.answers.splice(0)) {
        answer(JSON.stringify({ status: code ?? 1, error: `torch runner exited: ${err}` }));
      }
      if (this.py === py) this.py = null;
    });
    return py;
  }

  private runOne(file: string, args: string[], timeoutMs: number): Promise<ScriptRun> {
    this.py ??= this.start();
    const log = path.join(this.logs, `${this.runs++}.log`);
    const job = { file, args, log, timeout_s: timeoutMs / 1000 };
    return new Promise((resolve) => {
      this.answers.push((line) => {
        const a = JSON.parse(line) as { status: number | null; error?: string };
        const output = existsSync(log) ? readFileSync(log, "utf8") : "";
        const killed = a.status === null ? `\n[killed after ${timeoutMs} ms]` : "";
        resolve({ status: a.status, output: (a.error ?? "") + output + killed });
      });
      this.py?.stdin.write(`${JSON.stringify(job)}\n`);
    });
  }
}
