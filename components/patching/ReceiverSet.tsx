"use client";
/**
 * Path patching's receiver set (Wang et al. 2022): the heads picked on the receivers' grid, each
 * with its effect alone, a button that measures the set jointly (the sender's corrupted output
 * read only by these heads; 4 forward passes beside the grid on screen), and the last joint
 * effect next to the sum of its members alone. A member's "edit" opens the head edit form.
 */
import { setLabel } from "@/lib/export/patching";
import type { HeadRef } from "@/lib/interp/path-patch";
import { fmtValue } from "@/lib/viz/format";
import { useCauseway } from "../StoreProvider";
import { useModelBlocked } from "../use-model-blocked";

const label = (h: HeadRef) => `L${h.layer}H${h.head}`;

export function ReceiverSet({ nHead }: { nHead: number }) {
  const receivers = useCauseway((s) => s.path.receivers);
  const result = useCauseway((s) => s.path.result);
  const blocked = useModelBlocked();
  const toggle = useCauseway((s) => s.toggleReceiver);
  const clear = useCauseway((s) => s.setPathReceivers);
  const runJoint = useCauseway((s) => s.runPathJoint);
  const open = useCauseway((s) => s.openEditForm);
  const clean = useCauseway((s) => s.patch.settings.clean);
  const alone = (h: HeadRef) => result?.values?.[h.layer * nHead + h.head] ?? Number.NaN;
  const joint = result?.joint ?? null;
  const jointSum = joint?.receivers.reduce((a, h) => a + alone(h), 0) ?? Number.NaN;
  const stale = joint !== null && setLabel(joint.receivers) !== setLabel(receivers);
  return (
    <div className="receivers" data-testid="path-receiver-set">
      <p className="field__label">
        Receiver set{" "}
        <span className="receivers__hint">
          {receivers.length === 0
            ? "— click heads on the grid to add them"
            : `(${receivers.length})`}
        </span>
      </p>
      {receivers.length > 0 ? (
        <ul className="receivers__list">
          {receivers.map((h) => (
            <li key={label(h)} className="receivers__chip" data-testid="path-receiver">
              <span className="receivers__name">{label(h)}</span>
              <span className="receivers__alone">
                {Number.isNaN(alone(h)) ? "" : fmtValue(alone(h))}
              </span>
              <button
                type="button"
                className="btn btn--ghost btn--small"
                title={`Edit head ${label(h)}`}
                onClick={() => open({ form: "head", site: { ...h, kind: "head" }, prompt: clean })}
              >
                edit
              </button>
              <button
                type="button"
                className="btn btn--ghost btn--small"
                aria-label={`Take ${label(h)} out of the set`}
                onClick={() => toggle(h)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="receivers__actions">
        <button
          type="button"
          className="btn btn--primary"
          disabled={blocked !== null || receivers.length === 0}
          title={
            blocked ??
            (receivers.length === 0 ? "Pick receiver heads on the grid first" : undefined)
          }
          onClick={() => runJoint()}
          data-testid="run-path-joint"
        >
          Joint effect
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          disabled={receivers.length === 0}
          onClick={() => clear([])}
          data-testid="path-receivers-clear"
        >
          Clear
        </button>
      </div>
      {joint ? (
        <p className="receivers__joint" data-testid="path-joint" data-value={joint.value}>
          <span>
            {setLabel(joint.receivers)} together: <strong>{fmtValue(joint.value)}</strong>
          </span>
          <span className="receivers__hint">
            {Number.isNaN(jointSum) ? "" : ` (each alone, summed: ${fmtValue(jointSum)})`}
            {stale ? " — the set has changed since: press Joint effect" : ""}
          </span>
        </p>
      ) : null}
    </div>
  );
}
