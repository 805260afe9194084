/** The colour scale shared by the maps of a trace and of its edited re-trace. */
import { useMemo } from "react";
import { TRACE_KINDS } from "@/lib/interp/spec";
import { traceDomain } from "@/lib/viz/scales";
import { useCauseway } from "./StoreProvider";

/** One colour scale for the maps of a trace and of its edited re-trace: [min low, max top]. */
export function useTraceDomain(): [number, number] | null {
  const result = useCauseway((s) => s.trace.result);
  const edited = useCauseway((s) =>
    s.compare.original === s.trace.result ? s.compare.edited : null,
  );
  return useMemo(() => {
    const grids = [result, edited].flatMap((r) =>
      r ? TRACE_KINDS.map((k) => r.grids[k]).filter((g) => g !== undefined) : [],
    );
    if (grids.length === 0) return null;
    let low = grids[0].baseline.low;
    let top = grids[0].baseline.high;
    for (const g of grids) {
      low = Math.min(low, g.baseline.low);
      top = Math.max(top, traceDomain(g.baseline.low, g.baseline.high, g.values)[1]);
    }
    return [low, top] as [number, number];
  }, [result, edited]);
}
