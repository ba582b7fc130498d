import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { newerThan } from "./slices/save";
import {
  DesignerSocket,
  type DesignerMessage,
  PING_MS,
  type PresentUser,
  type SavedVersion,
  initials,
  newerText,
  newerVersion,
  othersPresent,
} from "./presence";

const ana = { id: 2, username: "ana", display_name: "Ana Lima" };
const me = 1;

function saved(number: number, author = ana): SavedVersion {
  return { workflow: 7, number, author, note: "", saved_at: "2025-05-01T10:00:00Z" };
}

describe("presence", () => {
  it("shows everyone but me, my other tabs included", () => {
    const users: PresentUser[] = [
      { id: 1, username: "me", display_name: "me", since: "2025-05-01T09:00:00Z" },
      { ...ana, since: "2025-05-01T09:05:00Z" },
    ];
    expect(othersPresent(users, me).map((u) => u.username)).toEqual(["ana"]);
    expect(othersPresent(users, undefined)).toHaveLength(2);
  });

  it("makes initials of one or more names", () => {
    expect(initials("Ana Lima")).toBe("AL");
    expect(initials("  maria  da silva ")).toBe("MS");
    expect(initials("bob")).toBe("BO");
    expect(initials("")).toBe("?");
  });
});

describe("a version saved meanwhile", () => {
  it("is news when someone else saved past my base", () => {
    expect(newerVersion(saved(5), { me, base: 4, shown: null })).toEqual(saved(5));
    expect(newerText(saved(5), 4)).toBe("Ana Lima saved version 5 — your draft is based on version 4");
  });

  it("is not news when it is my own save, in this tab or another", () => {
    const mine = saved(5, { id: me, username: "me", display_name: "me" });
    expect(newerVersion(mine, { me, base: 4, shown: null })).toBeNull();
  });

  it("is not news when I already have it, and the newest of several is kept", () => {
    expect(newerVersion(saved(4), { me, base: 4, shown: null })).toBeNull();
    const six = saved(6);
    expect(newerVersion(saved(5), { me, base: 4, shown: six })).toBe(six);
    expect(newerVersion(saved(7), { me, base: 4, shown: six })).toEqual(saved(7));
  });

  it("goes once its version (or a later one) is on screen", () => {
    expect(newerThan(saved(5), 4)).toEqual(saved(5));
    expect(newerThan(saved(5), 5)).toBeNull();
    expect(newerThan(null, 5)).toBeNull();
  });

  it("names someone unknown when the author is gone", () => {
    expect(newerText({ ...saved(3), author: null }, 2)).toMatch(/^Someone saved version 3/);
  });
});

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((close: { code: number }) => void) | null = null;
  sent: string[] = [];
  closedWith: number | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close(code: number) {
    this.closedWith = code;
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

describe("the designer socket", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  function follow() {
    const messages: DesignerMessage[] = [];
    const live: boolean[] = [];
    const socket = new DesignerSocket({
      workflowId: 7,
      onMessage: (m) => messages.push(m),
      onLive: (up) => live.push(up),
      WebSocket: FakeSocket as unknown as typeof WebSocket,
      baseUrl: "https://flowdeck.test/designer/7",
      random: () => 1,
    });
    return { socket, messages, live };
  }

  it("pings while open, passes presence and saves on, and ignores the rest", () => {
    const { socket, messages } = follow();
    const ws = FakeSocket.all[0];
    expect(ws.url).toBe("wss://flowdeck.test/ws/workflows/7/");
    ws.onopen?.();
    vi.advanceTimersByTime(PING_MS * 2);
    expect(ws.sent).toEqual(['{"type":"ping"}', '{"type":"ping"}']);
    ws.receive({ type: "presence", users: [] });
    ws.receive({ type: "version_saved", version: saved(5) });
    ws.receive({ type: "something else" });
    expect(messages.map((m) => m.type)).toEqual(["presence", "version_saved"]);
    socket.stop();
    expect(ws.closedWith).toBe(1000);
    vi.advanceTimersByTime(PING_MS);
    expect(ws.sent).toHaveLength(2);
  });

  it("reconnects after a drop, but not after a refusal", () => {
    const { live } = follow();
    FakeSocket.all[0].onopen?.();
    FakeSocket.all[0].onclose?.({ code: 1006 });
    expect(live).toEqual([true, false]);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].onclose?.({ code: 4403 });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
  });
});
