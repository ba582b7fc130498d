/**
 * The app shell: a header (brand, command palette, colour scheme, the user's menu), the
 * navigation (a side bar on a desktop, a drawer behind the burger on a phone, a rail of icons
 * beside the editor's canvas) and the page. Pages load on demand, each with its own chunk.
 */
import {
  ActionIcon,
  AppShell,
  Avatar,
  Badge,
  Box,
  Burger,
  Center,
  Group,
  Kbd,
  Loader,
  Menu,
  NavLink,
  ScrollArea,
  Stack,
  Text,
  Tooltip,
  UnstyledButton,
} from "@mantine/core";
import { useDisclosure, useMediaQuery } from "@mantine/hooks";
import { spotlight } from "@mantine/spotlight";
import {
  IconApi,
  IconBook,
  IconChevronDown,
  IconKey,
  IconLock,
  IconLogout,
  IconSearch,
  IconTopologyStar3,
  IconUser,
} from "@tabler/icons-react";
import { type ReactNode, Suspense, lazy, useEffect, useMemo } from "react";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";

import { CommandPalette } from "./CommandPalette";
import { useInboxFeed, useOpenTaskCount } from "./inbox";
import { type NavSection, sectionsFor } from "./nav";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ColorSchemeMenu } from "./ui/ColorSchemeMenu";

export { SECTIONS } from "./nav";

const WorkflowsPage = lazy(() => import("./pages/WorkflowsPage").then((m) => ({ default: m.WorkflowsPage })));
// The editor (React Flow, the form library) is most of the code: it loads when first opened.
const DesignerPage = lazy(() => import("./pages/DesignerPage").then((m) => ({ default: m.DesignerPage })));
const RunsPage = lazy(() => import("./pages/RunsPage").then((m) => ({ default: m.RunsPage })));
// The dashboard's charts (Recharts) load with it.
const DashboardPage = lazy(() => import("./pages/DashboardPage").then((m) => ({ default: m.DashboardPage })));
// The inbox renders forms with the form library.
const InboxPage = lazy(() => import("./pages/InboxPage").then((m) => ({ default: m.InboxPage })));
const CredentialsPage = lazy(() =>
  import("./pages/CredentialsPage").then((m) => ({ default: m.CredentialsPage })),
);
const PeoplePage = lazy(() => import("./pages/PeoplePage").then((m) => ({ default: m.PeoplePage })));
const AccountPage = lazy(() => import("./pages/AccountPage").then((m) => ({ default: m.AccountPage })));

export type User = { username: string; staff: boolean };

function logOut() {
  // Django's LogoutView accepts POST only (with the CSRF token the template rendered).
  const form = document.getElementById("logout-form");
  if (form instanceof HTMLFormElement) form.submit();
}

/** A page loaded on demand, with a spinner meanwhile. */
function Loaded({ what, page }: { what: string; page: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Center h={200} role="status" aria-label={`Loading ${what}`}>
          <Loader size="sm" />
        </Center>
      }
    >
      {page}
    </Suspense>
  );
}

/** The count of open tasks beside the Inbox link (outside the link's name). */
function InboxCount() {
  const open = useOpenTaskCount();
  if (!open) return null;
  return (
    <Badge size="sm" color="red" variant="filled" circle={open < 10} aria-label={`Open tasks: ${open}`}>
      {open}
    </Badge>
  );
}

function isActive(section: NavSection, pathname: string): boolean {
  if (section.path === "/workflows") return pathname === "/workflows" || pathname.startsWith("/designer");
  return pathname === section.path || pathname.startsWith(`${section.path}/`);
}

function Navigation({ sections, rail, onNavigate }: { sections: NavSection[]; rail: boolean; onNavigate: () => void }) {
  const { pathname } = useLocation();
  return (
    <Box component="nav" aria-label="Main">
      <Stack gap={4}>
        {sections.map((section) => {
          const active = isActive(section, pathname);
          const count = section.path === "/inbox" ? <InboxCount /> : null;
          if (rail) {
            return (
              <Tooltip key={section.path} label={section.label} position="right">
                <ActionIcon
                  component={Link}
                  to={section.path}
                  variant={active ? "light" : "subtle"}
                  color={active ? undefined : "gray"}
                  size={44}
                  aria-label={section.label}
                  aria-current={active ? "page" : undefined}
                  className={active ? "active" : undefined}
                  onClick={onNavigate}
                  pos="relative"
                >
                  <section.icon size={22} stroke={1.6} />
                  {count && (
                    <Box pos="absolute" top={0} right={0}>
                      {count}
                    </Box>
                  )}
                </ActionIcon>
              </Tooltip>
            );
          }
          return (
            <Group key={section.path} gap={0} wrap="nowrap" pos="relative">
              <NavLink
                component={Link}
                to={section.path}
                label={section.label}
                leftSection={<section.icon size={20} stroke={1.6} />}
                active={active}
                aria-current={active ? "page" : undefined}
                className={active ? "active" : undefined}
                onClick={onNavigate}
                style={{ borderRadius: "var(--mantine-radius-md)", minHeight: 42 }}
              />
              {count && (
                <Box pos="absolute" right={10}>
                  {count}
                </Box>
              )}
            </Group>
          );
        })}
      </Stack>
    </Box>
  );
}


function UserMenu({ user }: { user: User }) {
  return (
    <Menu position="bottom-end" width={220}>
      <Menu.Target>
        <UnstyledButton aria-label={`Account of ${user.username}`} style={{ minHeight: 40 }}>
          <Group gap={8} wrap="nowrap">
            <Avatar size={32} radius="xl" color="flow" aria-hidden="true">
              <IconUser size={18} />
            </Avatar>
            <Text size="sm" fw={500} visibleFrom="sm">
              {user.username}
            </Text>
            <IconChevronDown size={14} />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>
          Signed in as <b>{user.username}</b>
          {user.staff ? " (staff)" : ""}
        </Menu.Label>
        <Menu.Item component={Link} to="/account" leftSection={<IconKey size={16} />}>
          API tokens
        </Menu.Item>
        <Menu.Item component="a" href="/change-password/" leftSection={<IconLock size={16} />}>
          Change password
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item component="a" href="/docs/" leftSection={<IconBook size={16} />}>
          Documentation
        </Menu.Item>
        <Menu.Item component="a" href="/api/docs/" leftSection={<IconApi size={16} />}>
          API reference
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item color="red" leftSection={<IconLogout size={16} />} onClick={logOut}>
          Log out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** Pages that fill the space under the header edge to edge (the editor's canvas). */
function isFullBleed(pathname: string): boolean {
  return /^\/designer\/.+/.test(pathname);
}

/** The inbox socket, in a component of its own: its status changes re-render nothing else. */
function InboxFeed({ username }: { username: string }) {
  useInboxFeed(username);
  return null;
}

export function App({ user }: { user: User }) {
  const [opened, { toggle, close }] = useDisclosure(false);
  const { pathname } = useLocation();
  const sections = useMemo(() => sectionsFor(user.staff), [user.staff]);
  const fullBleed = isFullBleed(pathname);
  const phone = useMediaQuery("(max-width: 48em)");
  const rail = fullBleed && !phone;
  // A page change closes the phone's navigation drawer.
  useEffect(close, [pathname, close]);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: rail ? 68 : 220, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding={fullBleed ? 0 : { base: "sm", sm: "lg" }}
      className={fullBleed ? "fd-shell fd-shell-full" : "fd-shell"}
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="sm">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Navigation" />
            <Link to="/workflows" className="fd-brand" aria-label="Flowdeck home">
              <Group gap={8} wrap="nowrap" h="100%">
                <IconTopologyStar3 size={26} stroke={1.7} color="var(--mantine-primary-color-filled)" />
                <Text fw={700} size="lg" visibleFrom="xs">
                  Flowdeck
                </Text>
              </Group>
            </Link>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <UnstyledButton onClick={spotlight.open} className="fd-search" aria-label="Search or jump to… Ctrl K">
              <Group gap={8} wrap="nowrap">
                <IconSearch size={16} stroke={1.8} />
                <Text size="sm" c="dimmed" visibleFrom="md">
                  Search or jump to…
                </Text>
                <Kbd size="xs" visibleFrom="md">
                  Ctrl K
                </Kbd>
              </Group>
            </UnstyledButton>
            <ColorSchemeMenu />
            <UserMenu user={user} />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p={rail ? 10 : "sm"}>
        <AppShell.Section grow component={ScrollArea}>
          <Navigation sections={sections} rail={rail} onNavigate={close} />
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main className="fd-main">
        <Routes>
          <Route path="/" element={<Navigate to="/workflows" replace />} />
          <Route path="/workflows" element={<Loaded what="the workflows" page={<WorkflowsPage />} />} />
          <Route path="/designer" element={<Navigate to="/workflows" replace />} />
          <Route path="/designer/*" element={<Loaded what="the editor" page={<DesignerPage />} />} />
          <Route path="/runs/*" element={<Loaded what="the runs" page={<RunsPage />} />} />
          <Route path="/inbox/*" element={<Loaded what="the inbox" page={<InboxPage />} />} />
          <Route path="/dashboard/*" element={<Loaded what="the dashboard" page={<DashboardPage />} />} />
          <Route path="/credentials" element={<Loaded what="the credentials" page={<CredentialsPage />} />} />
          <Route
            path="/people/*"
            element={
              user.staff ? (
                <Loaded what="the people" page={<PeoplePage me={user.username} />} />
              ) : (
                <NotFoundPage />
              )
            }
          />
          <Route path="/account" element={<Loaded what="your tokens" page={<AccountPage username={user.username} isStaff={user.staff} />} />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </AppShell.Main>
      <CommandPalette sections={sections} />
      <InboxFeed username={user.username} />
    </AppShell>
  );
}
