"use client";
/** The tab summaries of the read-out views (components/views/RunSummary): what each run found. */
import { visibleToken } from "@/lib/viz/format";
import { useCauseway } from "../StoreProvider";
import { RunSummary } from "../views/RunSummary";

/** Logit lens: p(target) of the model's own output at the last position. */
export function LensSummary() {
  const { run, result: r } = useCauseway((s) => s.readouts.lens);
  const T = r?.input_tokens.length ?? 0;
  const p = r ? r.target_prob[r.layers.length - 1][T - 1] : null;
  const found =
    r && p !== null ? `p(“${visibleToken(r.target.token).trim()}”) ${p.toFixed(2)}` : "done";
  return <RunSummary run={run} found={found} />;
}

/** DLA: the logit difference and the head that writes most of it. */
export function DlaSummary() {
  const { run, result: r } = useCauseway((s) => s.readouts.dla);
  let found = "done";
  if (r) {
    let best = { l: 0, h: 0, v: Number.NEGATIVE_INFINITY };
    r.heads.forEach((row, l) => {
      row.forEach((v, h) => {
        if (v > best.v) best = { l, h, v };
      });
    });
    found = `LD ${r.logit_diff.toFixed(2)} · top L${best.l}H${best.h}`;
  }
  return <RunSummary run={run} found={found} />;
}

/** Attribution patching: r against exact head patching (or the sites checked so far). */
export function AttribSummary() {
  const { run, exact } = useCauseway((s) => s.readouts.attrib);
  const c = exact.find((x) => x.site === "head_out") ?? exact[0];
  return (
    <RunSummary run={run} found={c ? `r ${c.correlation.toFixed(2)} ${c.site}` : "estimate only"} />
  );
}
