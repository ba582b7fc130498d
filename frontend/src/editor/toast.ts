/** The editor's toasts, at the bottom of the screen: at the top right they would cover the
 * toolbar's Save and Run. */
import type { ReactNode } from "react";

import { type ToastPlace, notifyError, notifySuccess } from "../ui/notify";

const PLACE: ToastPlace = { position: "bottom-center" };

export function toastOk(message: ReactNode, title?: ReactNode): void {
  notifySuccess(message, title, PLACE);
}

export function toastError(error: unknown, context?: string): void {
  notifyError(error, context, PLACE);
}
