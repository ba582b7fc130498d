/**
 * Step tests (issue 18): named cases of a step with expectations about its output, kept with
 * the workflow and run together against the draft (engine/steptests.py decides). The last
 * results live in the query cache under `stepTestResultsKey`: "Run all tests" writes them, and
 * so does a save refused because a required test fails.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { ApiError, api } from "../api";
import { keys } from "../query";
import type { GraphDoc } from "./graph";

export type Expectation =
  | { kind: "equals"; value: unknown }
  | { kind: "schema"; schema: Record<string, unknown> }
  | { kind: "expression"; expression: string };

export type StepTest = {
  id: number;
  name: string;
  node: string;
  data: Record<string, unknown>;
  input: unknown;
  expect: Expectation[];
  confirm_effects: boolean;
  created_by: string | null;
  created_at: string;
  updated_at: string;
};

export type NewStepTest = Pick<StepTest, "name" | "node" | "data" | "expect"> & { input?: unknown };

export type StepTestFailure = { kind: string; message: string };
export type StepTestResult = {
  name: string;
  node: string;
  passed: boolean;
  failures: StepTestFailure[];
  run: number | null;
  duration_ms: number | null;
};
export type StepTestRun = { passed: boolean; results: StepTestResult[] };

export const stepTestsKey = (workflowId: number) => ["workflow", workflowId, "tests"] as const;
export const stepTestResultsKey = (workflowId: number) => ["workflow", workflowId, "tests", "results"] as const;

export function useStepTests(workflowId: number | null) {
  return useQuery({
    queryKey: stepTestsKey(workflowId ?? 0),
    queryFn: () => api<StepTest[]>(`/api/workflows/${workflowId}/tests/`),
    enabled: workflowId !== null,
  });
}

/** The results of the last run of the tests in this page (none before). */
export function useStepTestResults(workflowId: number): StepTestRun | undefined {
  return useQuery<StepTestRun | undefined>({
    queryKey: stepTestResultsKey(workflowId),
    queryFn: () => undefined,
    enabled: false,
    staleTime: Infinity,
  }).data;
}

/** Run the workflow's tests against the draft and keep the results. */
export function useRunStepTests(workflowId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (graph: GraphDoc) =>
      api<StepTestRun>(`/api/workflows/${workflowId}/tests/run/`, { method: "POST", body: { graph } }),
    onSuccess: (body) => client.setQueryData(stepTestResultsKey(workflowId), body),
  });
}

export function useCreateStepTest(workflowId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (test: NewStepTest) => api<StepTest>(`/api/workflows/${workflowId}/tests/`, { method: "POST", body: test }),
    onSettled: () => client.invalidateQueries({ queryKey: stepTestsKey(workflowId), exact: true }),
  });
}

export function useDeleteStepTest(workflowId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api<null>(`/api/workflows/${workflowId}/tests/${id}/`, { method: "DELETE" }),
    onSettled: () => client.invalidateQueries({ queryKey: stepTestsKey(workflowId), exact: true }),
  });
}

/** Make saving a version require the tests to pass, or not. */
export function useRequireTests(workflowId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (require: boolean) =>
      api<{ require_tests: boolean }>(`/api/workflows/${workflowId}/`, { method: "PATCH", body: { require_tests: require } }),
    onSuccess: (body) =>
      client.setQueryData(keys.workflow(workflowId), (old: object | undefined) =>
        old ? { ...old, require_tests: body.require_tests } : old,
      ),
  });
}

/** The tests' results a refused save carries (409 tests_failed), or null for another error. */
export function failedTests(error: unknown): StepTestRun | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  if (!error.errors.some((e) => e.code === "tests_failed")) return null;
  const results = error.body.results;
  return Array.isArray(results) ? { passed: false, results: results as StepTestResult[] } : null;
}

export type ExpectationKind = Expectation["kind"];

/** The expectation the "Save as test" form describes; an error for what it cannot be. */
export function expectationOf(
  kind: ExpectationKind,
  text: string,
): { expectation: Expectation; error: null } | { expectation: null; error: string } {
  if (kind === "expression") {
    const expression = text.trim();
    return expression ? { expectation: { kind, expression }, error: null } : { expectation: null, error: "an expression, e.g. output.total > 0" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { expectation: null, error: e instanceof Error ? e.message : "not JSON" };
  }
  if (kind === "equals") return { expectation: { kind, value }, error: null };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { expectation: null, error: "a JSON Schema is an object" };
  return { expectation: { kind, schema: value as Record<string, unknown> }, error: null };
}

/** What the form starts with for each kind, from the step's output. */
export function startingText(kind: ExpectationKind, output: unknown): string {
  if (kind === "equals") return JSON.stringify(output ?? null, null, 2);
  if (kind === "schema") return JSON.stringify(schemaOfValue(output), null, 2);
  return "output != none";
}

/** A JSON Schema a value is valid against: its types and the keys it has (required). */
export function schemaOfValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { type: "null" };
  if (Array.isArray(value)) return value.length ? { type: "array", items: schemaOfValue(value[0]) } : { type: "array" };
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return {
      type: "object",
      required: entries.map(([k]) => k),
      properties: Object.fromEntries(entries.map(([k, v]) => [k, schemaOfValue(v)])),
    };
  }
  if (typeof value === "number") return { type: Number.isInteger(value) ? "integer" : "number" };
  return { type: typeof value };
}

/** "2 of 3 passed", or the plain count when all did. */
export function resultSummary(run: StepTestRun): string {
  const passed = run.results.filter((r) => r.passed).length;
  if (run.results.length === 0) return "No tests ran";
  if (passed === run.results.length) return `All ${passed} passed`;
  return `${passed} of ${run.results.length} passed`;
}

/**
 * The upstream data a test saved from a test run gives: the outputs the run's steps above
 * `node` were given or produced (succeeded steps only), by node id; the trigger is left out.
 */
export function dataFromRun(
  steps: { node: string; status: string; output?: unknown }[],
  above: string[],
  triggers: ReadonlySet<string>,
): Record<string, unknown> {
  const wanted = new Set(above.filter((id) => !triggers.has(id)));
  return Object.fromEntries(
    steps.filter((s) => wanted.has(s.node) && s.status === "succeeded").map((s) => [s.node, s.output ?? null]),
  );
}
