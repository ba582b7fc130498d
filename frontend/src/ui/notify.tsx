/**
 * Toasts for saves, decisions and errors (issue 17). `notifyError` turns an API error into
 * words a person can act on: a 409 says what changed meanwhile, a 400 lists the fields, a 403
 * says who may.
 */
import { type NotificationData, notifications } from "@mantine/notifications";
import { IconAlertTriangle, IconCheck, IconX } from "@tabler/icons-react";
import type { ReactNode } from "react";

import { ApiError } from "../api";

/** Where a page wants its toasts when the default corner covers its own controls (the
 * designer's toolbar has Save and Run top right). */
export type ToastPlace = Pick<NotificationData, "position">;

export function notifySuccess(message: ReactNode, title?: ReactNode, place?: ToastPlace): void {
  notifications.show({ color: "teal", icon: <IconCheck size={18} />, title, message, autoClose: 4000, ...place });
}

/** What went wrong, for a person: the server's own message where it gave one. */
export function errorText(error: unknown): { title: string; message: string } {
  if (error instanceof ApiError) {
    const first = error.errors[0];
    const where = first ? [first.node, first.field].filter(Boolean).join(" · ") : "";
    const detail = first ? `${where ? `${where}: ` : ""}${first.message}` : error.message;
    const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more)` : "";
    switch (error.status) {
      case 400:
        return { title: "Please check the input", message: detail + more };
      case 401:
        return { title: "Signed out", message: "Your session ended: log in again to go on." };
      case 403:
        return { title: "Not allowed", message: first?.message ?? "You do not have permission to do this." };
      case 404:
        return { title: "Not found", message: first?.message ?? "It no longer exists, or you may not see it." };
      case 409:
        return {
          title: "Changed meanwhile",
          message: `${detail}. Someone or something acted first; the page now shows the latest state.`,
        };
      case 413:
        return { title: "Too large", message: detail };
      case 429:
        return { title: "Too many requests", message: "Wait a moment and try again." };
      default:
        return { title: `The server failed (${error.status})`, message: detail };
    }
  }
  if (error instanceof TypeError) {
    return { title: "No connection", message: "The server could not be reached; try again in a moment." };
  }
  return { title: "Something went wrong", message: error instanceof Error ? error.message : String(error) };
}

export function notifyError(error: unknown, context?: string, place?: ToastPlace): void {
  const { title, message } = errorText(error);
  const conflict = error instanceof ApiError && error.status === 409;
  notifications.show({
    color: conflict ? "yellow" : "red",
    icon: conflict ? <IconAlertTriangle size={18} /> : <IconX size={18} />,
    title: context ? `${context}: ${title.toLowerCase()}` : title,
    message,
    autoClose: conflict ? 8000 : 6000,
    ...place,
  });
}
