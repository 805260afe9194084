/**
 * The browser's store of cached C statistics (./cov-cache.ts): one IndexedDB object store
 * through idb-keyval (a small, well-kept promise wrapper over IndexedDB's request and
 * transaction events). The worker reads and writes it; the page lists and clears it (the
 * "Clear cached statistics" control). No tfjs here: the page bundle imports this file.
 */
import { clear, createStore, entries, get, set, type UseStore } from "idb-keyval";
import type { MomentStore, StoredMoment } from "./cov-cache";

const DB = "causeway-stats-v1";
const STORE = "moments";

let shared: UseStore | null = null;

function store(): UseStore | null {
  if (typeof indexedDB === "undefined") return null;
  shared ??= createStore(DB, STORE);
  return shared;
}

/** The IndexedDB store, or null where IndexedDB is unavailable (Node, some private modes). */
export function idbMomentStore(): MomentStore | null {
  const s = store();
  if (!s) return null;
  return {
    get: (key) => get(key, s),
    set: (key, value: StoredMoment) => set(key, value, s),
  };
}

/** What is stored: entries and their size in bytes (C is n² float64). */
export async function storedStats(): Promise<{ entries: number; bytes: number } | null> {
  const s = store();
  if (!s) return null;
  const all = await entries<string, StoredMoment>(s);
  const bytes = all.reduce((a, [, v]) => a + (v?.C?.byteLength ?? 0), 0);
  return { entries: all.length, bytes };
}

/** Forgets every cached C. */
export async function clearStoredStats(): Promise<void> {
  const s = store();
  if (s) await clear(s);
}
