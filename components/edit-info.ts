/**
 * What the edit stack shows beside a learned edit (components/EditStack.tsx LearnedInfo): its
 * `learned.info` scalars, generically, and for SWEA, whose info is per request and spelling, what
 * a researcher checks: the subject tokens whose embeddings changed, the size of the change, p(new)
 * and whether the suppression ran.
 */
import { SWEA_DEFAULTS } from "@/lib/edit/swea-params";
import type { SweaEdit } from "@/lib/edit/swea-types";
import type { Edit } from "@/lib/edit/types";

export type InfoItem = [key: string, value: string];

export function fmtNumber(x: number): string {
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  return Math.abs(x) >= 1000 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}

/** The items to show for a learned edit (empty when it is not learned). */
export function learnedInfoItems(edit: Edit): InfoItem[] {
  if (edit.kind === "swea") return sweaInfoItems(edit);
  const learned = (edit as { learned?: Record<string, unknown> }).learned;
  if (!learned) return [];
  const info = (learned.info ?? {}) as Record<string, unknown>;
  const items: InfoItem[] = [];
  for (const [k, v] of Object.entries(info)) {
    if (typeof v === "number" && Number.isFinite(v))
      items.push([k, fmtNumber(k === "ms" ? Math.round(v) : v)]);
    else if (typeof v === "string" && v.length < 40) items.push([k, v]);
    else if (Array.isArray(v) && v.length > 0 && typeof v[0] === "object" && v[0] !== null) {
      const last = v[v.length - 1] as Record<string, unknown>;
      for (const key of ["loss", "p_new"]) {
        if (typeof last[key] === "number")
          items.push([`final ${key}`, fmtNumber(last[key] as number)]);
      }
    }
  }
  for (const k of ["norm", "sigma"]) {
    if (typeof learned[k] === "number") items.push([k, fmtNumber(learned[k] as number)]);
  }
  return items;
}

/**
 * A SWEA edit's items: subject tokens edited (and spellings, when a subject has several or some
 * were skipped), ‖offsets‖ (the fused offsets added to those embeddings, all fusions together),
 * ‖δ‖ before suppression and p(new) (the largest and the smallest over spellings), and the
 * suppression (the knowledge dimensions it removed, or "off" in mode "optimize").
 */
export function sweaInfoItems(edit: SweaEdit): InfoItem[] {
  const learned = edit.learned;
  if (!learned) return [];
  const items: InfoItem[] = [];
  const tokens = learned.fusions.reduce((n, f) => n + f.tokens.length, 0);
  items.push(["subject tokens", fmtNumber(tokens)]);
  const spellings = learned.info?.requests.flatMap((r) => r.spellings) ?? [];
  const skipped = learned.info?.requests.reduce((n, r) => n + r.skipped_keys.length, 0) ?? 0;
  if (learned.fusions.length > edit.params.requests.length || skipped > 0)
    items.push([
      "spellings",
      `${learned.fusions.length}${skipped > 0 ? ` (${skipped} skipped)` : ""}`,
    ]);
  let sq = 0;
  for (const f of learned.fusions) for (const x of f.offsets) sq += x * x;
  items.push(["‖offsets‖", fmtNumber(Math.sqrt(sq))]);
  if (spellings.length > 0) {
    const several = spellings.length > 1;
    const delta = Math.max(...spellings.map((s) => s.delta_norm));
    items.push([several ? "largest ‖δ‖" : "‖δ‖", fmtNumber(delta)]);
    const pNew = Math.min(...spellings.map((s) => s.p_new));
    items.push([several ? "lowest p new" : "p new", fmtNumber(pNew)]);
  }
  const mode = edit.params.mode ?? SWEA_DEFAULTS.mode;
  const dims = spellings.reduce((n, s) => n + s.suppressed.reduce((m, d) => m + d.length, 0), 0);
  items.push(["suppression", mode === "optimize" ? "off" : `${fmtNumber(dims)} dims`]);
  if (learned.info) items.push(["ms", fmtNumber(Math.round(learned.info.ms))]);
  return items;
}
