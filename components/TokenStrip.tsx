"use client";
/** The prompt as the model sees it: one chip per token, whitespace made visible. */
import { visibleToken } from "./format";
import { useCauseway } from "./StoreProvider";

export function TokenStrip() {
  const result = useCauseway((s) => s.predict.result);
  const stale = useCauseway((s) => s.predict.status !== "ok");
  if (!result) return null;
  return (
    <div className={`tokens${stale ? " tokens--stale" : ""}`} data-testid="token-strip">
      <span className="eyebrow">Tokens</span>
      <ol className="tokens__list">
        {result.inputTokens.map((tok, i) => (
          <li
            // biome-ignore lint/suspicious/noArrayIndexKey: tokens repeat; position is the identity
            key={i}
            className="tokens__tok"
            title={`position ${i} · id ${result.inputIds[i]}`}
            data-testid="input-token"
          >
            {visibleToken(tok)}
          </li>
        ))}
      </ol>
    </div>
  );
}
