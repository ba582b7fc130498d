import { describe, expect, it } from "vitest";

import { ruleBody, ruleForm, ruleSummary } from "./AlertRules";

const base = {
  name: " Failures ",
  kind: "run_failed",
  workflow: "",
  rate_pct: "",
  window_s: "",
  queued_s: "",
  emails: "a@example.com, b@example.com;c@example.com ",
  webhook_url: "",
  cooldown_s: "",
};

describe("a new alert rule", () => {
  it("sends emails as a list, a global rule as null, and no unused fields", () => {
    expect(ruleBody(base)).toEqual({
      name: "Failures",
      kind: "run_failed",
      workflow: null,
      emails: ["a@example.com", "b@example.com", "c@example.com"],
      webhook_url: "",
    });
  });

  it("sends the numbers the kind uses, as numbers", () => {
    const body = ruleBody({ ...base, kind: "failure_rate", workflow: "4", rate_pct: "25", window_s: "600", queued_s: "9", cooldown_s: "0" });
    expect(body).toMatchObject({ workflow: 4, rate_pct: 25, window_s: 600, cooldown_s: 0 });
    expect(body).not.toHaveProperty("queued_s");
    expect(ruleBody({ ...base, kind: "step_queued_too_long", queued_s: "120" })).toMatchObject({ queued_s: 120 });
  });
});

describe("an alert rule in the table and the edit form", () => {
  const rule = {
    id: 1,
    name: "Rate",
    kind: "failure_rate",
    workflow: 4,
    rate_pct: 20,
    window_s: 3600,
    queued_s: 300,
    emails: ["a@example.com", "b@example.com"],
    webhook_url: "",
    cooldown_s: 600,
    enabled: true,
  };

  it("is summed up in words", () => {
    expect(ruleSummary(rule)).toBe("Failure rate over 20 % in 1.0 h");
    expect(ruleSummary({ ...rule, kind: "step_queued_too_long" })).toBe("A step queued over 5.0 min");
    expect(ruleSummary({ ...rule, kind: "task_overdue" })).toBe("A human task overdue");
  });

  it("comes back to the same body through the form", () => {
    expect(ruleForm(null).kind).toBe("run_failed");
    expect(ruleBody(ruleForm(rule))).toEqual({
      name: "Rate",
      kind: "failure_rate",
      workflow: 4,
      emails: ["a@example.com", "b@example.com"],
      webhook_url: "",
      cooldown_s: 600,
      rate_pct: 20,
      window_s: 3600,
    });
  });
});

describe("a compensation_failed rule (issue 20)", () => {
  it("is a kind to pick, summed up in words, sent without the numbers other kinds use", () => {
    const rule = { id: 2, name: "Undo", kind: "compensation_failed", workflow: null, emails: [], webhook_url: "" };
    expect(ruleSummary(rule as never)).toBe("A compensation failed");
    expect(ruleBody({ ...base, kind: "compensation_failed", window_s: "600", rate_pct: "5" })).toEqual({
      name: "Failures",
      kind: "compensation_failed",
      workflow: null,
      emails: ["a@example.com", "b@example.com", "c@example.com"],
      webhook_url: "",
    });
  });
});
