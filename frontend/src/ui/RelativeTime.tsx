import { Text, type TextProps, Tooltip } from "@mantine/core";
import dayjs from "dayjs";
import relativeTime from "dayjs/plugin/relativeTime";
import { useSyncExternalStore } from "react";

import { serverNow } from "../clock";

dayjs.extend(relativeTime);

// One clock for every relative time on the page: a tick every 30 s re-renders them together.
// The server's clock (clock.ts): "due in 5 minutes" must not depend on the browser's.
let now = serverNow();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
function subscribe(listener: () => void) {
  listeners.add(listener);
  timer ??= setInterval(() => {
    now = serverNow();
    for (const l of listeners) l();
  }, 30_000);
  return () => {
    listeners.delete(listener);
    if (!listeners.size && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}
const getNow = () => now;

/** The exact local time, as the tooltip and screen readers give it. */
export function exactTime(value: string | number | Date): string {
  return dayjs(value).format("ddd D MMM YYYY, HH:mm:ss");
}

/** "3 minutes ago" / "in 2 hours", with the exact time on hover (STYLE: relative times with
 * the exact time on hover). `null` shows `empty` (a dash unless told, "Never" say), dimmed. */
export function RelativeTime({
  value,
  empty = "—",
  ...rest
}: { value: string | number | Date | null | undefined; empty?: string } & TextProps) {
  const current = useSyncExternalStore(subscribe, getNow);
  if (value === null || value === undefined || value === "") {
    return (
      <Text span c="dimmed" {...rest}>
        {empty}
      </Text>
    );
  }
  const when = dayjs(value);
  // A clock slightly ahead of the browser's must not say "in a few seconds" for what just happened.
  const text = Math.abs(when.diff(current)) < 45_000 ? "just now" : when.from(current);
  return (
    <Tooltip label={exactTime(value)}>
      <Text span component="time" dateTime={when.toISOString()} {...rest}>
        {text}
      </Text>
    </Tooltip>
  );
}
