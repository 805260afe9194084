"use client";
/** The app shell: header (model, backend), prompt and tokens, predictions, status line. */
import type { ModelSource } from "@/lib/protocol";
import { BackendBadge } from "./BackendBadge";
import { ModelPicker } from "./ModelPicker";
import { PredictionBars } from "./PredictionBars";
import { PromptForm } from "./PromptForm";
import { RunStatus } from "./RunStatus";
import { StoreProvider } from "./StoreProvider";
import { TokenStrip } from "./TokenStrip";

const DEFAULT_MODEL: ModelSource = { kind: "bundled", name: "tiny-facts" };

export function TraceApp({
  initialPrompt = "",
  examples = [],
}: {
  initialPrompt?: string;
  examples?: readonly string[];
}) {
  return (
    <StoreProvider initialModel={DEFAULT_MODEL} initialPrompt={initialPrompt}>
      <div className="app" data-testid="app">
        <header className="top">
          <div className="brand">
            <h1>Causeway</h1>
            <p>where a language model keeps what it knows</p>
          </div>
          <div className="top__right">
            <ModelPicker />
            <BackendBadge />
          </div>
        </header>
        <main className="grid">
          <section className="panel" aria-label="Prompt">
            <PromptForm examples={examples} />
            <TokenStrip />
          </section>
          <PredictionBars />
        </main>
        <RunStatus />
      </div>
    </StoreProvider>
  );
}
