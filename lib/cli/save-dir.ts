/**
 * `causeway edit --save DIR`: where the edited checkpoint may be written. Checked before any
 * learning starts: never the source model's own folder (even with --force), a non-empty folder
 * only with --force, never a pseudo-filesystem (/proc, /sys, /dev: Node's recursive mkdir loops
 * there), and the folder is created one level at a time so any failure is one clear message.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./args";

const PSEUDO_FS = ["/proc", "/sys", "/dev"];

/** The nearest existing folder at or above `dir`, resolved through links. */
function nearestExisting(dir: string): string {
  let d = path.resolve(dir);
  while (!existsSync(d)) {
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return realpathSync(d);
}

const inside = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

export interface SaveDirOptions {
  /** The model's own folder: never written. */
  sourceDir: string;
  /** Write into a non-empty folder (files of the same name are replaced). */
  force: boolean;
}

/** Refuses a --save folder that must not be written; call before any work. */
export function checkSaveDir(dir: string, o: SaveDirOptions): void {
  if (dir.trim() === "") throw new UsageError("--save needs a folder");
  const base = nearestExisting(dir);
  const pseudo = PSEUDO_FS.find((p) => inside(base, p));
  if (pseudo) throw new UsageError(`--save ${dir}: cannot write a model under ${pseudo}`);
  const full = existsSync(dir) ? realpathSync(dir) : path.resolve(dir);
  if (existsSync(o.sourceDir) && full === realpathSync(o.sourceDir)) {
    throw new UsageError(
      `--save ${dir} is the input model's own folder: choose another folder (the original stays as it is)`,
    );
  }
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--save ${dir} is a file, not a folder`);
  if (readdirSync(dir).length > 0 && !o.force) {
    throw new UsageError(
      `--save ${dir} is not empty: choose an empty or new folder, or add --force to replace its config.json, model.safetensors and tokenizer.json`,
    );
  }
}

/** Creates the folder (and missing parents) one level at a time; a failure names the level. */
export function makeSaveDir(dir: string): void {
  const missing: string[] = [];
  let d = path.resolve(dir);
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      throw new UsageError(`--save ${dir}: cannot create ${m} (${(e as Error).message})`);
    }
  }
}
