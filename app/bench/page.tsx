/**
 * /bench: the browser half of `npm run bench` (scripts/bench.mjs opens it in Chromium). Not
 * linked from the app; not indexed.
 */
import type { Metadata } from "next";
import { BenchRunner } from "./BenchRunner";

export const metadata: Metadata = {
  title: "Causeway benchmark",
  robots: { index: false, follow: false },
};

export default function BenchPage() {
  return <BenchRunner />;
}
