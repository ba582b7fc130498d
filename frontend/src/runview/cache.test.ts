import { QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { LiveEvent } from "../live";
import { keys, makeQueryClient } from "../query";
import { applyRunEvents, readEvents, readRun } from "./cache";
import type { Run } from "./model";

afterEach(() => vi.unstubAllGlobals());

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

function cachedRun(): Run {
  return {
    id: 5,
    workflow: 1,
    workflow_name: "Payout",
    version: 1,
    status: "running",
    trigger: "manual",
    actor: "alice",
    error: null,
    created_at: at(0),
    started_at: at(0),
    finished_at: null,
    last_event_id: 10,
    steps: [
      { node: "start", type: "trigger.manual", status: "succeeded", attempt: 1, error: null, started_at: at(0), finished_at: at(0) },
      { node: "pay", type: "code.function", status: "pending", attempt: 0, error: null, started_at: null, finished_at: null },
    ],
  };
}

function event(id: number, node: string, from: string, to: string, more: Partial<LiveEvent> = {}): LiveEvent {
  return { id, run: 5, node, type: `step.${to}`, old_status: from, new_status: to, attempt: 1, actor: null, created_at: at(id), data: {}, ...more };
}

/** A fetch that answers each URL from `answers` and records what was asked. */
function serve(answers: Record<string, unknown>) {
  const fetch = vi.fn(async (url: string) => {
    if (!(url in answers)) return new Response("{}", { status: 404 });
    return new Response(JSON.stringify(answers[url]), { status: 200 });
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

describe("a batch of live events", () => {
  it("updates the cached run and its events without a read", () => {
    const fetch = serve({});
    const client = makeQueryClient();
    client.setQueryData(keys.run(5), cachedRun());
    client.setQueryData(keys.runEvents(5), [event(10, "start", "running", "succeeded")]);
    const observer = new QueryObserver(client, { queryKey: keys.run(5), queryFn: () => readRun(client, 5), staleTime: Infinity });
    const seen: string[] = [];
    const stop = observer.subscribe((result) => seen.push(result.data?.steps?.[1].status ?? "?"));

    const read = applyRunEvents(client, 5, [event(11, "pay", "pending", "queued"), event(12, "pay", "queued", "running")]);

    expect(read).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
    const run = client.getQueryData<Run>(keys.run(5))!;
    expect(run.steps![1]).toMatchObject({ status: "running", started_at: at(12) });
    expect(run.last_event_id).toBe(12);
    expect(client.getQueryData<LiveEvent[]>(keys.runEvents(5))!.map((e) => e.id)).toEqual([10, 11, 12]);
    expect(seen.at(-1)).toBe("running"); // the page re-renders from the patched cache
    stop();
  });

  it("reads the run once for an output, and keeps newer events on top of an older answer", async () => {
    const client = makeQueryClient();
    client.setQueryData(keys.run(5), cachedRun());
    client.setQueryData(keys.runEvents(5), []);
    // The server's answer was read before the run ended: it includes event 11 only.
    const answer = {
      ...cachedRun(),
      last_event_id: 11,
      steps: [cachedRun().steps![0], { ...cachedRun().steps![1], status: "succeeded", output: { paid: true }, finished_at: at(11) }],
    };
    const fetch = serve({ "/api/runs/5/": answer });
    const observer = new QueryObserver(client, { queryKey: keys.run(5), queryFn: () => readRun(client, 5), staleTime: Infinity });
    const stop = observer.subscribe(() => undefined);

    expect(applyRunEvents(client, 5, [event(11, "pay", "running", "succeeded"), event(12, "", "running", "succeeded", { type: "run.succeeded", attempt: null })])).toBe(true);
    await vi.waitFor(() => expect(client.getQueryData<Run>(keys.run(5))!.steps![1].output).toEqual({ paid: true }));

    expect(fetch).toHaveBeenCalledTimes(1);
    const run = client.getQueryData<Run>(keys.run(5))!;
    expect(run.status).toBe("succeeded"); // event 12, applied over the older answer
    expect(run.last_event_id).toBe(12);
    stop();
  });
});

describe("reading a run's events", () => {
  it("reads every page, and keeps what the socket brought meanwhile", async () => {
    const client = makeQueryClient();
    serve({
      "/api/runs/5/events/?after=0": { events: [event(1, "start", "pending", "queued")], next_after: 1 },
      "/api/runs/5/events/?after=1": { events: [event(2, "start", "queued", "running")], next_after: null },
    });
    client.setQueryData(keys.runEvents(5), [event(3, "start", "running", "succeeded")]);
    expect((await readEvents(client, 5)).map((e) => e.id)).toEqual([1, 2, 3]);
  });
});
