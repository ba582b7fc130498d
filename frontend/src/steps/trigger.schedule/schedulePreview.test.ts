import { describe, expect, it } from "vitest";

import { ApiError } from "../../api";
import { formatFireTime, previewError, previewRequest } from "./schedulePreview";

describe("the schedule preview", () => {
  it("asks for the trimmed cron in the config's zone, UTC by default, and nothing without a cron", () => {
    expect(previewRequest({ cron: " 0 9 * * 1-5 ", timezone: "Europe/Paris" })).toEqual({
      cron: "0 9 * * 1-5",
      timezone: "Europe/Paris",
    });
    expect(previewRequest({ cron: "0 9 * * *" })).toEqual({ cron: "0 9 * * *", timezone: "UTC" });
    expect(previewRequest({ cron: "0 9 * * *", timezone: "" })).toEqual({ cron: "0 9 * * *", timezone: "UTC" });
    expect(previewRequest({ cron: "   " })).toBeNull();
    expect(previewRequest({})).toBeNull();
    expect(previewRequest(undefined)).toBeNull();
  });

  it("shows a fire time at the schedule zone's wall-clock time with its offset", () => {
    expect(formatFireTime("2026-03-29T03:00:00+02:00")).toBe("Sun 2026-03-29 03:00 (UTC+02:00)");
    expect(formatFireTime("2026-11-01T01:30:00-05:00")).toBe("Sun 2026-11-01 01:30 (UTC-05:00)");
    expect(formatFireTime("2026-03-02T12:00:00+00:00")).toBe("Mon 2026-03-02 12:00 (UTC)");
    expect(formatFireTime("2026-03-02T12:00:00Z")).toBe("Mon 2026-03-02 12:00 (UTC)");
    expect(formatFireTime("soon")).toBe("soon");
  });

  it("says what is wrong with the cron or the zone in the server's words", () => {
    const error = (field: string, message: string) =>
      new ApiError(400, [{ node: null, edge: null, field, code: "invalid_format", message }], {});
    expect(previewError(error("cron", "not a valid cron expression: out of range"))).toBe(
      "not a valid cron expression: out of range",
    );
    expect(previewError(error("timezone", "'Mars/Base' is not an IANA time zone name"))).toBe(
      "Time zone: 'Mars/Base' is not an IANA time zone name",
    );
    expect(previewError(new TypeError("Failed to fetch"))).toMatch(/could not be read/);
  });
});
