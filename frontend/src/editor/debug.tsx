/**
 * Debug a failed run in the editor (issue 18): `/designer/<id>?debug=<run>` opens the run's
 * version as the draft, with the outputs of the steps that finished standing in for them in
 * tests (the step panel's Run step); once the failed step is fixed and saved, the run is
 * replayed on the new version from the steps that failed (POST /api/runs/<id>/replay/), and
 * the page goes to the replay to watch it.
 */
import { Button, Group, Modal, Paper, Stack, Text, Textarea } from "@mantine/core";
import { IconBug, IconPlayerPlay, IconX } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";

import { api } from "../api";
import { keys } from "../query";
import { readRun } from "../runview/cache";
import type { Run } from "../runview/model";
import { notifyError } from "../ui/notify";
import type { GraphDoc } from "./graph";
import type { DebugRun } from "./slices/run";
import { isDirty, useEditor } from "./store";
import { useReveal } from "./useReveal";

/** What the editor keeps of a run to debug: the outputs of the steps that finished, and the
 * steps a replay runs again. */
export function debugRunOf(run: Run): DebugRun {
  const steps = run.steps ?? [];
  return {
    id: run.id,
    version: run.version ?? 0,
    outputs: Object.fromEntries(steps.filter((s) => s.status === "succeeded").map((s) => [s.node, s.output ?? null])),
    failed: steps.filter((s) => s.status === "failed" || s.status === "cancelled").map((s) => s.node),
    skipped: steps.filter((s) => s.status === "skipped").map((s) => s.node),
  };
}

/** Takes `?debug=<run>` once the workflow is in the editor: the run's version becomes the
 * draft (undo goes back to the newest), its outputs stand in for the steps that finished. */
export function useDebugParam(workflowId: number | null) {
  const client = useQueryClient();
  const reveal = useReveal();
  const [params, setParams] = useSearchParams();
  const loadedHere = useEditor((s) => s.loaded && s.meta.id !== null && s.meta.id === workflowId);
  const debug = params.get("debug");
  useEffect(() => {
    if (!loadedHere || !debug || !/^\d+$/.test(debug)) return;
    setParams(
      (p) => {
        p.delete("debug");
        return p;
      },
      { replace: true },
    );
    void (async () => {
      try {
        const run = await client.fetchQuery({ queryKey: keys.run(Number(debug)), queryFn: () => readRun(client, Number(debug)) });
        if (run.workflow !== workflowId || run.version === null) throw new Error(`run ${run.id} is not a run of this workflow`);
        const state = useEditor.getState();
        if (run.version !== state.meta.version) {
          const version = await api<{ graph: GraphDoc }>(`/api/workflows/${workflowId}/versions/${run.version}/`);
          // The run's version as the draft, on top of the newest: a save makes the fix a new version.
          useEditor.setState((s) => ({ graph: version.graph, past: [...s.past, s.graph], future: [] }));
        }
        const found = debugRunOf(run);
        state.setDebugRun(found);
        if (found.failed.length > 0) {
          state.setStepTab("test");
          // After the fit to the whole graph that loading it does: the failed step in the middle.
          window.setTimeout(() => reveal(found.failed[0]), 300);
        }
      } catch (e) {
        notifyError(e, `Run ${debug} could not be opened for debugging`);
      }
    })();
  }, [loadedHere, debug, workflowId, client, setParams, reveal]);
}

/** Over the canvas while a run is debugged: what is going on, and the replay. */
export function DebugBanner() {
  const debug = useEditor((s) => s.debugRun);
  const version = useEditor((s) => s.meta.version);
  const dirty = useEditor(isDirty);
  const [replaying, setReplaying] = useState(false);
  if (!debug) return null;
  const fixed = version !== debug.version;
  return (
    <Paper role="region" aria-label="Debugging a run" withBorder shadow="md" p="sm" w="100%">
      <Group justify="space-between" gap="xs">
        <Group gap={8} wrap="nowrap" style={{ flex: "1 1 20rem" }}>
          <IconBug size={18} style={{ flex: "none" }} />
          <Text size="sm">
            Debugging run {debug.id} (version {debug.version})
            {debug.failed.length > 0 ? `, which failed at ${debug.failed.join(", ")}` : ""}. Tests take the outputs of the{" "}
            {Object.keys(debug.outputs).length} steps that finished.{" "}
            {dirty ? "Save your fix, then replay the run." : fixed ? "" : "Fix the step, test it, and save."}
          </Text>
        </Group>
        <Group gap="xs">
          <Button
            size="xs"
            leftSection={<IconPlayerPlay size={14} />}
            disabled={dirty || !fixed}
            title={dirty ? "Save your edits first" : !fixed ? "Save a fixed version first" : undefined}
            onClick={() => setReplaying(true)}
          >
            Replay run {debug.id} on version {version}
          </Button>
          <Button size="xs" variant="default" leftSection={<IconX size={14} />} onClick={() => useEditor.getState().setDebugRun(null)}>
            Stop debugging
          </Button>
        </Group>
      </Group>
      <ReplayDialog opened={replaying} onClose={() => setReplaying(false)} debug={debug} version={version} />
    </Paper>
  );
}

function ReplayDialog({ opened, onClose, debug, version }: { opened: boolean; onClose: () => void; debug: DebugRun; version: number }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const replay = async () => {
    setBusy(true);
    try {
      const run = await api<Run>(`/api/runs/${debug.id}/replay/`, { method: "POST", body: { version, reason } });
      client.setQueryData(keys.run(run.id), run);
      void client.invalidateQueries({ queryKey: keys.run(debug.id), exact: true });
      useEditor.getState().setDebugRun(null);
      onClose();
      navigate(`/runs/${run.id}`);
    } catch (e) {
      notifyError(e, "The run could not be replayed");
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened={opened} onClose={onClose} title={`Replay run ${debug.id} on version ${version}`}>
      <Stack gap="sm">
        <Text size="sm">
          A new run with run {debug.id}'s input: the steps that finished keep their outputs,{" "}
          {debug.failed.length > 0 ? debug.failed.join(", ") : "the failed steps"} and what is below run again on version {version}.
          Both runs record who replayed it and why.
        </Text>
        <Textarea
          label="Why"
          placeholder="Fixed the amount's format"
          required
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          autosize
          minRows={2}
          data-autofocus
        />
        <Group justify="flex-end" gap="xs">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => void replay()} loading={busy} disabled={!reason.trim()}>
            Replay
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
