/** A diverging colouring for signed read-outs (DLA, attribution): RdBu centred at 0. */
import { interpolateRdBu } from "d3";
import { divergingScale, symmetricDomain } from "@/lib/viz/scales";
import type { CellGridProps } from "./CellGrid";

/** Colour and legend for a grid whose values share one symmetric domain. */
export function diverging(
  values: number[],
  label: string,
): Pick<CellGridProps, "color" | "legend"> {
  const domain = symmetricDomain(values);
  const scale = divergingScale(domain);
  return {
    color: (v) => scale.color(v) ?? "#fff",
    legend: { interpolate: interpolateRdBu, domain, label },
  };
}
