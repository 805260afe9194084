// Types for report.mjs (plain JS so that scripts/bench.mjs runs without tsx).
import type { BenchRow } from "./core";

export const DIFF_TOLERANCE: number;
export const BEGIN: string;
export const END: string;
export const TABLE_HEADER: string[];

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  node: string;
  tfjs: string;
  wasmThreads: boolean;
  wasmSimd: boolean;
  chromium?: string;
  webgpuAdapter?: string | null;
  loadAverage?: Record<string, number>;
}

/** A row as the report reads it (BenchRow, or a plain object of the same shape). */
export type ReportRow = Omit<BenchRow, "fast" | "naive" | "sweep"> & {
  sweep: string;
  fast: Omit<BenchRow["fast"], "strategy"> & { strategy: string };
  naive: Omit<BenchRow["naive"], "strategy"> & { strategy: string };
};

export function seconds(ms: number): string;
export function mib(bytes: number): string;
export function tableRow(r: ReportRow): string[];
export function markdownTable(rows: ReportRow[]): string;
export function machineLine(m: Machine): string;
export function mismatches<R extends { maxAbsDiff: number }>(rows: R[]): R[];
export function planNote(
  prompts: { label: string; sweeps: string[]; naiveRows?: number }[],
): string;
// biome-ignore lint/suspicious/noExplicitAny: the whole result JSON (see scripts/bench.mjs)
export function generatedSection(result: any): string;
export function updateDoc(existing: string | null, section: string, intro: string): string;
