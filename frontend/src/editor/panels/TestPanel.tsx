/**
 * The step panel's Test section (issue 18): run this step of the draft, or the draft up to
 * it, on the workers, and see its output, error and logs arrive over the run's socket; pin an
 * output (from the test, or typed) so that tests of the steps below use it without running
 * this one. The server decides what runs (engine/testruns.py); the list of upstream steps
 * says beforehand where each one's output will come from.
 */
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Checkbox,
  Group,
  JsonInput,
  List,
  Loader,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { modals } from "@mantine/modals";
import { IconPin, IconPinnedOff, IconPlayerPlay, IconPlayerTrackNext, IconTestPipe } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link } from "react-router";

import type { ApiErrorItem } from "../../api";
import { useLiveEvents } from "../../live";
import { applyRunEvents } from "../../runview/cache";
import { JsonBlock } from "../../runview/JsonBlock";
import { ENDED, type Run } from "../../runview/model";
import { useRun } from "../../runview/queries";
import { StepLogs } from "../../runview/StepLogs";
import { StatusBadge } from "../../ui/StatusBadge";
import { errorText, notifyError, notifySuccess } from "../../ui/notify";
import { useNewestRunSample } from "../newestRun";
import { useEditor } from "../store";
import {
  type Pins,
  type Source,
  type TestMode,
  effectsToConfirm,
  parseJson,
  startTestRun,
  upstreamSources,
  usePinMutation,
  usePins,
  upstreamOf,
} from "../testing";
import { type ExpectationKind, dataFromRun, expectationOf, startingText, useCreateStepTest } from "../stepTests";

const SOURCE_TEXT: Record<Source["source"], string> = {
  typed: "typed below",
  debug: "as in the run being debugged",
  pin: "pinned output",
  run: "output of the newest run",
  runs: "runs in the test",
  unneeded: "not needed",
};
const SOURCE_COLOR: Record<Source["source"], string> = {
  typed: "grape",
  debug: "red",
  pin: "violet",
  run: "blue",
  runs: "orange",
  unneeded: "gray",
};

export function TestPanel({ nodeId }: { nodeId: string }) {
  const workflowId = useEditor((s) => s.meta.id);
  if (workflowId === null) {
    return (
      <Stack component="section" aria-label="Test this step" gap="xs">
        <Text size="sm" c="dimmed">
          Save the workflow once to run its steps with real data.
        </Text>
      </Stack>
    );
  }
  return <TestSection key={nodeId} workflowId={workflowId} nodeId={nodeId} />;
}

function TestSection({ workflowId, nodeId }: { workflowId: number; nodeId: string }) {
  const client = useQueryClient();
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const testRun = useEditor((s) => s.testRuns[nodeId]);
  const setTestRun = useEditor((s) => s.setTestRun);
  const debug = useEditor((s) => s.debugRun);
  const pins = usePins(workflowId);
  const sample = useNewestRunSample(workflowId);
  const [capture, setCapture] = useState(true);
  const [typing, setTyping] = useState(false);
  const [typed, setTyped] = useState("");
  const [starting, setStarting] = useState<TestMode | null>(null);

  const triggers = useMemo(
    () => new Set(graph.nodes.filter((n) => catalog[n.type]?.is_trigger).map((n) => n.id)),
    [graph.nodes, catalog],
  );
  const typedValue = typing ? parseJson(typed) : null;
  const typedData =
    typedValue && typedValue.error === null && isObject(typedValue.value) ? (typedValue.value as Record<string, unknown>) : undefined;
  const sources = useMemo(
    () => upstreamSources(graph, nodeId, "step", pins, sample, typedData, triggers, debug),
    [graph, nodeId, pins, sample, typedData, triggers, debug],
  );

  // Only a test that may run a notify.email (this step, or one above that runs) offers to
  // capture it; Run up to here may run more than Run step, so every step above counts.
  const sendsEmail = [nodeId, ...sources.filter((s) => s.source !== "unneeded").map((s) => s.node)].some(
    (id) => graph.nodes.find((n) => n.id === id)?.type === "notify.email",
  );
  const start = async (mode: TestMode, confirmEffects = false) => {
    setStarting(mode);
    try {
      const run = await startTestRun(client, workflowId, {
        graph,
        node: nodeId,
        mode,
        data: typedData,
        run: debug?.id,
        confirm_effects: confirmEffects,
        capture_email: capture,
      });
      setTestRun(nodeId, run.id);
    } catch (error) {
      const effects = effectsToConfirm(error);
      if (effects) confirmEffects_(effects, () => void start(mode, true));
      else notifyError(error, "The test could not start");
    } finally {
      setStarting(null);
    }
  };

  const openTyping = () => {
    const parents = graph.edges.filter((e) => e.target === nodeId && !triggers.has(e.source)).map((e) => e.source);
    const initial = Object.fromEntries(
      parents.map((p) => [p, debug && p in debug.outputs ? debug.outputs[p] : (pins[p]?.output ?? sample?.outputs[p] ?? {})]),
    );
    setTyped(JSON.stringify(initial, null, 2));
    setTyping(true);
  };

  return (
    <Stack component="section" aria-label="Test this step" gap="sm">
      <Group gap="xs">
        <Button
          size="sm"
          leftSection={<IconPlayerPlay size={16} />}
          loading={starting === "step"}
          disabled={starting !== null || (typing && typedData === undefined)}
          onClick={() => void start("step")}
        >
          Run step
        </Button>
        <Tooltip label="Run the draft from its trigger to this step (pinned steps are not run)">
          <Button
            size="sm"
            variant="default"
            leftSection={<IconPlayerTrackNext size={16} />}
            loading={starting === "upto"}
            disabled={starting !== null || (typing && typedData === undefined)}
            onClick={() => void start("upto")}
          >
            Run up to here
          </Button>
        </Tooltip>
      </Group>
      {sendsEmail && (
        <Checkbox
          size="sm"
          label="Capture emails in the output instead of sending them"
          checked={capture}
          onChange={(e) => setCapture(e.currentTarget.checked)}
        />
      )}
      {sources.length > 0 && (
        <Stack gap={4}>
          <Text size="xs" fw={600} c="dimmed" tt="uppercase">
            Input from the steps above
          </Text>
          <List size="sm" spacing={4} aria-label="Where the steps above take their output">
            {sources.map((s) => (
              <List.Item key={s.node}>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" ff="monospace">
                    {s.node}
                  </Text>
                  <Badge size="sm" variant="light" color={SOURCE_COLOR[s.source]}>
                    {SOURCE_TEXT[s.source]}
                  </Badge>
                </Group>
              </List.Item>
            ))}
          </List>
          {!typing ? (
            <Anchor component="button" type="button" size="sm" onClick={openTyping}>
              Type the outputs of the steps above…
            </Anchor>
          ) : (
            <Stack gap={4}>
              <JsonInput
                label="Outputs of the steps above, by step id"
                description="Used by Run step and Run up to here before pins and runs"
                value={typed}
                onChange={setTyped}
                autosize
                minRows={4}
                maxRows={14}
                error={typedValue?.error ?? (typedData === undefined ? "an object: step id → output" : undefined)}
              />
              <Anchor component="button" type="button" size="sm" onClick={() => setTyping(false)}>
                Use pins and runs instead
              </Anchor>
            </Stack>
          )}
        </Stack>
      )}
      {testRun !== undefined && <TestResult runId={testRun} nodeId={nodeId} workflowId={workflowId} />}
      <PinEditor workflowId={workflowId} nodeId={nodeId} pins={pins} />
    </Stack>
  );
}

function confirmEffects_(effects: ApiErrorItem[], run: () => void) {
  modals.openConfirmModal({
    title: "Run for real?",
    children: (
      <Stack gap="xs">
        <Text size="sm">This test runs steps that may change things outside Flowdeck:</Text>
        <List size="sm">
          {effects.map((e) => (
            <List.Item key={e.node}>{e.message}</List.Item>
          ))}
        </List>
      </Stack>
    ),
    labels: { confirm: "Run for real", cancel: "Cancel" },
    confirmProps: { color: "red" },
    onConfirm: run,
  });
}

function TestResult({ runId, nodeId, workflowId }: { runId: number; nodeId: string; workflowId: number }) {
  const client = useQueryClient();
  const runQuery = useRun(runId);
  const run = runQuery.data;
  // An event says a step ended; its output comes with the read that event starts.
  const reading = runQuery.isFetching;
  const onEvents = useCallback((events: Parameters<typeof applyRunEvents>[2]) => applyRunEvents(client, runId, events), [client, runId]);
  const ended = run ? ENDED.has(run.status) : false;
  // Until the run ends: its socket brings each step's progress.
  useLiveEvents(ended ? null : `/ws/runs/${runId}/`, run ? (run.last_event_id ?? null) : undefined, onEvents);
  const pin = usePinMutation(workflowId);
  const [saving, setSaving] = useState(false);
  const step = run?.steps?.find((s) => s.node === nodeId);
  if (!run || !step) {
    return (
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm">Starting the test…</Text>
      </Group>
    );
  }
  const done = ENDED.has(step.status) || step.status === "skipped";
  const duration =
    step.started_at && step.finished_at ? new Date(step.finished_at).getTime() - new Date(step.started_at).getTime() : null;
  return (
    <Stack gap="xs" aria-label="Test result" component="section">
      <Group gap="xs" justify="space-between">
        <Group gap="xs">
          <StatusBadge status={step.status} />
          {duration !== null && (
            <Text size="sm" c="dimmed">
              {duration < 1000 ? `${duration} ms` : `${(duration / 1000).toFixed(1)} s`}
              {step.attempt > 1 ? ` · ${step.attempt} attempts` : ""}
            </Text>
          )}
          {!done && <Loader size="xs" aria-label="Running" />}
        </Group>
        <Anchor component={Link} to={`/runs/${runId}`} size="sm">
          Test run {runId}
        </Anchor>
      </Group>
      {step.status === "skipped" && <SkippedWhy run={run} nodeId={nodeId} />}
      {step.error && (
        <Alert color="red" variant="light" title={step.error.code ?? "Failed"} p="xs">
          {step.error.message}
        </Alert>
      )}
      {step.status === "succeeded" && reading && (
        <Group gap="xs">
          <Loader size="xs" />
          <Text size="sm" c="dimmed">
            Reading the output…
          </Text>
        </Group>
      )}
      {step.status === "succeeded" && !reading && (
        <>
          <JsonBlock value={step.output} label="Test output" empty="null" maxHeight={260} />
          <Group gap="xs">
            <Button
              size="xs"
              variant="light"
              leftSection={<IconPin size={14} />}
              loading={pin.isPending}
              onClick={() =>
                pin.mutate(
                  // With the branch it chose: the steps on that branch run in tests, not the others.
                  { node: nodeId, output: step.output ?? null, handle: step.handle ?? "" },
                  {
                    onSuccess: () => notifySuccess(`Tests of the steps below now use this output of ${nodeId}.`, "Output pinned"),
                    onError: (e) => notifyError(e, "The output could not be pinned"),
                  },
                )
              }
            >
              Pin this output
            </Button>
            {!saving && (
              <Button size="xs" variant="default" leftSection={<IconTestPipe size={14} />} onClick={() => setSaving(true)}>
                Save as test…
              </Button>
            )}
          </Group>
          {saving && <SaveAsTest workflowId={workflowId} nodeId={nodeId} run={run} onDone={() => setSaving(false)} />}
        </>
      )}
      {done && step.attempt > 0 && <StepLogs runId={runId} node={nodeId} status={step.status} />}
    </Stack>
  );
}

/** Why the tested step did not run: a step above it failed (with its error), or chose
 * another branch. */
function SkippedWhy({ run, nodeId }: { run: Run; nodeId: string }) {
  const failed = (run.steps ?? []).filter((s) => s.node !== nodeId && s.status === "failed");
  if (failed.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        Skipped: a step above it chose another branch.
      </Text>
    );
  }
  return (
    <Alert color="orange" variant="light" p="xs" title="Not run: a step above it failed">
      {failed.map((s) => (
        <Text key={s.node} size="sm">
          <Text span ff="monospace" fw={600}>
            {s.node}
          </Text>
          : {s.error?.message ?? "failed"}
        </Text>
      ))}
      <Text size="sm" mt={4}>
        Pin its output or type one to test this step without it.
      </Text>
    </Alert>
  );
}

const KIND_LABELS: { value: ExpectationKind; label: string }[] = [
  { value: "equals", label: "Equals" },
  { value: "schema", label: "Schema" },
  { value: "expression", label: "Expression" },
];
const KIND_HELP: Record<ExpectationKind, string> = {
  equals: "The output must be exactly this JSON value (prefilled with this output).",
  schema: "The output must be valid against this JSON Schema.",
  expression: "Must be true; output, input and steps are in scope.",
};

/** Save this test as a step test of the workflow: the upstream outputs and the input this
 * test run used, and one expectation about the output. */
function SaveAsTest({ workflowId, nodeId, run, onDone }: { workflowId: number; nodeId: string; run: Run; onDone: () => void }) {
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const output = run.steps?.find((s) => s.node === nodeId)?.output;
  const create = useCreateStepTest(workflowId);
  const [name, setName] = useState(`${nodeId} works`);
  const [kind, setKind] = useState<ExpectationKind>("equals");
  const [text, setText] = useState(() => startingText("equals", output));
  const parsed = expectationOf(kind, text);
  const serverError = create.error ? errorText(create.error).message : undefined;
  const save = () => {
    if (!parsed.expectation || !name.trim()) return;
    const triggers = new Set(graph.nodes.filter((n) => catalog[n.type]?.is_trigger).map((n) => n.id));
    const data = dataFromRun(run.steps ?? [], upstreamOf(graph, nodeId), triggers);
    create.mutate(
      { name: name.trim(), node: nodeId, data, input: run.input ?? null, expect: [parsed.expectation] },
      {
        onSuccess: () => {
          notifySuccess(`Run it with the others from the workflow panel's Tests.`, `Test “${name.trim()}” saved`);
          onDone();
        },
      },
    );
  };
  return (
    <Stack gap={6} component="form" aria-label="Save as test" onSubmit={(e) => (e.preventDefault(), save())}>
      <TextInput label="Test name" size="xs" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
      <SegmentedControl
        size="xs"
        fullWidth
        aria-label="Expectation"
        data={KIND_LABELS}
        value={kind}
        onChange={(v) => {
          setKind(v as ExpectationKind);
          setText(startingText(v as ExpectationKind, output));
        }}
      />
      {kind === "expression" ? (
        <TextInput
          label="Expression"
          description={KIND_HELP[kind]}
          size="xs"
          ff="monospace"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          error={parsed.error ?? serverError}
        />
      ) : (
        <JsonInput
          label={kind === "equals" ? "Expected output" : "JSON Schema of the output"}
          description={KIND_HELP[kind]}
          size="xs"
          value={text}
          onChange={setText}
          autosize
          minRows={3}
          maxRows={12}
          error={parsed.error ?? serverError}
        />
      )}
      <Group gap="xs" justify="flex-end">
        <Button size="xs" variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button size="xs" type="submit" disabled={!parsed.expectation || !name.trim()} loading={create.isPending}>
          Save test
        </Button>
      </Group>
    </Stack>
  );
}

function PinEditor({ workflowId, nodeId, pins }: { workflowId: number; nodeId: string; pins: Pins }) {
  const pin = pins[nodeId];
  const mutation = usePinMutation(workflowId);
  const [text, setText] = useState<string | null>(null);
  const parsed = text === null ? null : parseJson(text);
  const save = () => {
    if (!parsed || parsed.error !== null) return;
    mutation.mutate(
      { node: nodeId, output: parsed.value, handle: pin?.handle ?? "" },
      { onSuccess: () => setText(null), onError: (e) => notifyError(e, "The output could not be pinned") },
    );
  };
  return (
    <Stack gap="xs" component="section" aria-label="Pinned output">
      <Group justify="space-between" gap="xs">
        <Group gap={6}>
          <Text size="xs" fw={600} c="dimmed" tt="uppercase">
            Pinned output
          </Text>
          {pin && (
            <Badge size="sm" color="violet" variant="light" leftSection={<IconPin size={12} />}>
              pinned by {pin.pinned_by}
              {pin.handle ? ` · branch ${pin.handle}` : ""}
            </Badge>
          )}
        </Group>
        <Group gap={4}>
          {text === null && (
            <Button size="compact-sm" variant="subtle" onClick={() => setText(JSON.stringify(pin?.output ?? {}, null, 2))}>
              {pin ? "Edit" : "Pin data…"}
            </Button>
          )}
          {pin && text === null && (
            <Button
              size="compact-sm"
              variant="subtle"
              color="red"
              leftSection={<IconPinnedOff size={14} />}
              loading={mutation.isPending}
              onClick={() => mutation.mutate({ node: nodeId }, { onError: (e) => notifyError(e, "The pin could not be removed") })}
            >
              Unpin
            </Button>
          )}
        </Group>
      </Group>
      {text !== null ? (
        <Stack gap={6}>
          <JsonInput
            label={`Output of ${nodeId} in tests`}
            value={text}
            onChange={setText}
            autosize
            minRows={4}
            maxRows={16}
            error={parsed?.error ?? (mutation.error ? errorText(mutation.error).message : undefined)}
          />
          <Group gap="xs" justify="flex-end">
            <Button size="xs" variant="default" onClick={() => setText(null)}>
              Cancel
            </Button>
            <Button size="xs" onClick={save} disabled={!parsed || parsed.error !== null} loading={mutation.isPending}>
              Pin
            </Button>
          </Group>
        </Stack>
      ) : pin ? (
        <JsonBlock value={pin.output} label={`Pinned output of ${nodeId}`} title=" " empty="null" maxHeight={200} />
      ) : (
        <Text size="sm" c="dimmed">
          Not pinned: tests of the steps below run this one, or take its output from the newest run.
        </Text>
      )}
    </Stack>
  );
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
