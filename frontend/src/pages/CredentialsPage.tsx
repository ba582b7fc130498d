/**
 * The credentials the user has a role on (/credentials): create one from its kind's fields,
 * change it (editor), share and delete it (owner), each in a modal. Secrets are write-only:
 * the page only ever learns whether each is set. `?new=<kind>` (the designer's link) opens the
 * create modal for that kind.
 */
import { Badge, Button, Group, Menu, Paper, Stack, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import {
  type Icon,
  IconKey,
  IconLock,
  IconLockOpen,
  IconMail,
  IconPencil,
  IconPlus,
  IconShare,
  IconShieldLock,
  IconTrash,
  IconWorldWww,
} from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DataTable, type DataTableColumn, type DataTableSortStatus } from "mantine-datatable";
import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";

import { api } from "../api";
import { type PageCommand, usePageCommands } from "../CommandPalette";
import { type Credential, type KindInfo, atLeast, publicSummary, secretStates } from "../credentials";
import { keys } from "../query";
import { Empty } from "../ui/Empty";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { notifyError, notifySuccess } from "../ui/notify";
import { CredentialModal, type Editing } from "./credentials/CredentialModal";
import { SharingModal } from "./credentials/SharingModal";
import { CredentialBreaker, useCredentialBreakers } from "./breakers/BreakersPanel";
import { LIST_TABLE } from "../ui/table";
import { RowMenu as ActionsMenu } from "../ui/RowMenu";

const KIND_ICONS: Record<string, Icon> = {
  http_bearer: IconWorldWww,
  http_basic: IconWorldWww,
  http_header: IconWorldWww,
  api_key: IconKey,
  smtp: IconMail,
  secret: IconShieldLock,
};

type SortKey = "name" | "kind" | "owner" | "updated_at";

function sortRows(rows: Credential[], sort: DataTableSortStatus<Credential>, kindTitle: (k: string) => string) {
  const key = sort.columnAccessor as SortKey;
  const value = (c: Credential) => (key === "kind" ? kindTitle(c.kind) : String(c[key] ?? ""));
  const sorted = [...rows].sort((a, b) => value(a).localeCompare(value(b)));
  return sort.direction === "desc" ? sorted.reverse() : sorted;
}

// Red text that reads at 4.5:1 on the menu in both schemes (the theme's red-6 is 3.3:1 on white).
const DANGER = "light-dark(var(--mantine-color-red-light-color), var(--mantine-color-red-4))";

function RowMenu({
  row,
  onEdit,
  onShare,
  onDelete,
}: {
  row: Credential;
  onEdit: () => void;
  onShare: () => void;
  onDelete: () => void;
}) {
  const editor = atLeast(row.role, "editor");
  const owner = atLeast(row.role, "owner");
  // Viewers and runners have nothing to do here: no control they may not use.
  if (!editor) return null;
  return (
    <ActionsMenu name={row.name} width={200}>
      <Menu.Item leftSection={<IconPencil size={16} />} onClick={onEdit}>
        Edit
      </Menu.Item>
      {owner && (
        <>
          <Menu.Item leftSection={<IconShare size={16} />} onClick={onShare}>
            Share…
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item color={DANGER} leftSection={<IconTrash size={16} />} onClick={onDelete}>
            Delete…
          </Menu.Item>
        </>
      )}
    </ActionsMenu>
  );
}

export function CredentialsPage() {
  const [params, setParams] = useSearchParams();
  // ``?new=<kind>`` (the designer's link) opens the form for that kind.
  const [editing, setEditing] = useState<Editing>(() =>
    params.get("new") !== null ? { mode: "create", kind: params.get("new") || undefined } : null,
  );
  const [sharing, setSharing] = useState<number | null>(null);
  const [sort, setSort] = useState<DataTableSortStatus<Credential>>({ columnAccessor: "name", direction: "asc" });
  const client = useQueryClient();

  useEffect(() => {
    // Read once: a reload after the form was closed must not open it again.
    if (params.has("new")) setParams({}, { replace: true });
  }, [params, setParams]);

  const list = useQuery({ queryKey: keys.credentials(), queryFn: () => api<Credential[]>("/api/credentials/") });
  const kinds = useQuery({
    queryKey: keys.credentialKinds(),
    queryFn: () => api<KindInfo[]>("/api/credentials/kinds/"),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const kindList = kinds.data ?? [];
  const kindOf = (kind: string) => kindList.find((k) => k.kind === kind);
  const kindTitle = (kind: string) => kindOf(kind)?.title ?? kind;

  const remove = useMutation({
    mutationFn: (credential: Credential) => api(`/api/credentials/${credential.id}/`, { method: "DELETE" }),
    onSuccess: (_, credential) => {
      client.setQueryData<Credential[]>(keys.credentials(), (rows) => rows?.filter((r) => r.id !== credential.id));
      void client.invalidateQueries({ queryKey: ["credentials"] });
      client.removeQueries({ queryKey: keys.credentialGrants(credential.id) });
      notifySuccess(`Deleted ${credential.name}`);
    },
    onError: (error, credential) => notifyError(error, `${credential.name} not deleted`),
  });

  const confirmDelete = (credential: Credential) =>
    modals.openConfirmModal({
      title: `Delete ${credential.name}?`,
      children: (
        <Text size="sm">
          Workflows that name {credential.name} fail at their next use of it. Its secrets are destroyed: this cannot be
          undone.
        </Text>
      ),
      labels: { confirm: "Delete", cancel: "Keep it" },
      confirmProps: { color: "red", leftSection: <IconTrash size={16} /> },
      onConfirm: () => remove.mutate(credential),
    });

  const openCreate = () => setEditing({ mode: "create" });
  const commands = useMemo<PageCommand[]>(
    () => [
      {
        id: "credentials-new",
        label: "New credential",
        description: "A token, password, API key or SMTP server for your steps",
        leftSection: <IconPlus size={18} />,
        onClick: () => setEditing({ mode: "create" }),
      },
    ],
    [],
  );
  usePageCommands("credentials", commands);

  const rows = useMemo(
    () => sortRows(list.data ?? [], sort, (k) => kindList.find((x) => x.kind === k)?.title ?? k),
    [list.data, sort, kindList],
  );
  const breakers = useCredentialBreakers();
  const shared = sharing === null ? null : (list.data?.find((r) => r.id === sharing) ?? null);

  const columns: DataTableColumn<Credential>[] = [
    {
      accessor: "name",
      sortable: true,
      cellsStyle: () => ({ minWidth: 170 }),
      render: (row) => {
        const KindIcon = KIND_ICONS[row.kind] ?? IconKey;
        return (
          <Group gap="sm" wrap="nowrap">
            <KindIcon size={20} stroke={1.6} aria-hidden="true" color="var(--mantine-color-dimmed)" />
            <Stack gap={0} style={{ minWidth: 0 }}>
              <Text size="sm" fw={600} truncate>
                {row.name}
              </Text>
              {/* The kind's column is hidden on a phone: its title goes under the name. */}
              <Text size="xs" c="dimmed" lineClamp={1} hiddenFrom="sm">
                {kindTitle(row.kind)}
              </Text>
              {row.description && (
                <Text size="xs" c="dimmed" lineClamp={1} title={row.description}>
                  {row.description}
                </Text>
              )}
            </Stack>
          </Group>
        );
      },
    },
    {
      accessor: "kind",
      sortable: true,
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
      render: (row) => <Text size="sm">{kindTitle(row.kind)}</Text>,
    },
    {
      accessor: "owner",
      sortable: true,
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.lg})`,
    },
    {
      accessor: "role",
      title: "Your role",
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.md})`,
      customCellAttributes: (row) => ({ "aria-label": `Your role on ${row.name}` }),
      render: (row) => (
        <Badge variant="default" tt="none" fw={500}>
          {row.role}
        </Badge>
      ),
    },
    {
      accessor: "data",
      title: "Public fields",
      cellsStyle: () => ({ maxWidth: 320 }),
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.lg})`,
      render: (row) => (
        <Text size="sm" c={Object.keys(row.data).length ? undefined : "dimmed"} lineClamp={2}>
          {publicSummary(row)}
        </Text>
      ),
    },
    {
      accessor: "secret_fields",
      title: "Secrets",
      cellsStyle: () => ({ minWidth: 172 }),
      customCellAttributes: (row) => ({ "aria-label": `Secrets of ${row.name}` }),
      render: (row) => {
        const states = secretStates(row, kindOf(row.kind));
        if (states.length === 0) return <Text c="dimmed">—</Text>;
        return (
          <Stack gap={4} align="flex-start">
            {states.map((s) => (
              <Badge
                key={s.name}
                variant="light"
                color={s.set ? "teal" : "gray"}
                tt="none"
                fw={500}
                leftSection={s.set ? <IconLock size={12} /> : <IconLockOpen size={12} />}
              >
                {s.name}: {s.set ? "set" : "not set"}
              </Badge>
            ))}
          </Stack>
        );
      },
    },
    {
      accessor: "breaker",
      title: "Circuit breaker",
      width: 200,
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.sm})`,
      render: (row) => <CredentialBreaker breaker={breakers.get(row.name)} />,
    },
    {
      accessor: "updated_at",
      title: "Updated",
      sortable: true,
      noWrap: true,
      visibleMediaQuery: (theme) => `(min-width: ${theme.breakpoints.md})`,
      render: (row) => <RelativeTime value={row.updated_at} size="sm" />,
    },
    {
      accessor: "actions",
      title: <span className="fd-visually-hidden">Actions</span>,
      textAlign: "right",
      width: 64,
      render: (row) => (
        <RowMenu
          row={row}
          onEdit={() => setEditing({ mode: "edit", credential: row })}
          onShare={() => setSharing(row.id)}
          onDelete={() => confirmDelete(row)}
        />
      ),
    },
  ];

  const empty = list.data !== undefined && list.data.length === 0;
  return (
    <Stack gap="md" component="section" aria-labelledby="credentials-title">
      <PageHeader
        id="credentials-title"
        title="Credentials"
        description="Named secrets that workflow steps use by name: tokens, passwords, API keys, SMTP servers. A secret is write-only: once saved it is never shown again, only whether it is set."
        actions={
          !empty && (
            <Button leftSection={<IconPlus size={18} />} onClick={openCreate} disabled={kindList.length === 0}>
              New credential
            </Button>
          )
        }
      />
      {empty ? (
        <Paper withBorder p="md">
          <Empty
            icon={<IconShieldLock size={28} />}
            title="No credentials yet"
            description="A step that calls an API or sends mail names a credential instead of holding the secret itself: the token stays sealed on the server, and you share it with the people who may use it."
            actions={
              <Button leftSection={<IconPlus size={18} />} onClick={openCreate} disabled={kindList.length === 0}>
                New credential
              </Button>
            }
          />
        </Paper>
      ) : (
        <DataTable<Credential>
          aria-label="Credentials"
          {...LIST_TABLE}
          minHeight={rows.length ? undefined : 160}
          records={rows}
          columns={columns}
          fetching={list.isPending}
          sortStatus={sort}
          onSortStatusChange={(next) =>
            // Another column starts A to Z (the table would keep the previous direction),
            // the update time newest first.
            setSort(
              next.columnAccessor === sort.columnAccessor
                ? next
                : { ...next, direction: next.columnAccessor === "updated_at" ? "desc" : "asc" },
            )
          }
          noRecordsText=""
          customRowAttributes={(row) => ({ "data-id": row.id })}
        />
      )}
      <CredentialModal editing={editing} kinds={kindList} onClose={() => setEditing(null)} />
      <SharingModal credential={shared} onClose={() => setSharing(null)} />
    </Stack>
  );
}
