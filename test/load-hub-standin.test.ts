/**
 * The hub source end to end in Node: the stand-in (scripts/hub-standin) generated into a temp
 * folder and served in the hub's URL layout (302 for LFS shards, 401 for unknown repos), loaded
 * through hubSource + Engine, and its logits compared with the numpy reference
 * (scripts/reference/hub_standin_ref.py → test/fixtures/hub-standin/golden.json).
 */
import "../lib/model/backends-node";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../lib/engine";
import { parseGpt2Config } from "../lib/load/config";
import { LoadError } from "../lib/load/errors";
import { hubSource } from "../lib/load/hub-source";
import { checkMemory, estimateMemory, maxCheckpointBytes } from "../lib/load/memory-estimate";
import { loadModelFiles } from "../lib/load/model-files";
import { selectBackend } from "../lib/model/backend";
import { generateStandin, STANDIN_REPO } from "../scripts/hub-standin/generate";
import { type HubStandin, startHubStandin } from "../scripts/hub-standin/server.mjs";
import { runCli } from "./helpers/run-cli";

interface Golden {
  prompt: string;
  ids: number[];
  top: { id: number; logit: number }[];
  probe: Record<string, number>;
  weights: { wteSum: number };
}
const golden: Golden = JSON.parse(
  readFileSync(path.resolve("test/fixtures/hub-standin/golden.json"), "utf8"),
);

let root: string;
let hub: HubStandin;
// no per-test time limits: the global ones (vitest.config.ts, scaled by CAUSEWAY_TEST_TIME_SCALE)
// only catch a hang, so a loaded machine does not fail these (issue 10.18)

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "hub-standin-"));
  generateStandin(root);
  hub = await startHubStandin({ root, slowBytesPerSec: 2 * 1024 * 1024 });
  await selectBackend(["cpu"]);
});

afterAll(async () => {
  await hub?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("hub stand-in through hubSource", () => {
  it("loads the sharded checkpoint and matches the numpy logits", async () => {
    const before = tf.memory().numTensors;
    const progress: [string, number, number][] = [];
    const engine = await Engine.load(
      hubSource({ repo: STANDIN_REPO }, { endpoint: hub.url }),
      STANDIN_REPO,
      (phase, done, total) => progress.push([phase, done, total]),
    );
    try {
      expect(engine.info.config).toMatchObject({ nLayer: 2, dModel: 64, vocabSize: 50257 });
      // The shards were fetched through the hub's LFS redirect.
      const paths = hub.requests.map((r) => `${r.method} ${r.path}`);
      expect(paths).toContain(`GET /${STANDIN_REPO}/resolve/main/model-00001-of-00002.safetensors`);
      expect(paths).toContain(`GET /__lfs/${STANDIN_REPO}/model-00002-of-00002.safetensors`);
      // Weights progress moves through both shards and ends at 2 / 2.
      const weights = progress.filter(([p]) => p === "weights");
      expect(weights.at(-1)).toEqual(["weights", 2, 2]);
      expect(weights.some(([, d]) => d > 0 && d < 1)).toBe(true);

      expect(engine.tokenize(golden.prompt).ids).toEqual(golden.ids);
      const logits = tf.tidy(
        () =>
          engine.model
            .forward({ inputIds: [golden.ids], logitPositions: "last" })
            .logits.reshape([-1]) as tf.Tensor1D,
      );
      const last = await logits.data();
      logits.dispose();
      for (const { id, logit } of golden.top) expect(last[id]).toBeCloseTo(logit, 3);
      for (const [id, logit] of Object.entries(golden.probe)) {
        expect(last[Number(id)]).toBeCloseTo(logit, 3);
      }
      let best = 0;
      for (let i = 1; i < last.length; i++) if (last[i] > last[best]) best = i;
      expect(best).toBe(golden.top[0].id);
    } finally {
      engine.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("an unknown repository fails with a message about the repository", async () => {
    const err = await Engine.load(
      hubSource({ repo: "causeway-test/no-such-model" }, { endpoint: hub.url }),
      "x",
    ).catch((e) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect(err.message).toMatch(
      /config\.json: HTTP 401 .* does not exist, or it is private or gated/,
    );
  });

  it("a repository of another architecture is refused, naming the supported family", async () => {
    const dir = path.join(root, "causeway-test", "bert-standin");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, "config.json"),
      JSON.stringify({ model_type: "bert", architectures: ["BertForMaskedLM"] }),
    );
    writeFileSync(path.join(dir, "tokenizer.json"), "{}");
    const before = hub.requests.length;
    const err = await Engine.load(
      hubSource({ repo: "causeway-test/bert-standin" }, { endpoint: hub.url }),
      "x",
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "unsupported_architecture", file: "config.json" });
    expect(err.message).toBe(
      'config.json: model_type is "bert"; supported: model_type "gpt2" (GPT2LMHeadModel: gpt2, distilgpt2, gpt2-medium/-large/-xl and models trained with that architecture), "llama", "mistral", "qwen2", "gpt_neox"',
    );
    // Refused from config.json alone: no weights were asked for.
    expect(hub.requests.slice(before).some((r) => r.path.includes("safetensors"))).toBe(false);
  });

  it("a memory check in beforeWeights refuses before any weights are requested", async () => {
    const before = hub.requests.length;
    const err = await loadModelFiles(
      hubSource({ repo: STANDIN_REPO }, { endpoint: hub.url }),
      undefined,
      (config) => {
        const v = checkMemory(estimateMemory(config), {
          backend: "webgpu",
          maxStorageBufferBindingSize: 8 * 2 ** 20,
        });
        if (v.level === "refuse") throw new LoadError("too_large", "x", v.reasons.join("; "));
      },
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "too_large" });
    expect(err.message).toContain(
      "the embedding matrix (12 MiB) is larger than this GPU's maxStorageBufferBindingSize (8 MiB)",
    );
    expect(hub.requests.slice(before).some((r) => r.path.includes("safetensors"))).toBe(false);
  });

  it("an unknown revision is a missing file", async () => {
    const err = await Engine.load(
      hubSource({ repo: STANDIN_REPO, revision: "v9" }, { endpoint: hub.url }),
      "x",
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "file_missing", file: "config.json" });
  });

  it("aborting mid-download rejects with a cancelled LoadError and leaks no tensors", async () => {
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    const load = Engine.load(
      hubSource({ repo: `${STANDIN_REPO}-slow` }, { endpoint: hub.url, signal: ctl.signal }),
      "slow",
      (phase, done) => {
        if (phase === "weights" && done > 0.05) ctl.abort();
      },
    );
    const err = await load.catch((e) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect(err.code).toBe("cancelled");
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the CLI loads a hub id from --hub-endpoint and predicts the golden top-1", async () => {
    const r = await runCli([
      "predict",
      "--hub-endpoint",
      hub.url,
      "--model",
      STANDIN_REPO,
      "--prompt",
      golden.prompt,
      "--top",
      "3",
      "--json",
    ]);
    // A plain id is not a bundled name: the CLI says where it fetches from (issue 10.4).
    expect(r.stderr).toBe(
      `causeway: note: "${STANDIN_REPO}" is not a bundled model or a folder; fetching it from ${hub.url}\n`,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toBe(STANDIN_REPO);
    expect(out.top[0].id).toBe(golden.top[0].id);
    expect(out.top.map((t: { id: number }) => t.id)).toEqual(
      golden.top.slice(0, 3).map((t) => t.id),
    );
  });

  it("a mistyped bundled name is refused with the list, not fetched from the hub", async () => {
    const before = hub.requests.length;
    const r = await runCli([
      "predict",
      "--hub-endpoint",
      hub.url,
      "--model",
      "tiny-fact",
      "--prompt",
      "x",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'causeway: --model "tiny-fact" is not a bundled model; did you mean "tiny-facts"? (bundled: tiny-facts, tiny-facts-llama; write hub:tiny-fact to fetch it from the hub)\n',
    );
    expect(hub.requests.length).toBe(before);
  });

  it("the CLI names the repository problem for an unknown hub id", async () => {
    const r = await runCli([
      "predict",
      "--hub-endpoint",
      hub.url,
      "--model",
      "hub:causeway-test/absent",
      "--prompt",
      "x",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^causeway: config\.json: HTTP 401 .*does not exist, or it is private or gated/,
    );
  });
});

describe("hostile servers: every download is bounded and every failure says why (issue 10.2, 10.16)", () => {
  /** Loads `${STANDIN_REPO}-${mode}` (only its weight shards misbehave) and returns the error. */
  async function loadError(mode: string, stallMs?: number): Promise<LoadError> {
    const source = hubSource({ repo: `${STANDIN_REPO}-${mode}` }, { endpoint: hub.url, stallMs });
    const e = await loadModelFiles(source).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  const config = () =>
    parseGpt2Config(JSON.parse(readFileSync(path.join(root, STANDIN_REPO, "config.json"), "utf8")));

  it("an endless body stops at the most bytes the config's checkpoint can hold", async () => {
    const e = await loadError("endless");
    expect(e.code).toBe("too_large");
    const limit = maxCheckpointBytes(config()).toLocaleString("en-US");
    expect(e.message).toContain("model-00001-of-00002.safetensors: ");
    expect(e.message).toContain(`(received) is more than the ${limit} bytes this file can need`);
  });

  it("a Content-Length past that limit is refused before the body is read", async () => {
    const e = await loadError("lying");
    expect(e.code).toBe("too_large");
    expect(e.message).toContain("1,099,511,627,776 bytes (Content-Length) is more than");
  });

  // 3 s rather than a tiny limit: every file of the load runs under the same limit, and on a busy
  // machine a healthy local response can pause for a few hundred milliseconds.
  it("a server that stops sending is given up after stallMs (3 s here)", async () => {
    const e = await loadError("stall", 3000);
    expect(e.code).toBe("stalled");
    expect(e.message).toMatch(
      /model-00001-of-00002\.safetensors: no data from http:\/\/127\.0\.0\.1:\d+\/.+ for 3 s: the server stalled/,
    );
  });

  it("a redirect loop is reported as one", async () => {
    const e = await loadError("loop");
    expect(e.code).toBe("fetch_failed");
    expect(e.message).toContain("too many redirects (a redirect loop)");
  });

  it("a redirect to file: is reported as an unsupported protocol", async () => {
    const e = await loadError("tofile");
    expect(e.code).toBe("fetch_failed");
    expect(e.message).toContain("redirected to an unsupported protocol (not http/https)");
  });

  it("a refused connection names ECONNREFUSED, in the API and in the CLI", async () => {
    const closed = await startHubStandin({ root });
    const endpoint = closed.url;
    await closed.close();
    const e = await loadModelFiles(hubSource({ repo: STANDIN_REPO }, { endpoint })).then(
      () => null,
      (err: unknown) => err as LoadError,
    );
    expect(e?.code).toBe("fetch_failed");
    expect(e?.message).toMatch(/could not fetch http:.+: fetch failed \(.*ECONNREFUSED/);
    const cli = await runCli([
      "predict",
      "--model",
      `hub:${STANDIN_REPO}`,
      "--hub-endpoint",
      endpoint,
      "--prompt",
      "x",
    ]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^causeway: .*fetch failed \(.*ECONNREFUSED/);
  });
});
