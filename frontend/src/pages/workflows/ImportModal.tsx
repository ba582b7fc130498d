/** Import a workflow from a JSON or YAML document: a file, or text pasted in. The server's
 * errors are listed with the step, connection and field each names. */
import { Alert, Button, FileInput, Group, List, Modal, Stack, Tabs, Text, TextInput, Textarea } from "@mantine/core";
import { IconAlertTriangle, IconClipboardText, IconFileUpload, IconUpload } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";

import { ApiError, api } from "../../api";
import { queryString } from "../../query";
import { notifyError, notifySuccess } from "../../ui/notify";
import { type WorkflowRow, errorLines, importFormat } from "./list";

type Source = "file" | "paste";

export function ImportModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const [source, setSource] = useState<Source>("file");
  const [file, setFile] = useState<File | null>(null);
  const [text, setText] = useState("");
  const [name, setName] = useState("");
  const [problems, setProblems] = useState<string[]>([]);
  const navigate = useNavigate();
  const client = useQueryClient();

  const reset = () => {
    setFile(null);
    setText("");
    setName("");
    setProblems([]);
  };
  const close = () => {
    reset();
    onClose();
  };

  const importing = useMutation({
    mutationFn: async () => {
      const body = source === "file" ? await (file as File).text() : text;
      const format = importFormat(body, source === "file" ? file?.name : undefined);
      return api<WorkflowRow>(`/api/workflows/import/${queryString({ name: name.trim() })}`, {
        method: "POST",
        text: body,
        contentType: format === "yaml" ? "application/yaml" : "application/json",
      });
    },
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ["workflows"] });
      notifySuccess(`${created.name} is version 1 of a new workflow.`, "Imported");
      close();
      navigate(`/designer/${created.id}`);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 400 && error.errors.length) {
        setProblems(errorLines(error.errors));
      } else {
        setProblems([]);
        notifyError(error, "Not imported");
      }
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setProblems([]);
    importing.mutate();
  };
  const ready = source === "file" ? file !== null : text.trim() !== "";

  return (
    <Modal opened={opened} onClose={close} title="Import a workflow" size="lg">
      <form onSubmit={submit} aria-label="Import a workflow" noValidate>
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            A workflow document exported from Flowdeck (JSON or YAML), or a bare graph. It becomes a new workflow that
            you own.
          </Text>
          <Tabs value={source} onChange={(value) => setSource(value === "paste" ? "paste" : "file")}>
            <Tabs.List grow>
              <Tabs.Tab value="file" leftSection={<IconFileUpload size={16} />}>
                Upload a file
              </Tabs.Tab>
              <Tabs.Tab value="paste" leftSection={<IconClipboardText size={16} />}>
                Paste
              </Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="file" pt="md">
              <FileInput
                label="Workflow file"
                placeholder="Choose a .json, .yaml or .yml file"
                accept=".json,.yaml,.yml,application/json,application/yaml"
                value={file}
                onChange={(f) => {
                  setFile(f);
                  setProblems([]);
                }}
                clearable
                leftSection={<IconUpload size={16} />}
              />
            </Tabs.Panel>
            <Tabs.Panel value="paste" pt="md">
              <Textarea
                label="Workflow document"
                placeholder={'{"name": "…", "graph": {"format": 1, "nodes": [], "edges": []}}'}
                value={text}
                onChange={(e) => {
                  setText(e.currentTarget.value);
                  setProblems([]);
                }}
                autosize
                minRows={8}
                maxRows={16}
                spellCheck={false}
                styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 13 } }}
              />
            </Tabs.Panel>
          </Tabs>
          <TextInput
            label="Name"
            description="Only for a bare graph: a document names its workflow itself."
            value={name}
            maxLength={200}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          {problems.length > 0 && (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title="Not imported" role="alert">
              <List size="sm" spacing={2}>
                {problems.map((line) => (
                  <List.Item key={line}>{line}</List.Item>
                ))}
              </List>
            </Alert>
          )}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" disabled={!ready} loading={importing.isPending} leftSection={<IconUpload size={16} />}>
              Import
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
