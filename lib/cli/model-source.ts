/**
 * Resolves `--model`: a bundled model's name, a directory holding the HF files, or (for commands
 * that only need the weights: resolveModelSource) a hub repo id, `hub:<id>` or a plain
 * `org/name[@revision]` that is no directory, fetched from --hub-endpoint / $HF_ENDPOINT.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LoadError } from "../load/errors";
import { hubSource, normalizeEndpoint, parseHubRef } from "../load/hub-source";
import { directorySource } from "../load/node-source";
import type { FileSource } from "../load/types";
import { UsageError } from "./args";

const BUNDLED_DIR = fileURLToPath(new URL("../../public/models/", import.meta.url));

export function bundledModelNames(): string[] {
  if (!existsSync(BUNDLED_DIR)) return [];
  return readdirSync(BUNDLED_DIR).filter((n) => statSync(path.join(BUNDLED_DIR, n)).isDirectory());
}

export function resolveModel(spec: string): { name: string; source: FileSource; dir: string } {
  if (spec.startsWith("hub:")) {
    throw new UsageError(
      `--model ${spec}: this command needs a local model folder (its dataset.json); download the repo or use a command that takes a hub id (predict, trace, patch)`,
    );
  }
  const bundled = bundledModelNames();
  if (bundled.includes(spec)) {
    const dir = path.join(BUNDLED_DIR, spec);
    return { name: spec, source: directorySource(dir), dir };
  }
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    const dir = path.resolve(spec);
    return { name: path.basename(dir), source: directorySource(dir), dir };
  }
  throw new UsageError(
    `--model "${spec}" is neither a bundled model (${bundled.join(", ") || "none"}) nor a directory with config.json, model.safetensors and tokenizer.json`,
  );
}

/** `--hub-endpoint` (main.ts moves it into HF_ENDPOINT), else $HF_ENDPOINT, else the hub. */
export function cliHubEndpoint(): string | undefined {
  return process.env.HF_ENDPOINT || undefined;
}

/** Like resolveModel, but also takes hub ids (weights, config and tokenizer only; no folder). */
export function resolveModelSource(spec: string): { name: string; source: FileSource } {
  const explicit = spec.startsWith("hub:");
  const isLocal =
    !explicit &&
    (bundledModelNames().includes(spec) || (existsSync(spec) && statSync(spec).isDirectory()));
  if (isLocal) return resolveModel(spec);
  const id = explicit ? spec.slice(4) : spec;
  let ref: ReturnType<typeof parseHubRef>;
  try {
    ref = parseHubRef(id);
  } catch (e) {
    if (!(e instanceof LoadError) || explicit) throw e;
    return resolveModel(spec); // its usage error names the bundled models
  }
  const endpoint = cliHubEndpoint();
  try {
    normalizeEndpoint(endpoint);
  } catch {
    // the endpoint is at fault, not --model (its value is not echoed: it may hold a secret)
    throw new UsageError(
      "the hub endpoint (--hub-endpoint or $HF_ENDPOINT) is not an http(s) URL such as https://huggingface.co",
    );
  }
  return {
    name: ref.revision ? `${ref.repo}@${ref.revision}` : ref.repo,
    source: hubSource(ref, { endpoint }),
  };
}
