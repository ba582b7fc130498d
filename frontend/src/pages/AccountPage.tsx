/**
 * The user's own API tokens (from the user menu): one per script or machine, each key shown
 * once when it is created, each revoked on its own. What `manage.py flowdeck_token` did, for
 * everyone, without a shell on the server. Below them, out of office (absences, a deputy).
 */
import { ActionIcon, Button, Code, CopyButton, Group, Modal, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { IconCheck, IconCopy, IconKey, IconLock, IconPlus, IconTrash, IconX } from "@tabler/icons-react";
import { DataTable, type DataTableSortStatus } from "mantine-datatable";
import { type FormEvent, useMemo, useState } from "react";

import { type ApiToken, type NewToken, fieldError, useCreateToken, useRevokeToken, useTokens } from "../people";
import { Empty } from "../ui/Empty";
import { OnceSecret } from "../ui/OnceSecret";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { notifyError, notifySuccess } from "../ui/notify";
import { LIST_TABLE } from "../ui/table";
import { OutOfOffice } from "./account/OutOfOffice";

const PHONE = "(max-width: 48em)";

function sortTokens(tokens: ApiToken[], sort: DataTableSortStatus<ApiToken>): ApiToken[] {
  const key = sort.columnAccessor as keyof ApiToken;
  const sorted = [...tokens].sort((a, b) => String(a[key] ?? "").localeCompare(String(b[key] ?? "")));
  return sort.direction === "desc" ? sorted.reverse() : sorted;
}

export function AccountPage({ username, isStaff = false }: { username: string; isStaff?: boolean }) {
  const tokens = useTokens();
  const revoke = useRevokeToken();
  const [creating, setCreating] = useState(false);
  const [sort, setSort] = useState<DataTableSortStatus<ApiToken>>({ columnAccessor: "created_at", direction: "desc" });
  const rows = useMemo(() => sortTokens(tokens.data ?? [], sort), [tokens.data, sort]);

  const confirmRevoke = (token: ApiToken) =>
    modals.openConfirmModal({
      title: `Revoke the token ${token.name}?`,
      children: (
        <Text size="sm">
          Scripts that send it get 401 from the next request on. This cannot be undone: make a new token for them
          instead.
        </Text>
      ),
      labels: { confirm: "Revoke", cancel: "Cancel" },
      confirmProps: { color: "red", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: () =>
        revoke.mutate(token.id, {
          onSuccess: () => notifySuccess(`The token ${token.name} no longer works.`, "Revoked"),
          onError: (e) => notifyError(e, `Revoking ${token.name}`),
        }),
    });

  return (
    <Stack gap="md" component="section" aria-labelledby="account-title">
      <PageHeader
        id="account-title"
        title="API tokens"
        description={
          <>
            Keys for your scripts and other programs, which send one as <Code>Authorization: Token &lt;key&gt;</Code>{" "}
            and act as {username}. Make one per script or machine, so that each can be revoked alone.
          </>
        }
        actions={
          <>
            <Button
              component="a"
              href="/change-password/?next=/account"
              variant="default"
              size="md"
              leftSection={<IconLock size={18} />}
            >
              Change password
            </Button>
            <Button size="md" leftSection={<IconPlus size={18} />} onClick={() => setCreating(true)}>
              New token
            </Button>
          </>
        }
      />
      {/* The table's own empty state cannot hold a button (it lets clicks through), so an
          empty list is the guide alone. */}
      {tokens.isError ? (
        <Empty icon={<IconX />} color="red" title="Your tokens could not be read" description={String(tokens.error)} />
      ) : tokens.isSuccess && rows.length === 0 ? (
        <Empty
          icon={<IconKey />}
          title="No API tokens yet"
          description="Create one to call the API from a script, a scheduler or your terminal."
          actions={
            <Button size="md" onClick={() => setCreating(true)}>
              Create a token
            </Button>
          }
        />
      ) : (
        <DataTable<ApiToken>
          aria-label="API tokens"
          {...LIST_TABLE}
          fetching={tokens.isLoading}
          records={rows}
          idAccessor="id"
          sortStatus={sort}
          onSortStatusChange={setSort}
          customRowAttributes={(token) => ({ "data-token": token.name })}
          columns={[
            { accessor: "name", title: "Name", sortable: true, render: (t) => <Text fw={600} size="sm">{t.name}</Text> },
            {
              accessor: "prefix",
              title: "Key",
              render: (t) => (
                <Code aria-label={`Key of ${t.name} starts with ${t.prefix}`}>{t.prefix}…</Code>
              ),
            },
            {
              accessor: "created_at",
              title: "Created",
              sortable: true,
              render: (t) => <RelativeTime value={t.created_at} size="sm" />,
            },
            {
              accessor: "last_used_at",
              title: "Last used",
              sortable: true,
              render: (t) => <RelativeTime value={t.last_used_at} size="sm" empty="Never" />,
            },
            {
              accessor: "actions",
              title: <span className="fd-visually-hidden">Actions</span>,
              textAlign: "right",
              render: (t) => (
                <Tooltip label="Revoke">
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size={40}
                    aria-label={`Revoke ${t.name}`}
                    onClick={() => confirmRevoke(t)}
                  >
                    <IconTrash size={18} />
                  </ActionIcon>
                </Tooltip>
              ),
            },
          ]}
        />
      )}
      {creating && <NewTokenModal onClose={() => setCreating(false)} />}
      <OutOfOffice username={username} isStaff={isStaff} />
    </Stack>
  );
}

/** Name a new token; then its key, once, with a copy button and a curl line that uses it. */
function NewTokenModal({ onClose }: { onClose: () => void }) {
  const phone = useMediaQuery(PHONE);
  const create = useCreateToken();
  const [name, setName] = useState("");
  const [made, setMade] = useState<NewToken | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(name, {
      onSuccess: (token) => {
        setMade(token);
        notifySuccess(`The token ${token.name} is ready.`, "Token created");
      },
      onError: (e) => notifyError(e, "Creating the token"),
    });
  };

  const curl = made ? `curl -H "Authorization: Token ${made.key}" ${window.location.origin}/api/me/` : "";
  return (
    <Modal
      opened
      onClose={onClose}
      title={made ? `Token ${made.name}` : "New API token"}
      fullScreen={phone}
      size="lg"
      closeOnClickOutside={!made}
    >
      {made ? (
        <Stack gap="md">
          <OnceSecret label="API token" value={made.key} />
          <Stack gap={6}>
            <Text size="sm" fw={500}>
              Try it
            </Text>
            <Group gap="xs" wrap="nowrap" align="center">
              <Code block aria-label="curl example" style={{ flex: 1, minWidth: 0, whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                {curl}
              </Code>
              <CopyButton value={curl} timeout={2000}>
                {({ copied, copy }) => (
                  <ActionIcon
                    size={40}
                    variant={copied ? "filled" : "light"}
                    color={copied ? "teal" : undefined}
                    onClick={copy}
                    aria-label={copied ? "curl example copied" : "Copy the curl example"}
                  >
                    {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
                  </ActionIcon>
                )}
              </CopyButton>
            </Group>
          </Stack>
          <Group justify="flex-end">
            <Button size="md" onClick={onClose}>
              Done
            </Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} aria-label="New API token">
          <Stack gap="sm">
            <TextInput
              label="Name"
              description="What uses it, to recognise it later: laptop, nightly export, CI…"
              required
              data-autofocus
              size="md"
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={fieldError(create.error, "name")}
            />
            <Group justify="flex-end" gap="xs">
              <Button variant="default" size="md" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" size="md" loading={create.isPending}>
                Create token
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
