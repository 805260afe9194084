"use client";
/**
 * Creates the app's store and the model worker for this mounted tree (never a global store),
 * wires the worker's answers into the store, and loads the default model.
 */
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { useStore } from "zustand";
import type { ModelSource } from "@/lib/protocol";
import {
  type CausewayState,
  type CausewayStore,
  createCausewayStore,
  type ExampleFact,
} from "@/lib/store";
import { WORKER_FAILED, WorkerClient } from "@/lib/worker-client";

const StoreContext = createContext<CausewayStore | null>(null);

export function StoreProvider({
  children,
  initialModel,
  initialPrompt,
  examples = [],
}: {
  children: ReactNode;
  initialModel: ModelSource;
  initialPrompt: string;
  examples?: ExampleFact[];
}) {
  const [store] = useState(() => createCausewayStore({ initialPrompt, examples }));

  useEffect(() => {
    let client: WorkerClient;
    try {
      client = new WorkerClient((msg, kind) => store.getState().receive(msg, kind));
    } catch (e) {
      store.getState().receive(
        {
          type: "error",
          reqId: -1,
          code: WORKER_FAILED,
          message: e instanceof Error ? e.message : String(e),
        },
        "load",
      );
      return;
    }
    const disconnect = store.getState().connect(client);
    store.getState().loadModel(initialModel);
    return () => {
      disconnect();
      client.dispose();
    };
  }, [store, initialModel]);

  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

/** The store itself, for tests and debugging hooks (window.__causeway). */
export function useCausewayStore(): CausewayStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useCausewayStore must be used inside <StoreProvider>");
  return store;
}

export function useCauseway<T>(selector: (s: CausewayState) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useCauseway must be used inside <StoreProvider>");
  return useStore(store, selector);
}
