import { afterEach, describe, expect, it, vi } from "vitest";

import { SAMPLES, addSample, bestOffset, noteServerTime, resetClock, sampleOf, serverNow, serverOffset } from "./clock";

afterEach(() => {
  resetClock();
  vi.useRealTimers();
});

describe("the server's clock", () => {
  it("takes the server's stamp as the midpoint of the round trip", () => {
    // Sent at 1,000, answered at 1,200; the server said 61,100: it is 60 s ahead.
    expect(sampleOf(61_100, 1_000, 1_200)).toEqual({ offset: 60_000, rtt: 200 });
    // A server behind the browser gives a negative offset.
    expect(sampleOf(500, 1_000, 1_000)).toEqual({ offset: -500, rtt: 0 });
  });

  it("trusts the sample with the shortest round trip, among the last few", () => {
    const quick = { offset: 5_000, rtt: 20 };
    const slow = { offset: 5_900, rtt: 1_800 };
    expect(bestOffset([slow, quick, slow])).toBe(5_000);
    expect(bestOffset([])).toBe(0);
    // Old samples age out: a clock set meanwhile is followed.
    let kept = [quick];
    for (let i = 0; i < SAMPLES; i++) kept = addSample(kept, { offset: -100, rtt: 40 });
    expect(kept).toHaveLength(SAMPLES);
    expect(bestOffset(kept)).toBe(-100);
  });

  it("moves now by the offset the responses give", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    expect(serverNow()).toBe(1_000_000);

    noteServerTime(String(1_000_000 + 90_000 + 50), 1_000_000, 1_000_100);

    expect(serverOffset()).toBe(90_000);
    expect(serverNow()).toBe(1_090_000);
  });

  it("ignores a response without the header or with junk in it", () => {
    noteServerTime(null, 0, 10);
    noteServerTime("soon", 0, 10);
    noteServerTime("-5", 0, 10);
    expect(serverOffset()).toBe(0);
  });
});
