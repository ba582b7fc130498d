/**
 * The alert rules the user may edit (GET/POST /api/alerts/rules/, DELETE .../{id}/): a list and
 * a form for a new one. The server checks each rule (400 with the field), so the form only
 * shows the fields its kind uses.
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";

import { ApiError, api } from "../api";

type Rule = {
  id: number;
  name: string;
  kind: string;
  workflow: number | null;
  rate_pct: number | null;
  window_s: number;
  queued_s: number;
  emails: string[];
  webhook_url: string;
  cooldown_s: number;
  enabled: boolean;
};

export const KINDS = [
  { value: "run_failed", label: "A run failed" },
  { value: "failure_rate", label: "Failure rate over a threshold" },
  { value: "step_queued_too_long", label: "A step queued too long" },
  { value: "task_overdue", label: "A human task overdue" },
] as const;

/** The request body for the form's fields: numbers as numbers, emails as a list, nothing
 * the kind does not use. */
export function ruleBody(form: {
  name: string;
  kind: string;
  workflow: string;
  rate_pct: string;
  window_s: string;
  queued_s: string;
  emails: string;
  webhook_url: string;
  cooldown_s: string;
}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: form.name.trim(),
    kind: form.kind,
    workflow: form.workflow ? Number(form.workflow) : null,
    emails: form.emails
      .split(/[\s,;]+/)
      .map((e) => e.trim())
      .filter(Boolean),
    webhook_url: form.webhook_url.trim(),
  };
  if (form.cooldown_s) body.cooldown_s = Number(form.cooldown_s);
  if (form.kind === "failure_rate" && form.rate_pct !== "") body.rate_pct = Number(form.rate_pct);
  if ((form.kind === "failure_rate" || form.kind === "run_failed") && form.window_s) body.window_s = Number(form.window_s);
  if (form.kind === "step_queued_too_long" && form.queued_s) body.queued_s = Number(form.queued_s);
  return body;
}

const EMPTY = {
  name: "",
  kind: "run_failed",
  workflow: "",
  rate_pct: "",
  window_s: "",
  queued_s: "",
  emails: "",
  webhook_url: "",
  cooldown_s: "",
};

export function AlertRules({ workflows }: { workflows: { id: number; name: string }[] }) {
  const [rules, setRules] = useState<Rule[]>([]);
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<string[]>([]);

  const read = useCallback(async () => {
    try {
      setRules((await api<{ results: Rule[] }>("/api/alerts/rules/?page_size=100")).results);
    } catch (e) {
      setErrors([(e as Error).message]);
    }
  }, []);
  useEffect(() => {
    void read();
  }, [read]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api("/api/alerts/rules/", { method: "POST", body: ruleBody(form) });
      setForm(EMPTY);
      setErrors([]);
      await read();
    } catch (e) {
      setErrors(
        e instanceof ApiError && e.errors.length
          ? e.errors.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message))
          : [(e as Error).message],
      );
    }
  };

  const remove = async (rule: Rule) => {
    try {
      await api(`/api/alerts/rules/${rule.id}/`, { method: "DELETE" });
      await read();
    } catch (e) {
      setErrors([(e as Error).message]);
    }
  };

  const field = (key: keyof typeof EMPTY) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
  });
  const name = (id: number | null) => (id === null ? "all workflows" : (workflows.find((w) => w.id === id)?.name ?? `#${id}`));

  return (
    <section className="alert-rules" aria-label="Alert rules">
      <h2>Alert rules</h2>
      <ul>
        {rules.length === 0 && <li>No rules yet.</li>}
        {rules.map((rule) => (
          <li key={rule.id}>
            <strong>{rule.name}</strong>: {KINDS.find((k) => k.value === rule.kind)?.label ?? rule.kind} on{" "}
            {name(rule.workflow)}, to {[...rule.emails, rule.webhook_url].filter(Boolean).join(", ")}
            <button type="button" onClick={() => void remove(rule)}>
              Delete rule {rule.name}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void create(e)} aria-label="New alert rule">
        <label>
          Rule name
          <input {...field("name")} required />
        </label>
        <label>
          When
          <select {...field("kind")}>
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          On workflow
          <select {...field("workflow")}>
            <option value="">All workflows (staff)</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        {form.kind === "failure_rate" && (
          <label>
            Failure rate over (%)
            <input type="number" min={0} max={100} {...field("rate_pct")} />
          </label>
        )}
        {(form.kind === "failure_rate" || form.kind === "run_failed") && (
          <label>
            Window (s)
            <input type="number" min={1} placeholder="3600" {...field("window_s")} />
          </label>
        )}
        {form.kind === "step_queued_too_long" && (
          <label>
            Queued longer than (s)
            <input type="number" min={1} placeholder="300" {...field("queued_s")} />
          </label>
        )}
        <label>
          Emails
          <input placeholder="ops@example.com, …" {...field("emails")} />
        </label>
        <label>
          Webhook URL
          <input type="url" placeholder="https://…" {...field("webhook_url")} />
        </label>
        <label>
          Cool-down (s)
          <input type="number" min={0} placeholder="3600" {...field("cooldown_s")} />
        </label>
        <button type="submit">Add rule</button>
        {errors.map((error) => (
          <p key={error} role="alert">
            {error}
          </p>
        ))}
      </form>
    </section>
  );
}
