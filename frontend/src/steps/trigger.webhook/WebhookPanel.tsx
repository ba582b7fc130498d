/**
 * Below the config form of a trigger.webhook step: the workflow's webhook URL (once saved),
 * a copy button, rotation behind a confirmation, and a curl example (with the signing recipe
 * when requests must be signed). The URL is a secret: only editors get it from the API.
 */
import { Accordion, Alert, Button, Code, Group, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { IconCopy, IconRefresh, IconWebhook } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";

import { ApiError, api } from "../../api";
import { keys } from "../../query";
import { toastError } from "../../editor/toast";
import { type WebhookInfo, curlExample } from "./curl";

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // not a secure context, or no permission: the text stays selectable
  }
}

function Section({ children }: { children: ReactNode }) {
  return (
    <Paper withBorder p="sm" component="section" aria-label="Webhook URL">
      <Title order={3} size="sm" mb={6}>
        <IconWebhook size={15} style={{ verticalAlign: "-2px", marginRight: 6 }} />
        Webhook URL
      </Title>
      {children}
    </Paper>
  );
}

/** Saved without this step yet: the API answers 404 `no_webhook`. */
function noWebhook(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.errors[0]?.code === "no_webhook";
}

export function WebhookPanel({ workflowId, version }: { workflowId: number | null; version: number }) {
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const path = workflowId === null ? null : `/api/workflows/${workflowId}/webhook/`;
  const query = useQuery({
    // The version is part of the key: the first save with this step issues the URL.
    queryKey: [...keys.webhook(workflowId ?? 0), version],
    queryFn: () => api<WebhookInfo>(path!),
    enabled: path !== null,
    retry: false,
  });
  const rotate = useMutation({
    mutationFn: () => api<WebhookInfo>(`${path}rotate/`, { method: "POST" }),
    onSuccess: (info) => {
      queryClient.setQueryData([...keys.webhook(workflowId ?? 0), version], info);
      setNotice("New URL issued; the old one no longer works.");
    },
    onError: (e) => toastError(e, "Not rotated"),
  });

  if (path === null || (query.isError && noWebhook(query.error))) {
    return (
      <Section>
        <Text size="sm" c="dimmed">
          Save the workflow to get the URL that starts it.
        </Text>
      </Section>
    );
  }
  if (query.isPending) {
    return (
      <Section>
        <Text size="sm" c="dimmed">
          Loading…
        </Text>
      </Section>
    );
  }
  if (query.isError) {
    return (
      <Section>
        <Text size="sm" c="red" role="alert">
          {(query.error as Error).message}
        </Text>
      </Section>
    );
  }
  const info = query.data;
  return (
    <Section>
      <Stack gap="xs">
        <Group gap={6} wrap="nowrap" align="flex-end">
          <TextInput
            readOnly
            aria-label="Webhook URL"
            value={info.url}
            onFocus={(e) => e.currentTarget.select()}
            ff="monospace"
            style={{ flex: 1 }}
            size="xs"
          />
          <Button
            size="xs"
            variant="default"
            leftSection={<IconCopy size={14} />}
            onClick={async () => setNotice((await copyText(info.url)) ? "URL copied." : "Copy it from the field.")}
          >
            Copy
          </Button>
        </Group>
        {!info.active && (
          <Text size="xs" c="dimmed">
            Inactive: the newest version has no webhook trigger, or the workflow is archived. Requests get 404.
          </Text>
        )}
        <Text size="xs" c="dimmed">
          {info.signing
            ? `Requests must be signed: ${info.signature_header}: sha256=HMAC-SHA256(secret, "<timestamp>.<body>"), ` +
              `with the Unix time in ${info.timestamp_header}` +
              (info.tolerance_s ? `, within ${info.tolerance_s} s of the server's clock.` : ".")
            : "Anyone with this URL can start the workflow: keep it secret, or require a signature."}
          {` Bodies up to ${info.max_body_bytes} bytes; an Idempotency-Key header makes retries start one run.`}
        </Text>
        {notice && (
          <Text size="xs" c="teal" role="status">
            {notice}
          </Text>
        )}
        {confirming ? (
          <Alert role="alertdialog" aria-label="Rotate the webhook URL" color="orange" p="xs">
            <Text size="sm" mb="xs">
              The current URL stops working at once; senders need the new one.
            </Text>
            <Group gap="xs">
              <Button
                size="xs"
                color="orange"
                onClick={() => {
                  setConfirming(false);
                  rotate.mutate();
                }}
              >
                Rotate
              </Button>
              <Button size="xs" variant="default" onClick={() => setConfirming(false)} data-autofocus autoFocus>
                Cancel
              </Button>
            </Group>
          </Alert>
        ) : (
          <Group>
            <Button size="xs" variant="subtle" color="orange" leftSection={<IconRefresh size={14} />} onClick={() => setConfirming(true)}>
              Rotate URL…
            </Button>
          </Group>
        )}
        <Accordion variant="contained" chevronPosition="left">
          <Accordion.Item value="curl">
            <Accordion.Control>Try it with curl</Accordion.Control>
            <Accordion.Panel>
              <Code block aria-label="curl example" style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                {curlExample(info)}
              </Code>
            </Accordion.Panel>
          </Accordion.Item>
        </Accordion>
      </Stack>
    </Section>
  );
}
