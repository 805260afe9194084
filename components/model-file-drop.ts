/**
 * Files from a drop: a dropped folder arrives as a directory entry, so walk it (one level of
 * nesting is enough for an HF model folder, but walk all) and collect its files.
 */
interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?(ok: (f: File) => void, fail: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (e: EntryLike[]) => void, fail: (e: unknown) => void): void };
}

async function walk(entry: EntryLike, out: File[]): Promise<void> {
  if (entry.isFile && entry.file) {
    out.push(await new Promise<File>((ok, fail) => entry.file!(ok, fail)));
    return;
  }
  if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, out);
    }
  }
}

/** The dropped files, folders expanded; the folder's name when one folder was dropped. */
export async function droppedFiles(dt: DataTransfer): Promise<{ files: File[]; folder?: string }> {
  const entries = [...dt.items]
    .map((i) => (i as { webkitGetAsEntry?: () => EntryLike | null }).webkitGetAsEntry?.() ?? null)
    .filter((e): e is EntryLike => e !== null);
  if (entries.length === 0) return { files: [...dt.files] };
  const files: File[] = [];
  for (const e of entries) await walk(e, files);
  const folder = entries.length === 1 && entries[0].isDirectory ? entries[0].name : undefined;
  return { files, folder };
}
