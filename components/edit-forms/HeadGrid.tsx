"use client";
/**
 * A layer × head grid of probe accuracies (0…1) as percentages, shaded above chance: the head
 * form's probe grid and the consistency recipe's. `outlined` heads ("L0H1") get a border.
 */
import { percent } from "../format";

export function HeadGrid({
  accuracy,
  cellTestId,
  outlined,
}: {
  /** [layer][head] */
  accuracy: number[][];
  cellTestId: string;
  outlined?: Set<string>;
}) {
  return (
    <table className="probe__table">
      <thead>
        <tr>
          <th />
          {accuracy[0].map((_, h) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: heads are positions
            <th key={h}>H{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {accuracy.map((row, l) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: layers are positions
          <tr key={l}>
            <th>L{l}</th>
            {row.map((a, h) => (
              <td
                // biome-ignore lint/suspicious/noArrayIndexKey: heads are positions
                key={h}
                data-testid={cellTestId}
                data-acc={a}
                style={{
                  background: `rgba(47, 111, 223, ${Math.max(0, (a - 0.5) * 2)})`,
                  outline: outlined?.has(`L${l}H${h}`) ? "2px solid currentColor" : undefined,
                }}
                title={`L${l}H${h}: ${percent(a)}`}
              >
                {Number.isNaN(a) ? "–" : Math.round(a * 100)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
