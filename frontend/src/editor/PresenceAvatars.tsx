/** In the toolbar: the other people who have this workflow open, live (editor/presence.ts). */
import { Avatar, Tooltip } from "@mantine/core";
import dayjs from "dayjs";

import { type PresentUser, initials, othersPresent, useMe, usePresent } from "./presence";
import { useEditor } from "./store";

const SHOWN = 3; // more than this is one "+N" avatar

function label(user: PresentUser): string {
  const name = user.display_name === user.username ? user.username : `${user.display_name} (${user.username})`;
  return `${name} has this workflow open, since ${dayjs(user.since).format("HH:mm")}`;
}

export function PresenceAvatars() {
  const id = useEditor((s) => s.meta.id);
  const me = useMe().data?.id;
  const others = othersPresent(usePresent(id), me);
  if (others.length === 0) return null;
  const shown = others.slice(0, SHOWN);
  const rest = others.slice(SHOWN);
  const names = others.map((u) => u.display_name).join(", ");
  return (
    <Tooltip.Group openDelay={150} closeDelay={80}>
      <Avatar.Group spacing={8} role="group" aria-label={`Also here: ${names}`} style={{ flex: "0 0 auto" }}>
        {shown.map((user) => (
          <Tooltip key={user.id} label={label(user)} withArrow>
            <Avatar
              size={30}
              radius="xl"
              color="initials"
              name={user.display_name}
              role="img"
              aria-label={user.display_name}
              data-user={user.username}
            >
              {initials(user.display_name)}
            </Avatar>
          </Tooltip>
        ))}
        {rest.length > 0 && (
          <Tooltip label={rest.map(label).join("\n")} multiline w={260} withArrow>
            <Avatar size={30} radius="xl" role="img" aria-label={`${rest.length} more`}>
              +{rest.length}
            </Avatar>
          </Tooltip>
        )}
      </Avatar.Group>
    </Tooltip.Group>
  );
}
