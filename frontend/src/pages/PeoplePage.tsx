/**
 * People (staff): users and how they log in, and groups with their members, which is what the
 * Django admin and `manage.py flowdeck_token` did before (issue 17, item 7). Secrets the server
 * issues (a one-time password, a set-password link) are shown once, with a copy button.
 */
import { Stack, Tabs } from "@mantine/core";
import { IconUsers, IconUsersGroup } from "@tabler/icons-react";
import { useLocation, useNavigate } from "react-router";

import { PageHeader } from "../ui/PageHeader";
import { GroupsTab } from "./people/GroupsTab";
import { UsersTab } from "./people/UsersTab";

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
