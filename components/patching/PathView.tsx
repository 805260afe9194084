"use client";
/**
 * Path patching (lib/interp/path-patch.ts): pick a sender head on the grid (coloured by head
 * patching when that has run on these prompts), then see how much of the corruption travels from
 * it into each later head's queries, keys or values: a layer × head grid of effects, 0 = nothing,
 * −1 = all of it. Clicking receivers on that grid picks a receiver set, measured jointly beside
 * it (./ReceiverSet.tsx), where each member also opens the head edit form.
 */
import { useMemo } from "react";
import { pathCsv, pathJson } from "@/lib/export/patching";
import { RECEIVER_INPUTS } from "@/lib/interp/path-patch";
import { emptyGrid } from "@/lib/viz/grid";
import { RunLine } from "../RunLine";
import { useCauseway } from "../StoreProvider";
import { useModelBlocked } from "../use-model-blocked";
import { GridExport } from "./GridExport";
import { PatchGrid } from "./PatchGrid";
import { PatchPrompts } from "./PatchPrompts";
import { ReceiverSet } from "./ReceiverSet";

export function PathView() {
  const st = useCauseway((s) => s.path);
  const cfg = useCauseway((s) => s.model.info?.config ?? null);
  const headPatch = useCauseway((s) => s.patch.result);
  const blocked = useModelBlocked();
  const setSender = useCauseway((s) => s.setPathSender);
  const setInputs = useCauseway((s) => s.setPathInputs);
  const runPath = useCauseway((s) => s.runPath);
  const toggleReceiver = useCauseway((s) => s.toggleReceiver);
  const backend = useCauseway((s) => s.model.backend);
  const L = cfg?.nLayer ?? 0;
  const H = cfg?.nHead ?? 0;
  // the sender grid shows head patching's scores when they are of this model's shape
  const senderValues = useMemo(() => {
    const v = headPatch?.values;
    return v && v.length === L * H ? v : emptyGrid(L, H);
  }, [headPatch, L, H]);
  const r = st.result;
  const b = r?.baseline ?? null;
  const layers = Array.from({ length: L }, (_, l) => `L${l}`);
  const marked = useMemo(
    () => st.receivers.map((h) => ({ row: h.layer, col: h.head })),
    [st.receivers],
  );
  return (
    <section className="panel patching" aria-labelledby="path-title" data-testid="path-panel">
      <header className="panel__head">
        <h2 id="path-title">Path patching</h2>
        <span className="panel__note">
          the sender's corrupted output, read only by the receivers (Wang et al. 2022)
        </span>
      </header>
      <PatchPrompts />
      <div className="patching__pair">
        <div>
          <p className="field__label">
            Sender {st.sender ? `L${st.sender.layer}H${st.sender.head}` : "— pick a head"}
          </p>
          {L > 0 ? (
            <PatchGrid
              testId="path-sender"
              values={senderValues}
              rows={L}
              cols={H}
              rowLabels={layers}
              colLabel={(c) => `H${c}`}
              cellName={(l, h) => `L${l}H${h}`}
              selected={st.sender ? { row: st.sender.layer, col: st.sender.head } : null}
              onCellClick={(layer, head) => setSender({ layer, head })}
              clickBlank
              caption="click a head to send from it (colours: head patching, when run)"
            />
          ) : null}
          <form
            className="patching__form"
            onSubmit={(e) => {
              e.preventDefault();
              runPath();
            }}
          >
            <fieldset className="patching__sites">
              <legend className="field__label">Receivers read it through</legend>
              {RECEIVER_INPUTS.map((x) => (
                <label key={x} className="check">
                  <input
                    type="checkbox"
                    checked={st.inputs.includes(x)}
                    onChange={(e) =>
                      setInputs(
                        e.target.checked ? [...st.inputs, x] : st.inputs.filter((i) => i !== x),
                      )
                    }
                    data-testid={`path-input-${x}`}
                  />
                  {x}
                </label>
              ))}
            </fieldset>
            <button
              type="submit"
              className="btn btn--primary"
              disabled={blocked !== null}
              title={blocked ?? undefined}
              data-testid="run-path"
            >
              Path patch
            </button>
          </form>
          {st.formError ? (
            <p className="form-error" role="alert" data-testid="path-form-error">
              {st.formError.message}
            </p>
          ) : null}
        </div>
        <div>
          <p className="field__label">
            Receivers {r ? `of L${r.sender.layer}H${r.sender.head}` : ""}
          </p>
          <RunLine run={st.run} what="path patching" owner="path" />
          <GridExport
            file={r ? `path-L${r.sender.layer}H${r.sender.head}` : "path"}
            testId="path"
            files={
              r?.baseline && r.values
                ? {
                    json: () => pathJson(r, st.run, backend ? { backend } : {}),
                    csv: () => pathCsv(r),
                  }
                : null
            }
          />
          {b && r?.values ? (
            <PatchGrid
              testId="path-receivers"
              values={r.values}
              rows={b.nLayer}
              cols={b.nHead}
              rowLabels={layers}
              colLabel={(c) => `H${c}`}
              cellName={(l, h) =>
                `L${b.sender.layer}H${b.sender.head} → L${l}H${h} (${b.inputs.join("")})`
              }
              marked={marked}
              onCellClick={(layer, head) => toggleReceiver({ layer, head })}
              caption={`(LD − LD clean) / (LD clean − LD corrupted), ${b.target.token} vs ${b.foil.token}: 0 = the path carries nothing, −1 = all of it; click heads to add them to the receiver set`}
            />
          ) : (
            <p className="heatmap__empty">
              {st.run.status === "running"
                ? "Running the clean and corrupted prompts…"
                : "Pick a sender, then path patch to fill in its receivers."}
            </p>
          )}
          {b && r?.values ? <ReceiverSet nHead={b.nHead} /> : null}
        </div>
      </div>
    </section>
  );
}
