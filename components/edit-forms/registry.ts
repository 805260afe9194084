/**
 * The edit forms the edit panel offers, in menu order. A click on a heatmap cell or a head opens
 * the first form whose `sites` include that site's kind; the panel's "Add edit" menu lists them
 * all. Add a form with one line here.
 */
import type { ComponentType } from "react";
import { BATCH_METHOD_TITLES, BATCH_METHODS } from "@/lib/edit/batch-methods";
import { AbscForm } from "./AbscForm";
import { BatchForm } from "./BatchForm";
import { CanonicalForm } from "./CanonicalForm";
import { HeadForm } from "./HeadForm";
import { LoreftForm } from "./LoreftForm";
import { ResidForm } from "./ResidForm";
import { RomeForm } from "./RomeForm";
import { SweaForm } from "./SweaForm";
import type { EditFormProps } from "./types";

export type EditSiteKind = NonNullable<EditFormProps["site"]["kind"]>;

export interface EditFormEntry {
  id: string;
  label: string;
  /** The clicked sites that open this form. */
  sites: EditSiteKind[];
  component: ComponentType<EditFormProps>;
}

export const EDIT_FORMS: EditFormEntry[] = [
  { id: "rome", label: "ROME (rewrite a fact)", sites: ["mlp"], component: RomeForm },
  {
    id: "head",
    label: "Head (ablate, scale, steer)",
    sites: ["head", "attn"],
    component: HeadForm,
  },
  { id: "resid", label: "Representation steering", sites: ["hidden"], component: ResidForm },
  { id: "loreft", label: "LoReFT (aspect sentiment)", sites: ["hidden"], component: LoreftForm },
  { id: "absc", label: "ABSC recipe (compare methods)", sites: [], component: AbscForm },
  { id: "lora", label: "Canonical example (LoRA)", sites: ["mlp"], component: CanonicalForm },
  { id: "swea", label: "SWEA (subject embeddings)", sites: [], component: SweaForm },
  {
    id: "batch",
    label: `Rewrite many facts (${BATCH_METHODS.map((m) => BATCH_METHOD_TITLES[m]).join(", ")})`,
    sites: [],
    component: BatchForm,
  },
];

/** The form a click on a site of this kind opens. */
export function formForSite(kind: EditSiteKind): EditFormEntry | undefined {
  return EDIT_FORMS.find((f) => f.sites.includes(kind));
}
