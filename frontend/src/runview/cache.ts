/**
 * A run in TanStack Query's cache, kept current by its live socket (STYLE 21):
 *
 * - `keys.runEvents(id)`: the run's whole event log, read once (page by page) and then grown
 *   by the socket's events;
 * - `keys.run(id)`: the run with its steps. A read gives the server's state up to its
 *   `last_event_id`; the events the cache holds past it are applied on top (`applyEvents`), so
 *   a read that answers after newer events arrived never shows an older state.
 *
 * A batch of events patches both in place (`applyRunEvents`); the run is read again only when
 * an event says something events do not carry (a step's output, the run's output), and a
 * step's logs only when one of its attempts ended.
 */
import type { QueryClient } from "@tanstack/react-query";

import { api } from "../api";
import type { LiveEvent } from "../live";
import { keys } from "../query";
import { type Run, applyEvents, logsChanged, mergeEvents, needsRead } from "./model";

type EventPage = { events: LiveEvent[]; next_after: number | null };

// Runs whose payloads changed while a read of them was on its way: read once more after it.
const readAgain = new Set<number>();

/** The run as the server has it, with the newer events this page already holds applied. */
export async function readRun(client: QueryClient, id: number): Promise<Run> {
  readAgain.delete(id);
  try {
    const run = await api<Run>(`/api/runs/${id}/`);
    return applyEvents(run, client.getQueryData<LiveEvent[]>(keys.runEvents(id)) ?? []);
  } finally {
    if (readAgain.has(id)) {
      readAgain.delete(id);
      // After this read settles into the cache, not inside it.
      setTimeout(() => void client.invalidateQueries({ queryKey: keys.run(id), exact: true }), 0);
    }
  }
}

/** Every event of the run, oldest first, merged with what the socket brought meanwhile. */
export async function readEvents(client: QueryClient, id: number): Promise<LiveEvent[]> {
  let events: LiveEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await api<EventPage>(`/api/runs/${id}/events/?after=${after}`);
    events = mergeEvents(events, page.events);
    if (page.next_after === null) break;
    after = page.next_after;
  }
  return mergeEvents(client.getQueryData<LiveEvent[]>(keys.runEvents(id)) ?? [], events);
}

/** What a batch of the run's live events does to the cache. Returns whether the run is read
 * again (for the payloads events do not carry). */
export function applyRunEvents(client: QueryClient, id: number, events: LiveEvent[]): boolean {
  if (events.length === 0) return false;
  client.setQueryData<LiveEvent[]>(keys.runEvents(id), (known) => mergeEvents(known ?? [], events));
  client.setQueryData<Run>(keys.run(id), (run) => (run ? applyEvents(run, events) : run));
  for (const node of logsChanged(events)) {
    // Only a shown step's logs are read now; others are read when next shown.
    void client.invalidateQueries({ queryKey: keys.stepLogs(id, node), exact: true });
  }
  if (!needsRead(events)) return false;
  if (client.getQueryState(keys.run(id))?.fetchStatus === "fetching") {
    // One read at a time: the one on its way may have started before these payloads were
    // stored, so one more follows it (a busy run is not read once per batch).
    readAgain.add(id);
  } else {
    void client.invalidateQueries({ queryKey: keys.run(id), exact: true });
  }
  return true;
}

/** A run the server answered an action with (cancel): taken as the newest state, with the
 * cache's newer events applied on top. */
export function putRun(client: QueryClient, run: Run): void {
  client.setQueryData<Run>(keys.run(run.id), applyEvents(run, client.getQueryData<LiveEvent[]>(keys.runEvents(run.id)) ?? []));
}

/** A step the server answered an action with (retry, skip): patched into the cached run. */
export function putStep(client: QueryClient, runId: number, step: NonNullable<Run["steps"]>[number]): void {
  client.setQueryData<Run>(keys.run(runId), (run) =>
    run ? { ...run, steps: (run.steps ?? []).map((s) => (s.node === step.node ? step : s)) } : run,
  );
}
