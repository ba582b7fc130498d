/**
 * The server's clock in the browser. A countdown (a task's time left) computed from the
 * browser's own clock drifts with it, and a laptop's clock may be minutes off: every API
 * response carries `X-Server-Time` (milliseconds, flowdeck/servertime.py), and `api()` hands
 * each one to `noteServerTime` with when the request left and when its answer came. The offset
 * is taken from the sample with the shortest round trip among the last few (its midpoint is the
 * closest guess of when the server stamped it), so one slow answer does not make countdowns
 * jump. "Now" is then `Date.now() + offset`, through `serverNow()` or the `useNow` hook.
 */
import { useEffect, useState } from "react";

export type ClockSample = { offset: number; rtt: number };

/** How many recent samples the offset is chosen from (a clock may be set meanwhile, so old
 * samples age out rather than win forever). */
export const SAMPLES = 8;

/** One response's estimate: the server stamped it about halfway through the round trip. */
export function sampleOf(serverMs: number, sentAt: number, receivedAt: number): ClockSample {
  const rtt = Math.max(0, receivedAt - sentAt);
  return { offset: Math.round(serverMs - (sentAt + rtt / 2)), rtt };
}

/** The samples kept after `sample`: the last `SAMPLES`, oldest first. */
export function addSample(samples: ClockSample[], sample: ClockSample): ClockSample[] {
  return [...samples, sample].slice(-SAMPLES);
}

/** The offset of the sample with the shortest round trip (the newest among equals); 0 without. */
export function bestOffset(samples: ClockSample[]): number {
  let best: ClockSample | null = null;
  for (const s of samples) if (best === null || s.rtt <= best.rtt) best = s;
  return best?.offset ?? 0;
}

let samples: ClockSample[] = [];
let offset = 0;
const listeners = new Set<() => void>();

/** Take a response's `X-Server-Time` header (milliseconds) into the offset. */
export function noteServerTime(header: string | null, sentAt: number, receivedAt: number): void {
  const serverMs = header === null ? Number.NaN : Number(header);
  if (!Number.isFinite(serverMs) || serverMs <= 0) return;
  samples = addSample(samples, sampleOf(serverMs, sentAt, receivedAt));
  const next = bestOffset(samples);
  // Below a quarter of a second nobody sees it; re-rendering every clock for it is waste.
  if (Math.abs(next - offset) < 250 && samples.length > 1) return;
  offset = next;
  for (const listener of listeners) listener();
}

/** How far the server's clock is ahead of the browser's, in milliseconds. */
export function serverOffset(): number {
  return offset;
}

/** The time on the server's clock now. */
export function serverNow(): number {
  return Date.now() + offset;
}

/** Called when the offset changes; returns the unsubscribe. */
export function onOffsetChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** For the tests: forget every sample. */
export function resetClock(): void {
  samples = [];
  offset = 0;
}

/** The server's time, ticking every `ms` while `ticking` (durations of what is still going,
 * countdowns); it also moves when a response corrects the offset. */
export function useNow(ticking: boolean, ms = 1000): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    const tick = () => setNow(serverNow());
    tick();
    const unsubscribe = onOffsetChange(tick);
    if (!ticking) return unsubscribe;
    const timer = setInterval(tick, ms);
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }, [ticking, ms]);
  return now;
}
