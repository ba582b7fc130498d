import { describe, expect, it } from "vitest";

import { type AttemptLog, droppedText, logRows, logTime } from "./logs";

const line = (level: string, message: string) => ({ t: "2026-03-01T10:00:00.250Z", level, message });

function texts(log: AttemptLog, min?: "debug" | "info" | "warning" | "error"): string[] {
  return logRows(log, min).map((r) => (r.kind === "line" ? `${r.line.level}: ${r.line.message}` : `[${r.text}]`));
}

describe("logRows", () => {
  const log: AttemptLog = {
    attempt: 2,
    lines: [line("debug", "a"), line("info", "b"), line("warning", "c"), line("error", "d")],
    dropped: 0,
    dropped_at: null,
  };

  it("shows every line from debug up, in order", () => {
    expect(texts(log)).toEqual(["debug: a", "info: b", "warning: c", "error: d"]);
  });

  it("leaves out the levels below the one chosen", () => {
    expect(texts(log, "warning")).toEqual(["warning: c", "error: d"]);
    expect(texts(log, "error")).toEqual(["error: d"]);
  });

  it("marks the dropped lines where they were, whatever the filter", () => {
    const capped = { ...log, dropped: 37, dropped_at: 2 };
    expect(texts(capped)).toEqual(["debug: a", "info: b", "[37 lines dropped]", "warning: c", "error: d"]);
    expect(texts(capped, "error")).toEqual(["[37 lines dropped]", "error: d"]);
  });

  it("puts the marker last when the lines dropped came after every line kept", () => {
    expect(texts({ ...log, lines: [line("info", "x")], dropped: 1, dropped_at: 1 })).toEqual(["info: x", "[1 line dropped]"]);
  });

  it("counts an unknown level as info", () => {
    expect(texts({ ...log, lines: [line("notice", "n")] }, "info")).toEqual(["notice: n"]);
    expect(texts({ ...log, lines: [line("notice", "n")] }, "warning")).toEqual([]);
  });

  it("gives every row its own key", () => {
    const keys = logRows({ ...log, dropped: 3, dropped_at: 1 }).map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("the small pieces", () => {
  it("says one line or several", () => {
    expect(droppedText(1)).toBe("1 line dropped");
    expect(droppedText(200)).toBe("200 lines dropped");
  });

  it("writes a line's time to the millisecond, and junk as it came", () => {
    expect(logTime("2026-03-01T10:00:00.250Z")).toMatch(/^\d\d:\d\d:00\.250$/);
    expect(logTime("yesterday")).toBe("yesterday");
  });
});
