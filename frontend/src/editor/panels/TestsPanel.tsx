/**
 * The workflow's step tests (issue 18), in the workflow panel: the list of cases, "Run all
 * tests" against the draft on the canvas (each case a test run on the workers; the answer
 * comes when they have ended) with a pass/fail list, and the setting that makes a save
 * require them to pass. Cases are made from a step's test result ("Save as test…").
 */
import { ActionIcon, Anchor, Badge, Button, Code, Group, List, Paper, Stack, Switch, Text, Title, Tooltip } from "@mantine/core";
import { IconPlayerPlay, IconTrash } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";

import { statusLook } from "../../status";
import { notifyError } from "../../ui/notify";
import { keys } from "../../query";
import { useEditor } from "../store";
import {
  type StepTest,
  type StepTestResult,
  resultSummary,
  useDeleteStepTest,
  useRequireTests,
  useRunStepTests,
  useStepTestResults,
  useStepTests,
} from "../stepTests";
import { fetchWorkflow } from "../useDocument";

const PASSED = statusLook("succeeded").color;
const FAILED = statusLook("failed").color;

export function TestsPanel() {
  const workflowId = useEditor((s) => s.meta.id);
  return (
    <Stack gap="xs" component="section" aria-label="Step tests">
      <Title order={3} size="sm">
        Tests
      </Title>
      {workflowId === null ? (
        <Text size="sm" c="dimmed">
          Save the workflow once to give its steps tests.
        </Text>
      ) : (
        <StepTests workflowId={workflowId} />
      )}
    </Stack>
  );
}

function StepTests({ workflowId }: { workflowId: number }) {
  const tests = useStepTests(workflowId);
  const results = useStepTestResults(workflowId);
  const run = useRunStepTests(workflowId);
  const remove = useDeleteStepTest(workflowId);
  const require = useRequireTests(workflowId);
  const workflow = useQuery({ queryKey: keys.workflow(workflowId), queryFn: () => fetchWorkflow(workflowId) });
  const list = tests.data ?? [];
  const byName = new Map((results?.results ?? []).map((r) => [r.name, r]));
  const runAll = () => run.mutate(useEditor.getState().graph, { onError: (e) => notifyError(e, "The tests could not run") });

  return (
    <>
      <Switch
        size="sm"
        label="Saving a version requires the tests to pass"
        checked={workflow.data?.require_tests ?? false}
        disabled={!workflow.data || require.isPending}
        onChange={(e) => require.mutate(e.currentTarget.checked, { onError: (err) => notifyError(err, "Not changed") })}
      />
      {tests.isSuccess && list.length === 0 ? (
        <Text size="sm" c="dimmed">
          No tests yet: test a step, then choose “Save as test…” under its result.
        </Text>
      ) : (
        <Group gap="xs" justify="space-between">
          <Button
            size="sm"
            variant="light"
            leftSection={<IconPlayerPlay size={16} />}
            loading={run.isPending}
            disabled={list.length === 0}
            onClick={runAll}
          >
            Run all tests
          </Button>
          {results && !run.isPending && (
            <Text size="sm" fw={600} c={results.passed ? PASSED : FAILED} role="status">
              {resultSummary(results)}
            </Text>
          )}
        </Group>
      )}
      {list.length > 0 && (
        <Stack gap={6} component="ul" aria-label="Step tests of the workflow" p={0} m={0} style={{ listStyle: "none" }}>
          {list.map((test) => (
            <TestRow
              key={test.id}
              test={test}
              result={byName.get(test.name)}
              onDelete={() => remove.mutate(test.id, { onError: (e) => notifyError(e, "The test could not be deleted") })}
            />
          ))}
        </Stack>
      )}
    </>
  );
}

function TestRow({ test, result, onDelete }: { test: StepTest; result?: StepTestResult; onDelete: () => void }) {
  const verdict = result ? (result.passed ? "passed" : "failed") : "not run";
  return (
    <Paper component="li" withBorder p="xs" aria-label={`Test ${test.name}: ${verdict}`}>
      <Group gap="xs" wrap="nowrap" align="flex-start" justify="space-between">
        <Group gap="xs" wrap="nowrap" align="flex-start" style={{ minWidth: 0 }}>
          <Text
            component="span"
            fw={700}
            w={16}
            ta="center"
            c={result ? (result.passed ? PASSED : FAILED) : "dimmed"}
            aria-hidden
          >
            {result ? (result.passed ? "✓" : "✗") : "–"}
          </Text>
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text size="sm" fw={600} style={{ overflowWrap: "anywhere" }}>
              {test.name}
            </Text>
            <Group gap={6}>
              <Code>{test.node}</Code>
              {test.expect.map((e, i) => (
                <Badge key={i} size="xs" variant="light" color="gray">
                  {e.kind}
                </Badge>
              ))}
              {result?.duration_ms != null && (
                <Text size="xs" c="dimmed">
                  {result.duration_ms < 1000 ? `${result.duration_ms} ms` : `${(result.duration_ms / 1000).toFixed(1)} s`}
                </Text>
              )}
            </Group>
          </Stack>
        </Group>
        <Tooltip label={`Delete test ${test.name}`}>
          <ActionIcon variant="subtle" color="red" size={28} aria-label={`Delete test ${test.name}`} onClick={onDelete}>
            <IconTrash size={15} />
          </ActionIcon>
        </Tooltip>
      </Group>
      {result && result.failures.length > 0 && (
        <List size="xs" mt={6} spacing={2} c={FAILED} aria-label={`Why ${test.name} failed`}>
          {result.failures.map((f, i) => (
            <List.Item key={i} style={{ overflowWrap: "anywhere" }}>
              {f.message}
            </List.Item>
          ))}
        </List>
      )}
      {result?.run != null && (
        <Anchor component={Link} to={`/runs/${result.run}`} size="xs" mt={4} display="inline-block">
          Test run {result.run}
        </Anchor>
      )}
    </Paper>
  );
}
