import { act, cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { resetClock } from "../clock";
import { renderWithProviders } from "../test/render";
import { Countdown } from "./Countdown";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  resetClock();
});

describe("the countdown badge", () => {
  it("moves every second and turns red when the task is overdue, without any request", () => {
    vi.useFakeTimers();
    const t0 = Date.parse("2026-12-06T12:00:00Z");
    vi.setSystemTime(t0);
    const fetched = vi.spyOn(globalThis, "fetch");
    renderWithProviders(
      <Countdown due={new Date(t0 + 3_000).toISOString()} from={new Date(t0 - 57_000).toISOString()} />,
    );

    const timer = screen.getByRole("timer");
    // 3 s of a 60 s window: the last 20 %, amber.
    expect(timer.textContent).toBe("3 s left");
    expect(timer.getAttribute("data-countdown")).toBe("soon");
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByRole("timer").textContent).toBe("2 s left");
    act(() => vi.advanceTimersByTime(3000));
    expect(screen.getByRole("timer").textContent).toBe("overdue 1 s");
    expect(screen.getByRole("timer").getAttribute("data-countdown")).toBe("overdue");
    expect(fetched).not.toHaveBeenCalled();
  });

  it("says where an escalated task went", () => {
    vi.useFakeTimers();
    const t0 = Date.parse("2026-12-06T12:00:00Z");
    vi.setSystemTime(t0);
    renderWithProviders(
      <Countdown
        due={new Date(t0 + 2 * 3600_000).toISOString()}
        from={new Date(t0).toISOString()}
        escalatedTo={["finance-leads"]}
      />,
    );
    expect(screen.getByRole("timer").textContent).toBe("escalated to finance-leads · 2 h left");
    expect(screen.getByRole("timer").getAttribute("data-countdown")).toBe("normal");
  });
});
