/**
 * The alert rules the user may edit (GET/POST /api/alerts/rules/, PATCH/DELETE .../{id}/): a
 * table with an on/off switch per rule, and a modal to create or edit one. The server checks
 * each rule (400 naming the field, shown under that field), so the form only shows the fields
 * its kind uses.
 */
import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  Paper,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconBellPlus, IconPencil, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable } from "mantine-datatable";
import { type FormEvent, useMemo, useState } from "react";

import { ApiError, api } from "../api";
import { keys } from "../query";
import { notifyError, notifySuccess } from "../ui/notify";
import classes from "./dashboard/Dashboard.module.css";
import { type SortStatus, seconds, sortRecords } from "./dashboard/kpi";

export type Rule = {
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
  // A failed run's compensation failed after its last attempt: an operator must retry or skip it (issue 20).
  { value: "compensation_failed", label: "A compensation failed" },
  { value: "failure_rate", label: "Failure rate over a threshold" },
  { value: "step_queued_too_long", label: "A step queued too long" },
  { value: "task_overdue", label: "A human task overdue" },
  { value: "breaker_open", label: "A circuit breaker opened (global)" },
] as const;

export type RuleForm = {
  name: string;
  kind: string;
  workflow: string;
  rate_pct: string;
  window_s: string;
  queued_s: string;
  emails: string;
  webhook_url: string;
  cooldown_s: string;
};

/** The request body for the form's fields: numbers as numbers, emails as a list, nothing
 * the kind does not use. */
export function ruleBody(form: RuleForm): Record<string, unknown> {
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

/** A rule's fields as the form edits them. */
export function ruleForm(rule: Rule | null): RuleForm {
  if (!rule) {
    return { name: "", kind: "run_failed", workflow: "", rate_pct: "", window_s: "", queued_s: "", emails: "", webhook_url: "", cooldown_s: "" };
  }
  const text = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
  return {
    name: rule.name,
    kind: rule.kind,
    workflow: rule.workflow === null ? "" : String(rule.workflow),
    rate_pct: text(rule.rate_pct),
    window_s: text(rule.window_s),
    queued_s: text(rule.queued_s),
    emails: rule.emails.join(", "),
    webhook_url: rule.webhook_url,
    cooldown_s: text(rule.cooldown_s),
  };
}

/** What a rule watches, in a few words: "Failure rate over 20 % in 1.0 h". */
export function ruleSummary(rule: Rule): string {
  switch (rule.kind) {
    case "failure_rate":
      return `Failure rate over ${rule.rate_pct ?? "?"} % in ${seconds(rule.window_s)}`;
    case "step_queued_too_long":
      return `A step queued over ${seconds(rule.queued_s)}`;
    case "run_failed":
      return "A run failed";
    default:
      return KINDS.find((k) => k.value === rule.kind)?.label ?? rule.kind;
  }
}

type FieldErrors = Partial<Record<keyof RuleForm | "form", string>>;

function fieldErrors(error: unknown): FieldErrors | null {
  if (!(error instanceof ApiError) || error.status !== 400 || !error.errors.length) return null;
  const out: FieldErrors = {};
  for (const e of error.errors) {
    const field = (e.field ?? "form") as keyof FieldErrors;
    out[field in ruleForm(null) ? field : "form"] = `${e.field ? `${e.field}: ` : ""}${e.message}`;
  }
  return out;
}

function RuleModal({
  rule,
  opened,
  onClose,
  workflows,
}: {
  rule: Rule | null;
  opened: boolean;
  onClose: () => void;
  workflows: { id: number; name: string }[];
}) {
  const client = useQueryClient();
  const [form, setForm] = useState<RuleForm>(() => ruleForm(rule));
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      rule
        ? api<Rule>(`/api/alerts/rules/${rule.id}/`, { method: "PATCH", body })
        : api<Rule>("/api/alerts/rules/", { method: "POST", body }),
    onSuccess: (saved) => {
      notifySuccess(saved.name, rule ? "Rule saved" : "Rule added");
      void client.invalidateQueries({ queryKey: keys.alertRules() });
      onClose();
    },
    onError: (error) => {
      const fields = fieldErrors(error);
      if (fields) setErrors(fields);
      else notifyError(error, "Save the rule");
    },
  });
  const set = (key: keyof RuleForm) => (value: string | number | null) => {
    setForm((f) => ({ ...f, [key]: value === null ? "" : String(value) }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    save.mutate(ruleBody(form));
  };
  const usesWindow = form.kind === "failure_rate" || form.kind === "run_failed";
  return (
    <Modal opened={opened} onClose={onClose} title={rule ? `Edit rule ${rule.name}` : "New alert rule"}
      size="lg"
      closeButtonProps={{ "aria-label": "Close" }}
    >
      <form onSubmit={submit} aria-label={rule ? "Edit alert rule" : "New alert rule"}>
        <Stack gap="sm">
          <TextInput label="Rule name" required value={form.name} onChange={(e) => set("name")(e.currentTarget.value)} error={errors.name} data-autofocus />
          <Group grow align="flex-start" wrap="wrap">
            <Select
              label="When"
              data={KINDS.map((k) => ({ value: k.value, label: k.label }))}
              value={form.kind}
              onChange={(v) => set("kind")(v ?? "run_failed")}
              allowDeselect={false}
              error={errors.kind}
            />
            <Select
              label="On workflow"
              data={[{ value: "", label: "All workflows (staff)" }, ...workflows.map((w) => ({ value: String(w.id), label: w.name }))]}
              value={form.workflow}
              onChange={(v) => set("workflow")(v ?? "")}
              searchable
              allowDeselect={false}
              error={errors.workflow}
            />
          </Group>
          <Group grow align="flex-start" wrap="wrap">
            {form.kind === "failure_rate" && (
              <NumberInput label="Failure rate over (%)" min={0} max={100} value={form.rate_pct} onChange={set("rate_pct")} error={errors.rate_pct} />
            )}
            {usesWindow && (
              <NumberInput label="Window (s)" min={1} placeholder="3600" value={form.window_s} onChange={set("window_s")} error={errors.window_s} />
            )}
            {form.kind === "step_queued_too_long" && (
              <NumberInput label="Queued longer than (s)" min={1} placeholder="300" value={form.queued_s} onChange={set("queued_s")} error={errors.queued_s} />
            )}
          </Group>
          <TextInput
            label="Emails"
            description="Separated by commas"
            placeholder="ops@example.com, …"
            value={form.emails}
            onChange={(e) => set("emails")(e.currentTarget.value)}
            error={errors.emails}
          />
          <Group grow align="flex-start" wrap="wrap">
            <TextInput label="Webhook URL" placeholder="https://…" value={form.webhook_url} onChange={(e) => set("webhook_url")(e.currentTarget.value)} error={errors.webhook_url} />
            <NumberInput label="Cool-down (s)" min={0} placeholder="3600" value={form.cooldown_s} onChange={set("cooldown_s")} error={errors.cooldown_s} />
          </Group>
          {errors.form && (
            <Text c="red" size="sm" role="alert">
              {errors.form}
            </Text>
          )}
          <Group justify="flex-end" gap="xs" mt="xs">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {rule ? "Save rule" : "Add rule"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function AlertRules({ workflows }: { workflows: { id: number; name: string }[] }) {
  const client = useQueryClient();
  const rules = useQuery({
    queryKey: keys.alertRules(),
    queryFn: () => api<{ results: Rule[] }>("/api/alerts/rules/?page_size=100"),
  });
  const [editing, setEditing] = useState<{ rule: Rule | null; key: number } | null>(null);
  const [sortStatus, setSortStatus] = useState<SortStatus<Rule>>({ columnAccessor: "name", direction: "asc" });
  const rows = useMemo(() => sortRecords(rules.data?.results ?? [], sortStatus), [rules.data, sortStatus]);
  const names = useMemo(() => new Map(workflows.map((w) => [w.id, w.name])), [workflows]);

  const toggle = useMutation({
    mutationFn: (rule: Rule) => api<Rule>(`/api/alerts/rules/${rule.id}/`, { method: "PATCH", body: { enabled: !rule.enabled } }),
    onMutate: (rule) => {
      // The switch moves at once; the answer (or an error) settles it.
      client.setQueryData<{ results: Rule[] }>(keys.alertRules(), (page) =>
        page && { ...page, results: page.results.map((r) => (r.id === rule.id ? { ...r, enabled: !r.enabled } : r)) },
      );
    },
    onSuccess: (saved) => notifySuccess(saved.name, saved.enabled ? "Rule on" : "Rule off"),
    onError: (error) => notifyError(error, "Switch the rule"),
    onSettled: () => client.invalidateQueries({ queryKey: keys.alertRules() }),
  });
  const remove = useMutation({
    mutationFn: (rule: Rule) => api(`/api/alerts/rules/${rule.id}/`, { method: "DELETE" }),
    onSuccess: (_, rule) => notifySuccess(rule.name, "Rule deleted"),
    onError: (error) => notifyError(error, "Delete the rule"),
    onSettled: () => client.invalidateQueries({ queryKey: keys.alertRules() }),
  });
  const confirmDelete = (rule: Rule) =>
    modals.openConfirmModal({
      title: `Delete rule ${rule.name}?`,
      children: <Text size="sm">Its open alerts stay in the history; no new alert is raised by it.</Text>,
      labels: { confirm: "Delete rule", cancel: "Cancel" },
      confirmProps: { color: "red.9" },
      closeButtonProps: { "aria-label": "Close" },
      onConfirm: () => remove.mutate(rule),
    });

  return (
    <Paper withBorder p="md" component="section" aria-label="Alert rules" className={classes.tableCard}>
      <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
        <div>
          <Title order={2} size="h4">
            Alert rules
          </Title>
          <Text size="xs" c="dimmed">
            Email or call a webhook when runs fail, fail too often, wait in the queue, or tasks run late.
          </Text>
        </div>
        <Button leftSection={<IconBellPlus size={18} />} onClick={() => setEditing({ rule: null, key: Date.now() })}>
          New rule
        </Button>
      </Group>
      <DataTable<Rule>
        withTableBorder={false}
        verticalSpacing={6}
        horizontalSpacing="xs"
        highlightOnHover
        minHeight={rows.length ? undefined : 130}
        fz="sm"
        aria-label="Rules"
        records={rows}
        fetching={rules.isPending}
        sortStatus={sortStatus}
        onSortStatusChange={setSortStatus}
        customRowAttributes={(r) => ({ "data-id": r.id })}
        noRecordsText=""
        emptyState={
          <Stack align="center" gap={6}>
            <Text size="sm" c="dimmed">
              No rules yet: nobody is told when something goes wrong.
            </Text>
            <Button size="sm" variant="light" onClick={() => setEditing({ rule: null, key: Date.now() })} style={{ pointerEvents: "all" }}>
              Add a rule for failed runs
            </Button>
          </Stack>
        }
        columns={[
          {
            accessor: "name",
            title: "Rule",
            sortable: true,
            render: (r) => (
              <div>
                <Text size="sm" fw={500}>
                  {r.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {ruleSummary(r)}
                </Text>
              </div>
            ),
          },
          {
            accessor: "workflow",
            title: "Workflow",
            sortable: true,
            render: (r) =>
              r.workflow === null ? (
                <Badge variant="light" color="gray" tt="none">
                  all workflows
                </Badge>
              ) : (
                (names.get(r.workflow) ?? `#${r.workflow}`)
              ),
          },
          {
            accessor: "emails",
            title: "Tells",
            render: (r) => (
              <Text size="xs" lineClamp={2}>
                {[...r.emails, r.webhook_url].filter(Boolean).join(", ") || "—"}
              </Text>
            ),
          },
          {
            accessor: "enabled",
            title: "On",
            sortable: true,
            width: 70,
            render: (r) => (
              <Switch
                checked={r.enabled}
                onChange={() => toggle.mutate(r)}
                aria-label={`Rule ${r.name} on`}
                size="lg"
              />
            ),
          },
          {
            accessor: "actions",
            title: <span className="fd-visually-hidden">Actions</span>,
            textAlign: "right",
            width: 110,
            render: (r) => (
              <Group gap={4} justify="flex-end" wrap="nowrap">
                <Tooltip label="Edit">
                  <ActionIcon variant="subtle" color="gray" size={40} aria-label={`Edit rule ${r.name}`} onClick={() => setEditing({ rule: r, key: r.id })}>
                    <IconPencil size={18} />
                  </ActionIcon>
                </Tooltip>
                <Tooltip label="Delete">
                  <ActionIcon variant="subtle" color="red" size={40} aria-label={`Delete rule ${r.name}`} onClick={() => confirmDelete(r)}>
                    <IconTrash size={18} />
                  </ActionIcon>
                </Tooltip>
              </Group>
            ),
          },
        ]}
      />
      {editing && (
        <RuleModal key={editing.key} rule={editing.rule} opened onClose={() => setEditing(null)} workflows={workflows} />
      )}
    </Paper>
  );
}
