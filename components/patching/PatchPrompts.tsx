"use client";
/** The patching prompts these views share with head patching, with a way back to edit them. */
import { useCauseway } from "../StoreProvider";

export function PatchPrompts() {
  const st = useCauseway((s) => s.patch.settings);
  const setView = useCauseway((s) => s.setView);
  return (
    <p className="panel__note patching__prompts" data-testid="patching-prompts">
      clean <q>{st.clean || "—"}</q> · corrupted <q>{st.corrupt || "—"}</q>
      {st.target ? ` · target “${st.target}”` : ""}
      {st.foil ? ` · foil “${st.foil}”` : ""}{" "}
      <button type="button" className="btn btn--ghost" onClick={() => setView("patch", "user")}>
        Edit the prompts…
      </button>
    </p>
  );
}
