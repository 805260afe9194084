/** Resolves `--model`: a bundled model's name, or a directory holding the HF files. */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { directorySource } from "../load/node-source";
import type { FileSource } from "../load/types";
import { UsageError } from "./args";

const BUNDLED_DIR = fileURLToPath(new URL("../../public/models/", import.meta.url));

export function bundledModelNames(): string[] {
  if (!existsSync(BUNDLED_DIR)) return [];
  return readdirSync(BUNDLED_DIR).filter((n) => statSync(path.join(BUNDLED_DIR, n)).isDirectory());
}

export function resolveModel(spec: string): { name: string; source: FileSource; dir: string } {
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
