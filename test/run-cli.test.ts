/**
 * test/helpers/run-cli.ts: runCli runs lib/cli/main.ts inside the test process, so it must
 * report what the binary reports. Checked against runCliProcess (a spawned bin/causeway.mjs)
 * on the same arguments — a result, the usage text, a usage error, an error after the model
 * loaded — and for what in-process runs must not leave behind: tensors, timers, HF_ENDPOINT,
 * process.exitCode, one run's output in another's.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { runCliInProcess, runCliProcess } from "./helpers/run-cli";

const PROMPT = "Ralkrok Stennos lives in the city of";
const dir = mkdtempSync(path.join(tmpdir(), "causeway-run-cli-"));
const HEAD_ABLATE = path.join(dir, "ablate.json");
writeFileSync(
  HEAD_ABLATE,
  JSON.stringify({
    version: 1,
    edits: [
      {
        kind: "head_ablate",
        site: { layer: 3, head: 1, position: "all" },
        params: { mode: "zero" },
      },
    ],
  }),
);
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("runCli in process", () => {
  it("prints byte for byte what the spawned binary prints, with its exit code", async () => {
    const cases = [
      ["predict", "--prompt", PROMPT, "--top", "3", "--json"], // a result: exit 0
      ["--help"], // the usage text on stdout: exit 0
      ["predict", "--prompt", PROMPT, "--edits", path.join(dir, "missing.json")], // a usage error
    ];
    const spawned = await Promise.all(cases.map((args) => runCliProcess(args)));
    for (const [i, args] of cases.entries()) {
      const inProcess = await runCliInProcess(args);
      expect(inProcess, args.join(" ")).toEqual(spawned[i]);
    }
    expect(spawned.map((r) => r.code)).toEqual([0, 0, 2]);
    expect(spawned[0].stderr).toBe("");
    expect(spawned[1].stdout).toMatch(/^usage:\n {2}causeway predict /);
    expect(spawned[2].stderr).toMatch(/^causeway: edit file .*missing\.json does not exist\n$/);
  });

  it("leaves no tensors, timers or process state behind", async () => {
    await runCliInProcess(["predict", "--prompt", PROMPT, "--json"]); // starts the backend
    const tensors = tf.memory().numTensors;
    const running = timers();
    const env = { ...process.env };
    const exitCode = process.exitCode;
    const runs = [
      ["predict", "--prompt", PROMPT, "--edits", HEAD_ABLATE, "--json"],
      ["trace", "--prompt", PROMPT, "--subject", "Ralkrok Stennos", "--kind", "mlp", "--json"],
      ["trace", "--prompt", PROMPT, "--subject", "Nobody", "--json"], // refused after loading
      ["predict", "--top", "3"], // refused before loading
      // --hub-endpoint goes into HF_ENDPOINT, and the refused fetch's notice comes from deep code
      [
        "predict",
        "--model",
        "no-org/no-model",
        "--hub-endpoint",
        "http://127.0.0.1:9",
        "--prompt",
        "a",
      ],
    ];
    const results = [];
    for (const args of runs) results.push(await runCliInProcess(args));
    expect(results.map((r) => r.code)).toEqual([0, 0, 2, 2, 1]);
    expect(results[3].stderr).toBe("causeway: --prompt is required\n");
    expect(JSON.parse(results[0].stdout).edits).toBe(1);
    expect(results[4].stderr.split("\n")[0]).toBe(
      'causeway: note: "no-org/no-model" is not a bundled model or a folder; fetching it from http://127.0.0.1:9',
    );
    expect(tf.memory().numTensors).toBe(tensors);
    expect(timers()).toBeLessThanOrEqual(running); // one that was running may have fired
    expect(process.env).toEqual(env);
    expect(process.exitCode).toBe(exitCode);
  });

  it("keeps the output of runs started together apart", async () => {
    const prompts = ["Ralkrok Stennos lives in", "The capital of", "Once upon a time,"];
    const results = await Promise.all(
      prompts.map((p) => runCliInProcess(["predict", "--prompt", p, "--top", "2", "--json"])),
    );
    for (const [i, r] of results.entries()) {
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split("\n")).toHaveLength(1);
      expect(JSON.parse(r.stdout).input_tokens.join("")).toBe(prompts[i]);
    }
  });
});
