/**
 * The command palette (Ctrl+K / Cmd+K, or the search button in the header): go to a page, a
 * workflow or a run, create a workflow, and whatever the page on screen offers (the designer
 * registers "add a step" commands with `usePageCommands`).
 */
import { useMantineColorScheme } from "@mantine/core";
import { Spotlight, type SpotlightActionData } from "@mantine/spotlight";
import { IconMoon, IconPlayerPlay, IconPlus, IconSearch, IconSitemap } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useNavigate } from "react-router";
import { create } from "zustand";

import { api } from "./api";
import type { NavSection } from "./nav";
import { keys } from "./query";

export type PageCommand = Omit<SpotlightActionData, "onClick"> & { onClick: () => void };

/** Commands offered by the pages on screen, by the id of the page that offers them. */
const usePageCommandStore = create<{ byPage: Record<string, PageCommand[]> }>()(() => ({ byPage: {} }));

/** Offer `commands` in the palette while the calling component is mounted. */
export function usePageCommands(page: string, commands: PageCommand[]): void {
  useEffect(() => {
    usePageCommandStore.setState((s) => ({ byPage: { ...s.byPage, [page]: commands } }));
    return () =>
      usePageCommandStore.setState((s) => {
        const byPage = { ...s.byPage };
        delete byPage[page];
        return { byPage };
      });
  }, [page, commands]);
}

type WorkflowRow = { id: number; name: string; description?: string };

export function CommandPalette({ sections }: { sections: NavSection[] }) {
  const navigate = useNavigate();
  const [query, setQuery] = useState("");
  const [opened, setOpened] = useState(false);
  const { toggleColorScheme } = useMantineColorScheme();
  const byPage = usePageCommandStore((s) => s.byPage);
  // The workflows are read when the palette first opens, not with every page.
  const workflows = useQuery({
    queryKey: keys.workflows({ page_size: 200, ordering: "name" }),
    queryFn: () => api<{ results: WorkflowRow[] }>("/api/workflows/?page_size=200&ordering=name"),
    enabled: opened,
  });

  const actions = useMemo(() => {
    const go: SpotlightActionData[] = sections.map((s) => ({
      id: `go:${s.path}`,
      label: `Go to ${s.label}`,
      description: s.description,
      leftSection: <s.icon size={18} stroke={1.6} />,
      onClick: () => navigate(s.path),
    }));
    const create: SpotlightActionData[] = [
      {
        id: "new-workflow",
        label: "New workflow",
        description: "Open an empty canvas",
        leftSection: <IconPlus size={18} stroke={1.6} />,
        onClick: () => navigate("/designer/new"),
      },
      {
        id: "color-scheme",
        label: "Switch light / dark",
        description: "Change the colour scheme of this browser",
        leftSection: <IconMoon size={18} stroke={1.6} />,
        onClick: toggleColorScheme,
      },
    ];
    const page = Object.values(byPage).flat();
    const flows: SpotlightActionData[] = (workflows.data?.results ?? []).map((w) => ({
      id: `workflow:${w.id}`,
      label: w.name,
      description: w.description || "Workflow",
      keywords: ["workflow", "open"],
      leftSection: <IconSitemap size={18} stroke={1.6} />,
      onClick: () => navigate(`/designer/${w.id}`),
    }));
    const runId = /^#?\s*(\d{1,12})$/.exec(query.trim())?.[1];
    const run: SpotlightActionData[] = runId
      ? [
          {
            id: `run:${runId}`,
            label: `Open run ${runId}`,
            description: "The run view: its graph, steps and events",
            keywords: [query],
            leftSection: <IconPlayerPlay size={18} stroke={1.6} />,
            onClick: () => navigate(`/runs/${runId}`),
          },
        ]
      : [];
    return [
      ...(run.length ? [{ group: "Runs", actions: run }] : []),
      ...(page.length ? [{ group: "This page", actions: page }] : []),
      { group: "Create", actions: create },
      { group: "Pages", actions: go },
      ...(flows.length ? [{ group: "Workflows", actions: flows }] : []),
    ];
  }, [sections, navigate, toggleColorScheme, byPage, workflows.data, query]);

  return (
    <Spotlight
      actions={actions}
      query={query}
      onQueryChange={setQuery}
      onSpotlightOpen={() => setOpened(true)}
      shortcut={["mod + K"]}
      highlightQuery
      limit={40}
      nothingFound="Nothing found: try a workflow's name or a run's number"
      scrollable
      maxHeight={420}
      searchProps={{
        leftSection: <IconSearch size={18} stroke={1.6} />,
        placeholder: "Go to a workflow, a run (#42), a page, or an action…",
        "aria-label": "Command",
      }}
    />
  );
}
