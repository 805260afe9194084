"use client";
/**
 * The app shell: header (model, backend); prompt, tokens (where the subject is chosen) and
 * predictions; the results as tabs (components/views/registry.tsx: causal trace, patching, …);
 * the edit form and stack; generation; the status line.
 */
import type { ModelSource } from "@/lib/protocol";
import type { ExampleFact } from "@/lib/store";
import { BackendBadge } from "./BackendBadge";
import { EditPanel } from "./EditPanel";
import { GenerationPanel } from "./GenerationPanel";
import { ModelPicker } from "./ModelPicker";
import { PredictionBars } from "./PredictionBars";
import { PromptForm } from "./PromptForm";
import { RunStatus } from "./RunStatus";
import { SessionLink } from "./SessionLink";
import { StoreProvider } from "./StoreProvider";
import { TokenStrip } from "./TokenStrip";
import { ViewTabs } from "./views/ViewTabs";

const DEFAULT_MODEL: ModelSource = { kind: "bundled", name: "tiny-facts" };

export function TraceApp({
  initialPrompt = "",
  examples = [],
  facts = [],
}: {
  initialPrompt?: string;
  examples?: readonly string[];
  /** Known facts behind the examples (subject, counterfactual) for the trace and patching. */
  facts?: ExampleFact[];
}) {
  return (
    <StoreProvider initialModel={DEFAULT_MODEL} initialPrompt={initialPrompt} examples={facts}>
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
        <main className="main">
          <SessionLink />
          <div className="grid">
            <section className="panel" aria-label="Prompt">
              <PromptForm examples={examples} />
              <TokenStrip />
            </section>
            <PredictionBars />
          </div>
          <ViewTabs />
          <EditPanel />
          <GenerationPanel />
        </main>
        <RunStatus />
      </div>
    </StoreProvider>
  );
}
