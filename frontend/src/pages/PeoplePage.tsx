/**
 * People (staff): users and how they log in, and groups with their members, which is what the
 * Django admin and `manage.py flowdeck_token` did before (issue 17, item 7). Secrets the server
 * issues (a one-time password, a set-password link) are shown once, with a copy button.
 */
import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  List,
  Menu,
  Modal,
  MultiSelect,
  Radio,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import {
  IconDots,
  IconKey,
  IconLink,
  IconPencil,
  IconPlus,
  IconSearch,
  IconTrash,
  IconUserCheck,
  IconUserOff,
  IconUserPlus,
  IconUsers,
  IconUsersGroup,
  IconX,
} from "@tabler/icons-react";
import { DataTable, type DataTableSortStatus } from "mantine-datatable";
import { type FormEvent, useMemo, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import {
  type Access,
  type GroupRow,
  type NewPerson,
  type PasswordSetup,
  type Person,
  fieldError,
  fullName,
  useAddMembers,
  useCreateGroup,
  useCreateUser,
  useDeleteGroup,
  useGroup,
  useGroups,
  useIssuePassword,
  useRemoveMember,
  useRenameGroup,
  useSetActive,
  useUpdateUser,
  useUsers,
} from "../people";
import { Empty } from "../ui/Empty";
import { OnceSecret } from "../ui/OnceSecret";
import { PageHeader } from "../ui/PageHeader";
import { RelativeTime } from "../ui/RelativeTime";
import { notifyError, notifySuccess } from "../ui/notify";

const PAGE_SIZE = 25;
const PHONE = "(max-width: 48em)";
const WIDE = "(min-width: 62em)";

/** The page's tab from the URL: /people (users) or /people/groups[/<id>]. */
function tabOf(pathname: string): { tab: "users" | "groups"; groupId: number | null } {
  const match = pathname.match(/^\/people\/groups(?:\/(\d+))?/);
  if (!match) return { tab: "users", groupId: null };
  return { tab: "groups", groupId: match[1] ? Number(match[1]) : null };
}

export function PeoplePage({ me }: { me: string }) {
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const { tab, groupId } = tabOf(pathname);
  return (
    <Stack gap={0} component="section" aria-labelledby="people-title">
      <PageHeader
        id="people-title"
        title="People"
        description="Who may log in, how they log in, and the groups that workflows ask for approvals and forms."
      />
      <Tabs
        value={tab}
        onChange={(value) => navigate(value === "groups" ? "/people/groups" : "/people")}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="users" leftSection={<IconUsers size={18} />} style={{ minHeight: 42 }}>
            Users
          </Tabs.Tab>
          <Tabs.Tab value="groups" leftSection={<IconUsersGroup size={18} />} style={{ minHeight: 42 }}>
            Groups
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="users">
          <UsersTab me={me} />
        </Tabs.Panel>
        <Tabs.Panel value="groups">
          <GroupsTab selected={groupId} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

// --- Users -------------------------------------------------------------------------------------

type Activity = "true" | "false" | "all";

// The columns the server sorts by (people/views.py USER_ORDERINGS).
const SERVER_SORTS = new Set(["username", "email", "last_login", "is_active", "is_staff"]);

function UsersTab({ me }: { me: string }) {
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
          withTableBorder
          borderRadius="md"
          highlightOnHover
          verticalAlign="center"
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
              render: (person) =>
                person.last_login ? (
                  <RelativeTime value={person.last_login} size="sm" />
                ) : (
                  <Text span size="sm" c="dimmed">
                    Never
                  </Text>
                ),
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
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <ActionIcon variant="subtle" color="gray" size={40} aria-label={`Actions for ${person.username}`}>
          <IconDots size={20} />
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
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
      </Menu.Dropdown>
    </Menu>
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

// --- Groups ------------------------------------------------------------------------------------

function GroupsTab({ selected }: { selected: number | null }) {
  const groups = useGroups();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const [sort, setSort] = useState<DataTableSortStatus<GroupRow>>({ columnAccessor: "name", direction: "asc" });
  const rows = useMemo(() => {
    const sorted = [...(groups.data ?? [])].sort((a, b) =>
      sort.columnAccessor === "member_count" ? a.member_count - b.member_count : a.name.localeCompare(b.name),
    );
    return sort.direction === "desc" ? sorted.reverse() : sorted;
  }, [groups.data, sort]);

  return (
    <Grid gap="md">
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Stack gap="sm">
          <Group justify="space-between">
            <Title order={2}>Groups</Title>
            <Button leftSection={<IconPlus size={18} />} size="md" onClick={() => setCreating(true)}>
              New group
            </Button>
          </Group>
          {groups.isSuccess && rows.length === 0 ? (
            <Empty
              icon={<IconUsersGroup />}
              title="No groups yet"
              description="Workflows ask groups to approve or fill forms: create one, then add its members."
              actions={
                <Button size="md" onClick={() => setCreating(true)}>
                  Create a group
                </Button>
              }
            />
          ) : (
            <DataTable<GroupRow>
              aria-label="Groups"
              withTableBorder
              borderRadius="md"
              highlightOnHover
              fetching={groups.isLoading}
              records={rows}
              idAccessor="id"
              sortStatus={sort}
              onSortStatusChange={setSort}
              onRowClick={({ record }) => navigate(`/people/groups/${record.id}`)}
              rowStyle={(group) =>
                group.id === selected ? { background: "var(--mantine-color-default-hover)" } : undefined
              }
              customRowAttributes={(group) => ({ "data-selected-group": group.id === selected || undefined })}
              columns={[
                {
                  accessor: "name",
                  title: "Name",
                  sortable: true,
                  render: (group) => (
                    <Anchor
                      component={Link}
                      to={`/people/groups/${group.id}`}
                      fw={600}
                      size="sm"
                      display="inline-block"
                      py={10}
                      aria-current={group.id === selected ? "true" : undefined}
                      // The chosen group reads as plain text on its highlighted row.
                      c={group.id === selected ? "var(--mantine-color-text)" : undefined}
                    >
                      {group.name}
                    </Anchor>
                  ),
                },
                { accessor: "member_count", title: "Members", sortable: true, textAlign: "right" },
              ]}
            />
          )}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 7 }}>
        {selected !== null ? (
          <GroupPanel id={selected} key={selected} />
        ) : (
          rows.length > 0 && (
            <Card>
              <Text c="dimmed" size="sm">
                Choose a group to see and change its members.
              </Text>
            </Card>
          )
        )}
      </Grid.Col>
      {creating && <NewGroupModal onClose={() => setCreating(false)} />}
    </Grid>
  );
}

function NewGroupModal({ onClose }: { onClose: () => void }) {
  const phone = useMediaQuery(PHONE);
  const create = useCreateGroup();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(name, {
      onSuccess: (group) => {
        notifySuccess(`Group ${group.name} created.`);
        onClose();
        navigate(`/people/groups/${group.id}`);
      },
      onError: (e) => notifyError(e, "Creating the group"),
    });
  };
  return (
    <Modal opened onClose={onClose} title="New group" fullScreen={phone}>
      <form onSubmit={submit} aria-label="New group">
        <Stack gap="sm">
          <TextInput
            label="Name"
            description="As workflows name it in their assignees, e.g. finance."
            required
            data-autofocus
            size="md"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={fieldError(create.error, "name")}
          />
          <Group justify="flex-end" gap="xs">
            <Button variant="default" size="md" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" size="md" loading={create.isPending}>
              Create group
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function GroupPanel({ id }: { id: number }) {
  const group = useGroup(id);
  const users = useUsers({ active: "true", page_size: 200, ordering: "username" });
  const rename = useRenameGroup();
  const remove = useDeleteGroup();
  const add = useAddMembers();
  const drop = useRemoveMember();
  const navigate = useNavigate();
  const [name, setName] = useState<string | null>(null);
  const [adding, setAdding] = useState<string[]>([]);

  if (group.isError) {
    return <Empty icon={<IconX />} title="No such group" description="It may have been deleted meanwhile." />;
  }
  if (!group.data) return null;
  const g = group.data;
  const members = new Set(g.members.map((m) => m.username));
  const candidates = (users.data?.results ?? []).map((u) => u.username).filter((u) => !members.has(u));
  const inUse = g.named_by.length > 0;

  const saveName = (event: FormEvent) => {
    event.preventDefault();
    if (name === null || name === g.name) return setName(null);
    rename.mutate(
      { id, name },
      {
        onSuccess: (renamed) => {
          notifySuccess(`Renamed to ${renamed.name}.`);
          setName(null);
        },
        onError: (e) => notifyError(e, `Renaming ${g.name}`),
      },
    );
  };

  const confirmDelete = () =>
    modals.openConfirmModal({
      title: `Delete group ${g.name}?`,
      children: (
        <Text size="sm">
          Its {g.member_count} member{g.member_count === 1 ? "" : "s"} stay; only the group goes, with any role it was
          given on workflows and credentials.
        </Text>
      ),
      labels: { confirm: "Delete group", cancel: "Cancel" },
      confirmProps: { color: "red", size: "md" },
      cancelProps: { size: "md" },
      onConfirm: () =>
        remove.mutate(id, {
          onSuccess: () => {
            notifySuccess(`Group ${g.name} deleted.`);
            navigate("/people/groups");
          },
          onError: (e) => notifyError(e, `Deleting ${g.name}`),
        }),
    });

  const addMembers = (event: FormEvent) => {
    event.preventDefault();
    if (!adding.length) return;
    add.mutate(
      { id, usernames: adding },
      {
        onSuccess: () => {
          notifySuccess(`${adding.join(", ")} added to ${g.name}.`);
          setAdding([]);
        },
        onError: (e) => notifyError(e, `Adding to ${g.name}`),
      },
    );
  };

  return (
    <Card component="section" aria-label={`Group ${g.name}`} padding="lg">
      <Stack gap="md">
        {name === null ? (
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Title order={2}>{g.name}</Title>
            <Group gap="xs">
              <Button
                variant="default"
                size="md"
                leftSection={<IconPencil size={16} />}
                onClick={() => setName(g.name)}
                disabled={inUse}
              >
                Rename
              </Button>
              <Button
                variant="light"
                color="red"
                size="md"
                leftSection={<IconTrash size={16} />}
                onClick={confirmDelete}
                disabled={inUse}
              >
                Delete
              </Button>
            </Group>
          </Group>
        ) : (
          <form onSubmit={saveName} aria-label={`Rename ${g.name}`}>
            <Group align="flex-end" gap="xs" wrap="wrap">
              <TextInput
                label="New name"
                size="md"
                data-autofocus
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
                error={fieldError(rename.error, "name")}
                style={{ flex: "1 1 12rem" }}
              />
              <Button type="submit" size="md" loading={rename.isPending}>
                Save name
              </Button>
              <Button variant="default" size="md" onClick={() => setName(null)}>
                Cancel
              </Button>
            </Group>
          </form>
        )}
        {inUse && (
          <Alert color="blue" variant="light" title="Workflows ask this group">
            <Text size="sm">
              While these workflows name {g.name} in their approvals or forms, it cannot be renamed or deleted:
            </Text>
            <List size="sm" mt={4}>
              {g.named_by.map((w) => (
                <List.Item key={w.id}>
                  <Anchor component={Link} to={`/designer/${w.id}`}>
                    {w.name}
                  </Anchor>
                </List.Item>
              ))}
            </List>
          </Alert>
        )}
        <Stack gap="xs">
          <Title order={3}>
            Members <Badge variant="light">{g.member_count}</Badge>
          </Title>
          {g.members.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nobody yet: tasks assigned to {g.name} reach no one until you add members below.
            </Text>
          ) : (
            <Stack gap={4} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Members">
              {g.members.map((member) => (
                <Group key={member.id} component="li" justify="space-between" wrap="nowrap" gap="xs">
                  <Stack gap={0} style={{ minWidth: 0 }}>
                    <Text size="sm" fw={500}>
                      {member.username}
                      {!member.is_active && (
                        <Badge ml={6} size="xs" color="gray" variant="outline">
                          Deactivated
                        </Badge>
                      )}
                    </Text>
                    {fullName(member) && (
                      <Text size="xs" c="dimmed">
                        {fullName(member)}
                      </Text>
                    )}
                  </Stack>
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size={40}
                    aria-label={`Remove ${member.username} from ${g.name}`}
                    loading={drop.isPending && drop.variables?.userId === member.id}
                    onClick={() =>
                      drop.mutate(
                        { id, userId: member.id },
                        {
                          onSuccess: () => notifySuccess(`${member.username} left ${g.name}.`),
                          onError: (e) => notifyError(e, `Removing ${member.username}`),
                        },
                      )
                    }
                  >
                    <IconX size={18} />
                  </ActionIcon>
                </Group>
              ))}
            </Stack>
          )}
          <form onSubmit={addMembers} aria-label={`Add members to ${g.name}`}>
            <Group align="flex-end" gap="xs" wrap="wrap">
              <MultiSelect
                label="Add members"
                placeholder={adding.length ? undefined : "Choose users"}
                size="md"
                searchable
                data={candidates}
                value={adding}
                onChange={setAdding}
                nothingFoundMessage="Nobody else to add"
                style={{ flex: "1 1 14rem" }}
                comboboxProps={{ withinPortal: true }}
              />
              <Button type="submit" size="md" loading={add.isPending} disabled={!adding.length}>
                Add
              </Button>
            </Group>
          </form>
        </Stack>
      </Stack>
    </Card>
  );
}
