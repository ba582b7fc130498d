/** The People page's users: search, filter, sort, create, edit, passwords, deactivation. */
import {
  Badge,
  Button,
  Group,
  Menu,
  Modal,
  MultiSelect,
  Radio,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
} from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import {
  IconKey,
  IconLink,
  IconPencil,
  IconSearch,
  IconUserCheck,
  IconUserOff,
  IconUserPlus,
  IconUsers,
  IconX,
} from "@tabler/icons-react";
import { DataTable, type DataTableSortStatus } from "mantine-datatable";
import { type FormEvent, useState } from "react";

import {
  type Access,
  type NewPerson,
  type PasswordSetup,
  type Person,
  fieldError,
  fullName,
  useCreateUser,
  useGroups,
  useIssuePassword,
  useSetActive,
  useUpdateUser,
  useUsers,
} from "../../people";
import { Empty } from "../../ui/Empty";
import { OnceSecret } from "../../ui/OnceSecret";
import { RelativeTime } from "../../ui/RelativeTime";
import { notifyError, notifySuccess } from "../../ui/notify";
import { PAGE_SIZE, PHONE, WIDE } from "./layout";
import { LIST_TABLE } from "../../ui/table";
import { RowMenu } from "../../ui/RowMenu";

type Activity = "true" | "false" | "all";

// The columns the server sorts by (people/views.py USER_ORDERINGS).
const SERVER_SORTS = new Set(["username", "email", "last_login", "is_active", "is_staff"]);

export function UsersTab({ me }: { me: string }) {
  const phone = useMediaQuery(PHONE);
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const [activity, setActivity] = useState<Activity>("true");
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState<DataTableSortStatus<Person>>({ columnAccessor: "username", direction: "asc" });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Person | null>(null);
  const [issued, setIssued] = useState<{ person: string; access: Access } | null>(null);
  const ordering = `${sort.direction === "desc" ? "-" : ""}${sort.columnAccessor}`;
  const users = useUsers({
    search: debounced || undefined,
    active: activity === "all" ? undefined : activity,
    ordering,
    page,
    page_size: PAGE_SIZE,
  });
  const setActive = useSetActive();
  const issue = useIssuePassword();

  const deactivate = (person: Person) =>
    modals.openConfirmModal({
      title: `Deactivate ${person.username}?`,
      children: (
        <Text size="sm">
          {person.username} can no longer log in: their open sessions end and their API tokens are revoked for good.
          Their workflows, runs and history stay. You can reactivate them later.
        </Text>
      ),
      labels: { confirm: "Deactivate", cancel: "Cancel" },
      confirmProps: { color: "red", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: () =>
        setActive.mutate(
          { id: person.id, active: false },
          {
            onSuccess: () => notifySuccess(`${person.username} can no longer log in.`, "Deactivated"),
            onError: (e) => notifyError(e, `Deactivating ${person.username}`),
          },
        ),
    });

  const reactivate = (person: Person) =>
    setActive.mutate(
      { id: person.id, active: true },
      {
        onSuccess: () => notifySuccess(`${person.username} may log in again.`, "Reactivated"),
        onError: (e) => notifyError(e, `Reactivating ${person.username}`),
      },
    );

  const newPassword = (person: Person, setup: PasswordSetup) => {
    const go = () =>
      issue.mutate(
        { id: person.id, setup },
        {
          onSuccess: (access) => setIssued({ person: person.username, access }),
          onError: (e) => notifyError(e, `A new password for ${person.username}`),
        },
      );
    if (setup === "link") return go();
    // A one-time password replaces the current one at once: ask first.
    modals.openConfirmModal({
      title: `A one-time password for ${person.username}?`,
      children: (
        <Text size="sm">
          Their current password stops working now and their sessions end. At their next login with the one-time
          password, they must choose a new one.
        </Text>
      ),
      labels: { confirm: "Replace the password", cancel: "Cancel" },
      confirmProps: { color: "orange", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: go,
    });
  };

  const rows = users.data?.results ?? [];
  const filtered = debounced !== "" || activity !== "true";
  return (
    <Stack gap="md">
      <Group gap="sm" wrap="wrap" align="flex-end">
        <TextInput
          aria-label="Search users"
          placeholder="Search name, username, email"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
          size="md"
          style={{ flex: "1 1 14rem" }}
        />
        <SegmentedControl
          aria-label="Show"
          value={activity}
          onChange={(value) => {
            setActivity(value as Activity);
            setPage(1);
          }}
          data={[
            { value: "true", label: "Active" },
            { value: "false", label: "Deactivated" },
            { value: "all", label: "All" },
          ]}
          size="lg"
        />
        <Button leftSection={<IconUserPlus size={18} />} onClick={() => setCreating(true)} size="md">
          New user
        </Button>
      </Group>
      {/* The table's own empty state cannot hold a button (it lets clicks through), so an
          empty list is the guide alone. */}
      {users.isError ? (
        <Empty icon={<IconX />} color="red" title="The users could not be read" description={String(users.error)} />
      ) : users.isSuccess && rows.length === 0 ? (
        filtered ? (
          <Empty
            icon={<IconSearch />}
            title="No one matches"
            description="Nobody with these filters."
            actions={
              <Button
                variant="light"
                size="md"
                onClick={() => {
                  setSearch("");
                  setActivity("true");
                }}
              >
                Show every active user
              </Button>
            }
          />
        ) : (
          <Empty
            icon={<IconUsers />}
            title="No users yet"
            actions={
              <Button size="md" onClick={() => setCreating(true)}>
                Create a user
              </Button>
            }
          />
        )
      ) : (
        <DataTable<Person>
          aria-label="Users"
          {...LIST_TABLE}
          fetching={users.isFetching && !users.data}
          records={rows}
          idAccessor="id"
          totalRecords={users.data?.count ?? 0}
          recordsPerPage={PAGE_SIZE}
          page={page}
          onPageChange={setPage}
          // Big enough to tap on a phone.
          paginationSize={phone ? "xl" : "sm"}
          sortStatus={sort}
          onSortStatusChange={(status) => {
            if (SERVER_SORTS.has(String(status.columnAccessor))) {
              setSort(status);
              setPage(1);
            }
          }}
          customRowAttributes={(person) => ({ "data-username": person.username })}
          columns={[
            {
              accessor: "username",
              title: "User",
              sortable: true,
              render: (person) => (
                <Stack gap={0}>
                  <Text size="sm" fw={600}>
                    {person.username}
                    {person.username === me ? (
                      <Text span size="xs" c="dimmed">
                        {" "}
                        (you)
                      </Text>
                    ) : null}
                  </Text>
                  {fullName(person) && (
                    <Text size="xs" c="dimmed">
                      {fullName(person)}
                    </Text>
                  )}
                </Stack>
              ),
            },
            {
              accessor: "email",
              title: "Email",
              sortable: true,
              visibleMediaQuery: WIDE,
              render: (person) => person.email || <Text span c="dimmed">—</Text>,
            },
            {
              accessor: "groups",
              title: "Groups",
              render: (person) =>
                person.groups.length ? (
                  <Group gap={4}>
                    {person.groups.map((name) => (
                      <Badge key={name} variant="light" color="gray" tt="none">
                        {name}
                      </Badge>
                    ))}
                  </Group>
                ) : (
                  <Text span size="sm" c="dimmed">
                    none
                  </Text>
                ),
            },
            {
              accessor: "is_staff",
              title: "Staff",
              sortable: true,
              visibleMediaQuery: WIDE,
              render: (person) =>
                person.is_staff ? (
                  <Badge color="flow" variant="light">
                    Staff
                  </Badge>
                ) : (
                  <Text span size="sm" c="dimmed">
                    —
                  </Text>
                ),
            },
            {
              accessor: "is_active",
              title: "Status",
              sortable: true,
              render: (person) => <AccountBadge person={person} />,
            },
            {
              accessor: "last_login",
              title: "Last login",
              sortable: true,
              visibleMediaQuery: WIDE,
              render: (person) => <RelativeTime value={person.last_login} size="sm" empty="Never" />,
            },
            {
              accessor: "actions",
              title: <span className="fd-visually-hidden">Actions</span>,
              textAlign: "right",
              render: (person) => (
                <UserActions
                  person={person}
                  me={me}
                  onEdit={() => setEditing(person)}
                  onPassword={(setup) => newPassword(person, setup)}
                  onDeactivate={() => deactivate(person)}
                  onReactivate={() => reactivate(person)}
                />
              ),
            },
          ]}
        />
      )}
      {creating && (
        <UserModal
          onClose={() => setCreating(false)}
          onCreated={(person, access) => {
            setCreating(false);
            setIssued({ person: person.username, access });
          }}
        />
      )}
      {editing && <UserModal person={editing} me={me} onClose={() => setEditing(null)} />}
      {issued && <IssuedModal person={issued.person} access={issued.access} onClose={() => setIssued(null)} />}
    </Stack>
  );
}

/** Dot badges: the words keep the text colour (readable in both schemes), the dot says it
 * in colour. */
function AccountBadge({ person }: { person: Person }) {
  if (!person.is_active) {
    return (
      <Badge color="gray" variant="dot">
        Deactivated
      </Badge>
    );
  }
  return (
    <Group gap={4}>
      <Badge color="teal" variant="dot">
        Active
      </Badge>
      {person.password_status === "unset" && (
        <Badge color="yellow" variant="dot" title="Waiting for a set-password link to be used">
          No password yet
        </Badge>
      )}
      {person.password_status === "must_change" && (
        <Badge color="orange" variant="dot" title="Must choose a new password at the next login">
          One-time password
        </Badge>
      )}
    </Group>
  );
}

function UserActions({
  person,
  me,
  onEdit,
  onPassword,
  onDeactivate,
  onReactivate,
}: {
  person: Person;
  me: string;
  onEdit: () => void;
  onPassword: (setup: PasswordSetup) => void;
  onDeactivate: () => void;
  onReactivate: () => void;
}) {
  return (
    <RowMenu name={person.username}>
      <Menu.Item leftSection={<IconPencil size={16} />} onClick={onEdit}>
        Edit
      </Menu.Item>
      {person.is_active && (
        <>
          <Menu.Item leftSection={<IconLink size={16} />} onClick={() => onPassword("link")}>
            New set-password link
          </Menu.Item>
          <Menu.Item leftSection={<IconKey size={16} />} onClick={() => onPassword("one_time")}>
            New one-time password
          </Menu.Item>
        </>
      )}
      {person.username !== me && <Menu.Divider />}
      {person.username !== me &&
        (person.is_active ? (
          <Menu.Item color="red" leftSection={<IconUserOff size={16} />} onClick={onDeactivate}>
            Deactivate
          </Menu.Item>
        ) : (
          <Menu.Item leftSection={<IconUserCheck size={16} />} onClick={onReactivate}>
            Reactivate
          </Menu.Item>
        ))}
    </RowMenu>
  );
}

/** Create a user (username, names, email, groups, staff, how they first log in), or edit one. */
function UserModal({
  person,
  me,
  onClose,
  onCreated,
}: {
  person?: Person;
  me?: string;
  onClose: () => void;
  onCreated?: (person: Person, access: Access) => void;
}) {
  const phone = useMediaQuery(PHONE);
  const groups = useGroups();
  const create = useCreateUser();
  const update = useUpdateUser();
  const [form, setForm] = useState<NewPerson>({
    username: person?.username ?? "",
    first_name: person?.first_name ?? "",
    last_name: person?.last_name ?? "",
    email: person?.email ?? "",
    is_staff: person?.is_staff ?? false,
    groups: person?.groups ?? [],
    password_setup: "link",
  });
  const set = <K extends keyof NewPerson>(name: K, value: NewPerson[K]) => setForm((f) => ({ ...f, [name]: value }));
  const mutation = person ? update : create;
  const error = mutation.error;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (person) {
      const { username: _u, password_setup: _p, ...changes } = form;
      update.mutate(
        { id: person.id, changes },
        {
          onSuccess: () => {
            notifySuccess(`${person.username} saved.`);
            onClose();
          },
          onError: (e) => notifyError(e, `Saving ${person.username}`),
        },
      );
    } else {
      create.mutate(form, {
        onSuccess: ({ user, access }) => {
          notifySuccess(`${user.username} can now log in.`, "User created");
          onCreated?.(user, access);
        },
        onError: (e) => notifyError(e, "Creating the user"),
      });
    }
  };

  const title = person ? `Edit ${person.username}` : "New user";
  return (
    <Modal opened onClose={onClose} title={title} fullScreen={phone} size="lg">
      <form onSubmit={submit} aria-label={title}>
        <Stack gap="sm">
          {!person && (
            <TextInput
              label="Username"
              description="What they log in with, and how workflows name them as assignees. Cannot be changed."
              required
              data-autofocus
              size="md"
              autoComplete="off"
              value={form.username}
              onChange={(e) => set("username", e.currentTarget.value)}
              error={fieldError(error, "username")}
            />
          )}
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
            <TextInput
              label="First name"
              size="md"
              value={form.first_name}
              onChange={(e) => set("first_name", e.currentTarget.value)}
              error={fieldError(error, "first_name")}
            />
            <TextInput
              label="Last name"
              size="md"
              value={form.last_name}
              onChange={(e) => set("last_name", e.currentTarget.value)}
              error={fieldError(error, "last_name")}
            />
          </SimpleGrid>
          <TextInput
            label="Email"
            type="email"
            size="md"
            value={form.email}
            onChange={(e) => set("email", e.currentTarget.value)}
            error={fieldError(error, "email")}
          />
          <MultiSelect
            label="Groups"
            description="Approvals and forms assigned to a group reach each of its members."
            placeholder={form.groups.length ? undefined : "No group"}
            size="md"
            searchable
            data={(groups.data ?? []).map((g) => g.name)}
            value={form.groups}
            onChange={(value) => set("groups", value)}
            error={fieldError(error, "groups")}
            nothingFoundMessage="No such group (create it on the Groups tab)"
            comboboxProps={{ withinPortal: true }}
          />
          <Switch
            label="Staff"
            description="May manage people and groups, and sees and owns every workflow."
            size="md"
            checked={form.is_staff}
            disabled={person !== undefined && person.username === me}
            onChange={(e) => set("is_staff", e.currentTarget.checked)}
          />
          {!person && (
            <Radio.Group
              label="How they log in the first time"
              value={form.password_setup}
              onChange={(value) => set("password_setup", value as PasswordSetup)}
              error={fieldError(error, "password_setup")}
            >
              <Stack gap="xs" mt={6}>
                <Radio
                  value="link"
                  size="md"
                  label="A set-password link"
                  description="You send them a link; they choose their password. It works once and expires."
                />
                <Radio
                  value="one_time"
                  size="md"
                  label="A one-time password"
                  description="You pass it on; at their first login they must choose their own."
                />
              </Stack>
            </Radio.Group>
          )}
          <Group justify="flex-end" mt="md" gap="xs">
            <Button variant="default" size="md" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" size="md" loading={mutation.isPending}>
              {person ? "Save" : "Create user"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** The secret the server issued for a user, shown this once. */
function IssuedModal({ person, access, onClose }: { person: string; access: Access; onClose: () => void }) {
  const phone = useMediaQuery(PHONE);
  const link = access.password_setup === "link";
  return (
    <Modal
      opened
      onClose={onClose}
      fullScreen={phone}
      size="lg"
      title={link ? `Set-password link for ${person}` : `One-time password for ${person}`}
      closeOnClickOutside={false}
    >
      <Stack gap="md">
        {link ? (
          <OnceSecret label="Set-password link" value={access.set_password_link ?? ""}>
            <Text size="sm" c="dimmed">
              Send it to {person}. It works once and expires <RelativeTime value={access.link_expires_at} size="sm" />; they
              choose their password there, then log in.
            </Text>
          </OnceSecret>
        ) : (
          <OnceSecret label="One-time password" value={access.one_time_password ?? ""}>
            <Text size="sm" c="dimmed">
              Pass it on to {person} by a safe way. At their first login they must choose their own password.
            </Text>
          </OnceSecret>
        )}
        <Group justify="flex-end">
          <Button size="md" onClick={onClose}>
            Done
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
