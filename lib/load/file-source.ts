/**
 * A FileSource over File objects the user picked or dropped (a folder or loose files). Files are
 * matched by base name: "gpt2/config.json" (webkitRelativePath of a picked folder) serves
 * "config.json". Two files with the same base name are refused rather than guessed between.
 */
import { LoadError } from "./errors";
import { checkReadSize } from "./limits";
import type { FileSource } from "./types";

/** What a File has that this needs (a real File, or a Blob with a name in tests). */
export interface NamedBlob {
  readonly name: string;
  readonly webkitRelativePath?: string;
  /** Bytes, when known (a File has it): a file over the read's cap is refused unread. */
  readonly size?: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export function fileSource(files: readonly NamedBlob[], label?: string): FileSource {
  const byName = new Map<string, NamedBlob>();
  for (const f of files) {
    const base = f.name.split(/[\\/]/).pop() ?? f.name;
    const prior = byName.get(base);
    if (prior) {
      throw new LoadError(
        "bad_config",
        base,
        `chosen twice (${pathOf(prior)} and ${pathOf(f)}); pick one model folder at a time`,
      );
    }
    byName.set(base, f);
  }
  const names = [...byName.keys()].sort();
  const shown = names.length > 8 ? `${names.slice(0, 8).join(", ")}, …` : names.join(", ");
  const where = label ?? `the chosen files (${shown || "none"})`;
  return {
    label: where,
    async read(name, onBytes, opts) {
      const f = byName.get(name);
      if (!f) throw new LoadError("file_missing", name, `is not among ${where}`);
      if (f.size !== undefined) checkReadSize(name, f.size, opts, "file size");
      const bytes = new Uint8Array(await f.arrayBuffer());
      checkReadSize(name, bytes.byteLength, opts, "file size");
      onBytes?.(bytes.byteLength, bytes.byteLength);
      return bytes;
    },
    async has(name) {
      return byName.has(name);
    },
  };
}

const pathOf = (f: NamedBlob) => f.webkitRelativePath || f.name;
