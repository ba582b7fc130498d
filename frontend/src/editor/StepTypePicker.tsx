/**
 * A searchable menu of step types (icon, title, description, by category): the "+" on an edge
 * and "Insert a step" in the connections panel pick the step to put between two steps with it.
 * Keyboard: type to filter, arrows to move, Enter to pick, Escape to close.
 */
import { Combobox, Group, ScrollArea, Text, useCombobox } from "@mantine/core";
import { IconSearch } from "@tabler/icons-react";
import { type ReactElement, cloneElement, useMemo, useState } from "react";

import { CATEGORIES, StepIcon, categoryLook } from "../steps/icons";
import type { StepTypeInfo } from "./graph";

export function matchesType(info: StepTypeInfo, query: string): boolean {
  const wanted = query.trim().toLowerCase();
  return !wanted || `${info.title} ${info.type} ${info.description}`.toLowerCase().includes(wanted);
}

const ORDER = Object.keys(CATEGORIES);

/** The types grouped by category: triggers first, then in the order of CATEGORIES (steps/icons). */
export function byCategory(types: StepTypeInfo[]): [string, StepTypeInfo[]][] {
  const groups = new Map<string, StepTypeInfo[]>();
  for (const info of types) groups.set(info.category, [...(groups.get(info.category) ?? []), info]);
  const rank = (category: string) => (ORDER.includes(category) ? ORDER.indexOf(category) : ORDER.length);
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b));
}

export function StepTypePicker({
  types,
  onPick,
  label,
  children,
  onOpenChange,
}: {
  types: StepTypeInfo[];
  onPick: (type: string) => void;
  /** The search box's accessible name. */
  label: string;
  /** The button that opens the menu (gets onClick). */
  children: ReactElement<{ onClick?: () => void }>;
  onOpenChange?: (open: boolean) => void;
}) {
  const [query, setQuery] = useState("");
  const combobox = useCombobox({
    onDropdownClose: () => {
      combobox.resetSelectedOption();
      setQuery("");
      onOpenChange?.(false);
    },
    onDropdownOpen: () => {
      combobox.focusSearchInput();
      onOpenChange?.(true);
    },
  });
  const groups = useMemo(() => byCategory(types.filter((t) => matchesType(t, query))), [types, query]);

  return (
    <Combobox
      store={combobox}
      width={320}
      position="bottom"
      withinPortal
      onOptionSubmit={(type) => {
        combobox.closeDropdown();
        onPick(type);
      }}
    >
      <Combobox.Target targetType="button">
        {cloneElement(children, { onClick: () => combobox.toggleDropdown() })}
      </Combobox.Target>
      <Combobox.Dropdown>
        <Combobox.Search
          value={query}
          onChange={(e) => setQuery(e.currentTarget.value)}
          placeholder="Search steps"
          aria-label={label}
          leftSection={<IconSearch size={16} />}
        />
        <Combobox.Options>
          <ScrollArea.Autosize mah={320} type="scroll">
            {groups.length === 0 && <Combobox.Empty>No step matches</Combobox.Empty>}
            {groups.map(([category, infos]) => (
              <Combobox.Group key={category} label={categoryLook(category).label}>
                {infos.map((info) => (
                  <Combobox.Option key={info.type} value={info.type} aria-label={info.title}>
                    <Group gap="sm" wrap="nowrap" align="flex-start">
                      <StepIcon type={info.type} category={info.category} size={28} />
                      <div style={{ minWidth: 0 }}>
                        <Text size="sm" fw={500}>
                          {info.title}
                        </Text>
                        <Text size="xs" c="dimmed" lineClamp={2}>
                          {info.description}
                        </Text>
                      </div>
                    </Group>
                  </Combobox.Option>
                ))}
              </Combobox.Group>
            ))}
          </ScrollArea.Autosize>
        </Combobox.Options>
      </Combobox.Dropdown>
    </Combobox>
  );
}
