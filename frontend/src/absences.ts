/**
 * Out of office: the user's absences (GET/POST /api/account/absences/, DELETE …/{id}/). While
 * one lasts, tasks assigned to the user by name go to its deputy. One query key, shared by the
 * account page (the list) and the inbox (the banner).
 */
import { useMutation, useQuery } from "@tanstack/react-query";

import { api } from "./api";
import { keys, queryClient } from "./query";

export type Absence = {
  id: number;
  user: string;
  starts_at: string;
  ends_at: string;
  deputy: string;
  note: string;
  current: boolean;
  created_at: string;
};

export type NewAbsence = { starts_at: string; ends_at: string; deputy: string; note: string };

export function useAbsences() {
  return useQuery({
    queryKey: keys.absences(),
    queryFn: () => api<Absence[]>("/api/account/absences/"),
    staleTime: 60_000,
  });
}

/** The absence lasting now, if any (the list holds current and planned ones). */
export function currentAbsence(absences: Absence[] | undefined, now: number = Date.now()): Absence | null {
  return (
    (absences ?? []).find(
      (a) => new Date(a.starts_at).getTime() <= now && now < new Date(a.ends_at).getTime(),
    ) ?? null
  );
}

function changed() {
  void queryClient.invalidateQueries({ queryKey: keys.absences() });
}

export function useCreateAbsence() {
  return useMutation({
    mutationFn: (body: NewAbsence) => api<Absence>("/api/account/absences/", { method: "POST", body }),
    onSuccess: changed,
  });
}

export function useDeleteAbsence() {
  return useMutation({
    mutationFn: (id: number) => api<void>(`/api/account/absences/${id}/`, { method: "DELETE" }),
    onSuccess: changed,
  });
}

/** "Wed 24 Dec, 17:00", in the user's time zone. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}
