"use client";
/** The clock (performance.now), re-read every `periodMs` while `active`: elapsed times tick. */
import { useEffect, useState } from "react";

export function useTicker(active: boolean, periodMs = 1000): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    setNow(performance.now());
    const id = setInterval(() => setNow(performance.now()), periodMs);
    return () => clearInterval(id);
  }, [active, periodMs]);
  return now;
}
