/**
 * THE list of result views, one tab each (components/views/ViewTabs.tsx). A view adds itself
 * with one entry: its id (also what a share link carries: lower-case letters, digits, dashes),
 * tab label, panel, an optional one-line summary of its last run for the tab, and the runs it
 * shows (its tab opens when one of them starts).
 */
import type { ComponentType } from "react";
import type { CausewayState, RunInfo } from "@/lib/store";
import { DatasetPanel } from "../DatasetPanel";
import { AllHeadsView } from "../heads/AllHeadsView";
import { HeadsSummary } from "../heads/HeadsSummary";
import { AttribView } from "../lens/AttribView";
import { DlaView } from "../lens/DlaView";
import { LensView } from "../lens/LensView";
import { AttribSummary, DlaSummary, LensSummary } from "../lens/summaries";
import { PatchPanel } from "../PatchPanel";
import { PathView } from "../patching/PathView";
import { PositionsView } from "../patching/PositionsView";
import { TracePanel } from "../TracePanel";
import {
  DatasetSummary,
  PatchSummary,
  PathSummary,
  PositionsSummary,
  TraceSummary,
} from "./summaries";

export interface ViewEntry {
  id: string;
  label: string;
  Component: ComponentType;
  Summary?: ComponentType;
  runs?: (s: CausewayState) => readonly RunInfo[];
}

export const VIEWS: readonly ViewEntry[] = [
  {
    id: "trace",
    label: "Causal trace",
    Component: TracePanel,
    Summary: TraceSummary,
    runs: (s) => [s.trace.run, s.compare.run],
  },
  {
    id: "patch",
    label: "Head patching",
    Component: PatchPanel,
    Summary: PatchSummary,
    runs: (s) => [s.patch.run],
  },
  {
    id: "positions",
    label: "By position",
    Component: PositionsView,
    Summary: PositionsSummary,
    runs: (s) => [s.positions.run],
  },
  {
    id: "path",
    label: "Path patching",
    Component: PathView,
    Summary: PathSummary,
    runs: (s) => [s.path.run],
  },
  {
    id: "heads",
    label: "All heads",
    Component: AllHeadsView,
    Summary: HeadsSummary,
    runs: (s) => [s.heads.run],
  },
  {
    id: "dataset",
    label: "Dataset",
    Component: DatasetPanel,
    Summary: DatasetSummary,
    runs: (s) => [s.dataset.run],
  },
  {
    id: "lens",
    label: "Logit lens",
    Component: LensView,
    Summary: LensSummary,
    runs: (s) => [s.readouts.lens.run],
  },
  {
    id: "dla",
    label: "Logit attribution",
    Component: DlaView,
    Summary: DlaSummary,
    runs: (s) => [s.readouts.dla.run],
  },
  {
    id: "attrib",
    label: "Attribution patching",
    Component: AttribView,
    Summary: AttribSummary,
    runs: (s) => [s.readouts.attrib.run],
  },
];

export function viewById(id: string): ViewEntry | undefined {
  return VIEWS.find((v) => v.id === id);
}
