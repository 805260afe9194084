/** A FileSource over files already in memory: tests, drag-and-dropped folders, generated models. */
import { LoadError } from "./errors";
import { checkReadSize } from "./limits";
import type { FileSource } from "./types";

export function memorySource(
  files: Record<string, Uint8Array | string> | Map<string, Uint8Array | string>,
  label = "memory",
): FileSource {
  const te = new TextEncoder();
  const map = new Map<string, Uint8Array>();
  for (const [name, v] of files instanceof Map ? files : Object.entries(files)) {
    map.set(name, typeof v === "string" ? te.encode(v) : v);
  }
  return {
    label,
    async read(name, _onBytes, opts) {
      const bytes = map.get(name);
      if (!bytes) throw new LoadError("file_missing", name, `not found in ${label}`);
      checkReadSize(name, bytes.byteLength, opts, "size");
      return bytes;
    },
    async has(name) {
      return map.has(name);
    },
  };
}
