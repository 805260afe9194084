import { TraceApp } from "@/components/TraceApp";

export default function Page() {
  return <TraceApp initialPrompt="" examples={[]} />;
}
