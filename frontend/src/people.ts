/**
 * People and access (the People page, the user's API tokens page): the API's shapes and the
 * queries and changes over them. Every change invalidates what it may have changed: a user's
 * groups show in the groups' member counts, a deactivation revokes tokens.
 */
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";

import { api } from "./api";
import { keys, queryClient, queryString } from "./query";

export type PasswordStatus = "usable" | "must_change" | "unset";
export type PasswordSetup = "one_time" | "link";

export type Person = {
  id: number;
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  is_staff: boolean;
  is_superuser: boolean;
  is_active: boolean;
  groups: string[];
  last_login: string | null;
  date_joined: string;
  password_status: PasswordStatus;
};

/** A way in, shown once: a one-time password, or a set-password link. */
export type Access = {
  password_setup: PasswordSetup;
  one_time_password: string | null;
  set_password_link: string | null;
  link_expires_at: string | null;
};

export type GroupRow = { id: number; name: string; member_count: number };
export type Member = { id: number; username: string; first_name: string; last_name: string; is_active: boolean };
export type GroupDetail = GroupRow & { members: Member[]; named_by: { id: number; name: string }[] };

export type ApiToken = {
  id: number;
  name: string;
  prefix: string;
  user: string;
  created_at: string;
  last_used_at: string | null;
};
export type NewToken = ApiToken & { key: string };

export type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };

export type UserQuery = {
  search?: string;
  active?: "true" | "false";
  ordering?: string;
  page?: number;
  page_size?: number;
};

export function fullName(person: Pick<Person, "first_name" | "last_name">): string {
  return [person.first_name, person.last_name].filter(Boolean).join(" ");
}

export function useUsers(params: UserQuery) {
  return useQuery({
    queryKey: keys.users(params),
    queryFn: () => api<Page<Person>>(`/api/users/${queryString(params)}`),
    // Paging, sorting or typing a search keeps the last page on screen until the next arrives.
    placeholderData: keepPreviousData,
  });
}

export function useGroups(enabled = true) {
  return useQuery({ queryKey: keys.groups(), queryFn: () => api<GroupRow[]>("/api/groups/"), enabled });
}

export function useGroup(id: number | null) {
  return useQuery({
    queryKey: keys.group(id ?? 0),
    queryFn: () => api<GroupDetail>(`/api/groups/${id}/`),
    enabled: id !== null,
  });
}

export function useTokens(params: { user?: string; all?: boolean } = {}) {
  return useQuery({
    queryKey: keys.tokens(params),
    queryFn: () => api<ApiToken[]>(`/api/tokens/${queryString(params)}`),
  });
}

/** After a change to people: users, groups (counts, members) and tokens may all show it. */
function peopleChanged(): Promise<unknown> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: ["users"] }),
    queryClient.invalidateQueries({ queryKey: ["groups"] }),
    queryClient.invalidateQueries({ queryKey: ["group"] }),
    queryClient.invalidateQueries({ queryKey: ["tokens"] }),
  ]);
}

export type NewPerson = {
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  is_staff: boolean;
  groups: string[];
  password_setup: PasswordSetup;
};

export function useCreateUser() {
  return useMutation({
    mutationFn: (body: NewPerson) =>
      api<{ user: Person; access: Access }>("/api/users/", { method: "POST", body }),
    onSuccess: peopleChanged,
  });
}

export type PersonChanges = Partial<Pick<Person, "first_name" | "last_name" | "email" | "is_staff" | "groups">>;

export function useUpdateUser() {
  return useMutation({
    mutationFn: ({ id, changes }: { id: number; changes: PersonChanges }) =>
      api<Person>(`/api/users/${id}/`, { method: "PATCH", body: changes }),
    onSuccess: peopleChanged,
  });
}

export function useSetActive() {
  return useMutation({
    mutationFn: ({ id, active }: { id: number; active: boolean }) =>
      api<Person>(`/api/users/${id}/${active ? "reactivate" : "deactivate"}/`, { method: "POST" }),
    onSuccess: peopleChanged,
  });
}

export function useIssuePassword() {
  return useMutation({
    mutationFn: ({ id, setup }: { id: number; setup: PasswordSetup }) =>
      api<Access>(`/api/users/${id}/password/`, { method: "POST", body: { password_setup: setup } }),
    onSuccess: peopleChanged,
  });
}

export function useCreateGroup() {
  return useMutation({
    mutationFn: (name: string) => api<GroupDetail>("/api/groups/", { method: "POST", body: { name } }),
    onSuccess: peopleChanged,
  });
}

export function useRenameGroup() {
  return useMutation({
    mutationFn: ({ id, name }: { id: number; name: string }) =>
      api<GroupDetail>(`/api/groups/${id}/`, { method: "PATCH", body: { name } }),
    onSuccess: peopleChanged,
  });
}

export function useDeleteGroup() {
  return useMutation({
    mutationFn: (id: number) => api(`/api/groups/${id}/`, { method: "DELETE" }),
    onSuccess: peopleChanged,
  });
}

export function useAddMembers() {
  return useMutation({
    mutationFn: ({ id, usernames }: { id: number; usernames: string[] }) =>
      api<GroupDetail>(`/api/groups/${id}/members/`, { method: "POST", body: { usernames } }),
    onSuccess: peopleChanged,
  });
}

export function useRemoveMember() {
  return useMutation({
    mutationFn: ({ id, userId }: { id: number; userId: number }) =>
      api(`/api/groups/${id}/members/${userId}/`, { method: "DELETE" }),
    onSuccess: peopleChanged,
  });
}

export function useCreateToken() {
  return useMutation({
    mutationFn: (name: string) => api<NewToken>("/api/tokens/", { method: "POST", body: { name } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["tokens"] }),
  });
}

export function useRevokeToken() {
  return useMutation({
    mutationFn: (id: number) => api(`/api/tokens/${id}/`, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["tokens"] }),
  });
}

/** The server's message for one field of a 400, for the form field it names. */
export function fieldError(error: unknown, field: string): string | undefined {
  const errors = (error as { errors?: { field: string | null; message: string }[] } | null)?.errors;
  const found = errors?.filter((e) => e.field === field || e.field?.startsWith(`${field}.`));
  return found?.length ? found.map((e) => e.message).join(" ") : undefined;
}
