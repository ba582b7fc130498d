/** The app's sections: the navigation, the command palette and the tests read this list. */
import {
  type Icon,
  IconChartBar,
  IconInbox,
  IconKey,
  IconPlayerPlay,
  IconSitemap,
  IconUsers,
} from "@tabler/icons-react";

export type NavSection = {
  path: string;
  label: string;
  icon: Icon;
  /** One line for the command palette. */
  description: string;
  /** Shown to staff only (the server checks too). */
  staffOnly?: boolean;
};

export const SECTIONS: NavSection[] = [
  { path: "/workflows", label: "Workflows", icon: IconSitemap, description: "Build, version and run workflows" },
  { path: "/runs", label: "Runs", icon: IconPlayerPlay, description: "Every run, live: filter, retry, cancel" },
  { path: "/inbox", label: "Inbox", icon: IconInbox, description: "Approvals and forms waiting for you" },
  { path: "/dashboard", label: "Dashboard", icon: IconChartBar, description: "Throughput, durations, failures, alerts" },
  { path: "/credentials", label: "Credentials", icon: IconKey, description: "Secrets the steps use, sealed" },
  {
    path: "/people",
    label: "People",
    icon: IconUsers,
    description: "Users, groups and how they log in",
    staffOnly: true,
  },
];

/** The sections a user sees. */
export function sectionsFor(staff: boolean): NavSection[] {
  return SECTIONS.filter((s) => staff || !s.staffOnly);
}
