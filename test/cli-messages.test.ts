/**
 * The CLI's messages say what is wrong with the flag the user gave (issue 10.16), and
 * `causeway edit --save` never overwrites what it must not (issue 10.8).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { paramFlag, parseFlags, UsageError } from "../lib/cli/args";
import { parseCases } from "../lib/cli/edit-inputs";
import { resolveModelSource } from "../lib/cli/model-source";
import { checkSaveDir, makeSaveDir } from "../lib/cli/save-dir";
import { PREDICT_PARAMS } from "../lib/params/table";
import { runCli } from "./helpers/run-cli";
import { BUNDLED_DIR } from "./interp-helpers";

const SPEC = { prompt: { type: "string" as const }, top: { type: "string" as const } };

const usage = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("expected a UsageError");
};

describe("flag messages", () => {
  it("refuses a repeated flag instead of keeping the last value", () => {
    expect(usage(() => parseFlags(["--prompt", "a", "--prompt", "b"], SPEC))).toBe(
      "--prompt is given more than once",
    );
  });

  it("--top -1 says the range, not that the option is ambiguous", () => {
    const flags = parseFlags(["--top", "-1"], SPEC);
    expect(flags.top).toBe("-1");
    expect(usage(() => paramFlag(flags, "top", PREDICT_PARAMS.top))).toBe(
      '--top must be a whole number from 1 to 1000, got "-1"',
    );
    // a missing value is still one
    expect(usage(() => parseFlags(["--prompt", "--top", "3"], SPEC))).toMatch(/--prompt/);
  });

  it("--counterfact 5:2 says the range is reversed, not the dataset's size", () => {
    expect(usage(() => parseCases("5:2", 20))).toMatch(/range A:B is empty/);
    expect(usage(() => parseCases("0", 20))).toMatch(/at least 1 case/);
    expect(usage(() => parseCases("3:30", 20))).toMatch(/the dataset has 20 cases/);
    expect(parseCases("2:5", 20)).toEqual([2, 3, 4]);
  });

  describe("a bad HF_ENDPOINT", () => {
    const saved = process.env.HF_ENDPOINT;
    afterEach(() => {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
    });
    it("is reported as the endpoint, not as --model", () => {
      process.env.HF_ENDPOINT = "ftp://secret@mirror";
      const msg = usage(() => resolveModelSource("openai-community/gpt2"));
      expect(msg).toMatch(/hub endpoint .*HF_ENDPOINT.* not an http\(s\) URL/);
      expect(msg).not.toMatch(/--model/);
      expect(msg).not.toContain("secret");
    });
  });

  it("--window wider than the model is refused naming its depth (6-layer bundled model)", async () => {
    const r = await runCli([
      "trace",
      "--model",
      "tiny-facts",
      "--prompt",
      "Paris is in",
      "--subject",
      "Paris",
      "--kind",
      "mlp",
      "--window",
      "10000",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'causeway: --window must be a whole number from 1 to 6 (the model has 6 layers), got "10000"\n',
    );
  });
});

describe("causeway edit --save", () => {
  const tmp = () => mkdtempSync(path.join(tmpdir(), "causeway-save-"));

  it("refuses a non-empty folder unless --force", () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "notes.txt"), "mine");
    expect(usage(() => checkSaveDir(dir, { sourceDir: BUNDLED_DIR, force: false }))).toMatch(
      /not empty.*--force/,
    );
    expect(() => checkSaveDir(dir, { sourceDir: BUNDLED_DIR, force: true })).not.toThrow();
    expect(() => checkSaveDir(tmp(), { sourceDir: BUNDLED_DIR, force: false })).not.toThrow();
    expect(() =>
      checkSaveDir(path.join(tmp(), "new/deeper"), { sourceDir: BUNDLED_DIR, force: false }),
    ).not.toThrow();
  });

  it("never writes into the input model's own folder, even with --force", () => {
    const src = tmp();
    writeFileSync(path.join(src, "config.json"), "{}");
    const msg = usage(() => checkSaveDir(`${src}/.`, { sourceDir: src, force: true }));
    expect(msg).toMatch(/the input model's own folder/);
  });

  it("fails at once under /proc instead of hanging in a recursive mkdir", () => {
    expect(
      usage(() => checkSaveDir("/proc/self/x/y", { sourceDir: BUNDLED_DIR, force: true })),
    ).toMatch(/cannot write a model under \/proc/);
  });

  it("creates missing folders level by level", () => {
    const dir = path.join(tmp(), "a/b/c");
    makeSaveDir(dir);
    writeFileSync(path.join(dir, "f"), "ok");
    expect(readFileSync(path.join(dir, "f"), "utf8")).toBe("ok");
    const file = path.join(tmp(), "file");
    writeFileSync(file, "");
    expect(usage(() => makeSaveDir(path.join(file, "sub")))).toMatch(/cannot create/);
  });

  it("the command refuses the bundled model's own folder before learning anything", async () => {
    const edits = path.join(tmp(), "edits.json");
    writeFileSync(
      edits,
      JSON.stringify([{ kind: "head_scale", site: { layer: 0, head: 0 }, params: { scale: 0 } }]),
    );
    const r = await runCli([
      "edit",
      "--model",
      "tiny-facts",
      "--edit",
      edits,
      "--save",
      BUNDLED_DIR,
      "--force",
      "--quiet",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^causeway: --save .* is the input model's own folder/);
  });
});
