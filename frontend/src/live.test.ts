import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { LiveSocket, socketUrl, type LiveStatus } from "./live";

type Event = { id: number; type: string };

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((close: { code: number }) => void) | null = null;
  closedWith: number | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  open() {
    this.onopen?.();
  }

  send(event: Event) {
    this.onmessage?.({ data: JSON.stringify({ type: "event", event }) });
  }

  drop(code = 1006) {
    this.onclose?.({ code });
  }

  close(code: number) {
    this.closedWith = code;
  }
}

function follow(after: number | null) {
  const batches: number[][] = [];
  const statuses: LiveStatus[] = [];
  const live = new LiveSocket<Event>({
    path: "/ws/runs/7/",
    after,
    onEvents: (events) => batches.push(events.map((e) => e.id)),
    onStatus: (status) => statuses.push(status),
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    baseUrl: "http://flowdeck.test/runs/7",
    random: () => 1,
  });
  return { live, batches, statuses };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("the live socket", () => {
  it("builds ws and wss addresses with the cursor", () => {
    expect(socketUrl("/ws/runs/7/", 12, "http://h:8000/runs/7")).toBe("ws://h:8000/ws/runs/7/?after=12");
    expect(socketUrl("/ws/runs/", null, "https://h/x")).toBe("wss://h/ws/runs/");
  });

  it("delivers messages that arrive together as one batch, then later ones", () => {
    const { batches, statuses } = follow(3);
    const socket = FakeSocket.all[0];
    expect(socket.url).toBe("ws://flowdeck.test/ws/runs/7/?after=3");
    socket.open();
    socket.send({ id: 4, type: "step.started" });
    socket.send({ id: 5, type: "step.succeeded" });
    expect(batches).toEqual([]);
    vi.runOnlyPendingTimers();
    socket.send({ id: 9, type: "run.succeeded" });
    vi.runOnlyPendingTimers();
    expect(batches).toEqual([[4, 5], [9]]);
    expect(statuses).toEqual(["live"]);
  });

  it("reconnects after the last event received, backing off, and drops what it already has", () => {
    const { live, batches, statuses } = follow(null);
    FakeSocket.all[0].open();
    FakeSocket.all[0].send({ id: 1, type: "run.created" });
    FakeSocket.all[0].drop();
    expect(batches).toEqual([[1]]); // what arrived before the drop is not lost
    expect(statuses).toEqual(["live", "reconnecting"]);

    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all[1].url).toBe("ws://flowdeck.test/ws/runs/7/?after=1");
    // The server is still down: the next wait is twice as long.
    FakeSocket.all[1].drop();
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    const third = FakeSocket.all[2];
    third.open();
    third.send({ id: 1, type: "run.created" });
    third.send({ id: 2, type: "run.running" });
    vi.runOnlyPendingTimers();
    expect(batches).toEqual([[1], [2]]);
    expect(live.last).toBe(2);
    // Open again: the backoff starts over.
    third.drop();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(4);
  });

  it("does not retry when the server refuses", () => {
    const { statuses } = follow(0);
    FakeSocket.all[0].drop(4403);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(statuses).toEqual(["refused"]);
  });

  it("stops for good", () => {
    const { live, batches } = follow(0);
    FakeSocket.all[0].open();
    live.stop();
    expect(FakeSocket.all[0].closedWith).toBe(1000);
    FakeSocket.all[0].send({ id: 1, type: "run.created" });
    FakeSocket.all[0].drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(batches).toEqual([]);
  });
});
