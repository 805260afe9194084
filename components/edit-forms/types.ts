/**
 * What every edit form gets: the site the user clicked (a heatmap cell, a head of the head grid)
 * and the trace's prompt and subject. A form builds an Edit (usually a recipe the worker then
 * learns) and hands it to onAdd when the user confirms; onCancel closes it.
 */
import type { Edit } from "../../lib/edit/types";

export interface EditFormProps {
  site: {
    layer?: number;
    position?: number;
    head?: number;
    kind?: "hidden" | "mlp" | "attn" | "head";
  };
  prompt: string;
  subject?: string;
  onAdd(edit: Edit): void;
  onCancel(): void;
}
