import { describe, expect, it } from "vitest";

import { breakerName, failureCount, nextStep } from "./breakers";

describe("breakers", () => {
  it("names a breaker by its scope and target", () => {
    expect(breakerName({ scope: "credential", target: "payments" })).toBe("Credential payments");
    expect(breakerName({ scope: "host", target: "127.0.0.1:8080" })).toBe("Host 127.0.0.1:8080");
  });

  it("counts failures against the threshold", () => {
    expect(failureCount({ failures: 4, thresholds: { failures: 5, window_s: 60 } })).toBe("4 of 5 failures in 60 s");
    expect(failureCount({ failures: 1, thresholds: {} })).toBe("1 failure");
  });

  it("says when the next probe may go", () => {
    expect(nextStep({ state: "closed", retry_in_s: null })).toBe("");
    expect(nextStep({ state: "open", retry_in_s: 11.2 })).toBe("a probe may go in 12 s");
    expect(nextStep({ state: "open", retry_in_s: 0 })).toBe("a probe may go now");
    expect(nextStep({ state: "half_open", retry_in_s: 3 })).toBe("a probe is out (3 s left)");
  });
});
