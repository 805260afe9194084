/** Text for the trace screen: tokens, values, effects, durations. No DOM. */

/** Token text with its whitespace made visible: " Paris" → "·Paris", "\n" → "↵". */
export function visibleToken(token: string): string {
  if (token.length === 0) return "∅";
  return token.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/\r/g, "␍");
}

/** A token's axis label; subject tokens carry an asterisk, as in ROME's figures. */
export function tokenLabel(token: string, inSubject: boolean): string {
  const v = visibleToken(token);
  return inSubject ? `${v}*` : v;
}

/** Subject token range [b, e) as text: "tokens 0–4" (inclusive, for people). */
export function rangeText([b, e]: [number, number]): string {
  return e - b === 1 ? `token ${b}` : `tokens ${b}–${e - 1}`;
}

/** A probability or score to 4 significant digits ("0.3949", "1.23e-5"). */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return v.toFixed(4);
}

/** With an explicit sign: "+0.3701", "−0.0123". */
export function fmtSigned(v: number): string {
  const s = fmtValue(Math.abs(v));
  return v < 0 ? `−${s}` : `+${s}`;
}

/** 950 → "1 s", 61_000 → "1 min 1 s", 3_700_000 → "1 h 2 min". */
export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${Math.max(s, ms > 0 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "about 12 s left"; "" when unknown. */
export function fmtEta(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  if (ms < 500) return "almost done";
  return `about ${fmtDuration(ms)} left`;
}

/** Milliseconds for a status line: "840 ms", "3.2 s". */
export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** 12345 → "12,345". */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
