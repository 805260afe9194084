/** A FileSource over a local directory (Node only: CLI, tests, scripts). */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { LoadError } from "./errors";
import { checkReadSize } from "./limits";
import type { FileSource } from "./types";

export function directorySource(dir: string): FileSource {
  const root = path.resolve(dir);
  const resolve = (name: string) => {
    const p = path.resolve(root, name);
    // Names come from model files (shard index): never let one point outside the folder.
    if (p !== root && !p.startsWith(root + path.sep)) {
      throw new LoadError("file_missing", name, `refusing a path outside ${root}`);
    }
    return p;
  };
  return {
    label: root,
    async read(name, _onBytes, opts) {
      const p = resolve(name);
      try {
        if (opts?.maxBytes !== undefined) {
          checkReadSize(name, (await stat(p)).size, opts, "file size");
        }
        const buf = await readFile(p);
        // A plain Uint8Array, not a Buffer (Buffer.slice aliases instead of copying).
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        if (e instanceof LoadError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
          throw new LoadError("file_missing", name, `not found in ${root}`);
        }
        throw e;
      }
    },
    async has(name) {
      try {
        return (await stat(resolve(name))).isFile();
      } catch {
        return false;
      }
    },
  };
}
