/**
 * Credentials as the browser sees them (GET /api/credentials/): the public fields and the names
 * of the secret fields that are set, never a secret's value. The pure rules the Credentials
 * page and the designer's credential fields share: a form from a kind's field schemas, the
 * request body from that form, the server's field errors by field, a field's choices.
 */
import { useQuery } from "@tanstack/react-query";

import { type ApiErrorItem, api } from "./api";
import { keys } from "./query";

type Schema = Record<string, unknown>;

export type Role = "viewer" | "runner" | "editor" | "owner";
export const ROLES: Role[] = ["viewer", "runner", "editor", "owner"];

export type Credential = {
  id: number;
  name: string;
  kind: string;
  description: string;
  owner: string;
  role: Role | null;
  data: Record<string, unknown>;
  secret_fields: string[];
  created_at: string;
  updated_at: string;
};

/** One kind as GET /api/credentials/kinds/ describes it. */
export type KindInfo = {
  kind: string;
  title: string;
  public: Record<string, Schema>;
  secret: Record<string, Schema>;
  required: string[];
};

export type Grant = { id: number; user: string | null; group: string | null; role: Role; created_at: string };

/** Whether ``role`` reaches ``needed`` (viewer < runner < editor < owner). */
export function atLeast(role: Role | null, needed: Role): boolean {
  return role !== null && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export type KindField = {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  input: "text" | "number" | "email" | "password" | "select";
  options?: string[];
  min?: number;
  max?: number;
  maxLength?: number;
};

// Field names whose plain wording would not say enough.
const LABELS: Record<string, string> = {
  in: "Sent in",
  from_email: "From address",
};

function labelOf(name: string, schema: Schema): string {
  if (typeof schema.title === "string") return schema.title;
  if (LABELS[name]) return LABELS[name];
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The form fields of a kind: its public fields, then its secret ones (always password inputs). */
export function kindFields(kind: KindInfo): KindField[] {
  const field = (name: string, schema: Schema, secret: boolean): KindField => {
    const out: KindField = {
      name,
      label: labelOf(name, schema),
      secret,
      required: kind.required.includes(name),
      input: "text",
    };
    if (typeof schema.maxLength === "number") out.maxLength = schema.maxLength;
    if (secret) return { ...out, input: "password" };
    if (Array.isArray(schema.enum)) return { ...out, input: "select", options: schema.enum.map(String) };
    if (schema.type === "integer" || schema.type === "number") {
      const number: KindField = { ...out, input: "number" };
      if (typeof schema.minimum === "number") number.min = schema.minimum;
      if (typeof schema.maximum === "number") number.max = schema.maximum;
      return number;
    }
    if (schema.format === "email") return { ...out, input: "email" };
    return out;
  };
  return [
    ...Object.entries(kind.public).map(([name, schema]) => field(name, schema, false)),
    ...Object.entries(kind.secret).map(([name, schema]) => field(name, schema, true)),
  ];
}

/** The form's starting values: a credential's public fields as text, every secret empty (the
 * browser never has them). */
export function initialValues(fields: KindField[], credential?: Credential): Record<string, string> {
  const values: Record<string, string> = {};
  for (const f of fields) {
    const current = f.secret ? undefined : credential?.data[f.name];
    values[f.name] = current === undefined || current === null ? "" : String(current);
  }
  return values;
}

/**
 * The ``data`` of a create or change request. Numbers are sent as numbers (text that is not one
 * is sent as it is, for the server to name the field). An empty secret is left out: on a change
 * the server keeps the stored value. An empty public field is left out too, except a text field
 * that had a value, which is sent empty to clear it (the server keeps omitted fields).
 */
export function credentialData(
  fields: KindField[],
  values: Record<string, string>,
  credential?: Credential,
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const f of fields) {
    const value = values[f.name] ?? "";
    if (value === "") {
      const had = credential !== undefined && !f.secret && credential.data[f.name] !== undefined;
      if (had && f.input !== "number") data[f.name] = "";
      continue;
    }
    if (f.input === "number") {
      const number = Number(value);
      data[f.name] = value.trim() !== "" && Number.isFinite(number) ? number : value;
    } else {
      data[f.name] = value;
    }
  }
  return data;
}

/** The server's errors by the field they name (``data.token`` → ``token``); the rest, and
 * those naming no field shown, under ``""``. */
export function errorsByField(errors: ApiErrorItem[], shown: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const error of errors) {
    const field = error.field?.startsWith("data.") ? error.field.slice("data.".length) : (error.field ?? "");
    const key = shown.includes(field) ? field : "";
    const message = key === "" && error.field ? `${error.field}: ${error.message}` : error.message;
    (out[key] ??= []).push(message);
  }
  return out;
}

/** A credential's public fields in words: "username: svc, host: mail.example.com". */
export function publicSummary(credential: Credential): string {
  const entries = Object.entries(credential.data);
  return entries.length ? entries.map(([k, v]) => `${k}: ${String(v)}`).join(", ") : "—";
}

/** Each secret field of the kind (or, while the kinds load, each that is set) and whether
 * it is set; never its value. */
export function secretStates(credential: Credential, kind: KindInfo | undefined): { name: string; set: boolean }[] {
  const names = kind ? Object.keys(kind.secret) : credential.secret_fields;
  return names.map((name) => ({ name, set: credential.secret_fields.includes(name) }));
}

/** Each secret field of the kind and whether it is set: "token: set", "password: not set". */
export function secretSummary(credential: Credential, kind: KindInfo | undefined): string {
  const states = secretStates(credential, kind);
  if (states.length === 0) return "—";
  return states.map((s) => `${s.name}: ${s.set ? "set" : "not set"}`).join(", ");
}

// --- The designer's credential fields -------------------------------------------------------

/** The rjsf widget name the credential select is registered under. */
export const CREDENTIAL_WIDGET = "credential";

/** The uiSchema putting the credential select on each of a step type's credential fields
 * (catalog ``credential_fields``: a dotted config path → the kinds it accepts). */
export function credentialUiSchema(fields: Record<string, string[]> | undefined): Record<string, unknown> {
  const ui: Record<string, unknown> = {};
  for (const [path, kinds] of Object.entries(fields ?? {})) {
    const parts = path.split(".");
    let at = ui;
    for (const part of parts.slice(0, -1)) {
      at[part] ??= {};
      at = at[part] as Record<string, unknown>;
    }
    at[parts[parts.length - 1]] = { "ui:widget": CREDENTIAL_WIDGET, "ui:options": { kinds } };
  }
  return ui;
}

export type CredentialChoices = {
  options: { value: string; label: string }[];
  /** The field names a credential that is not among those the user may use of these kinds
   * (an imported graph, a revoked grant, a deleted credential). */
  unknown: string | null;
};

/** The choices of a credential field: the usable credentials of the accepted kinds, by name;
 * a current name outside them stays a choice (the select must show it) and is flagged.
 * ``usable`` is null while loading: nothing is flagged then. */
export function credentialChoices(usable: Credential[] | null, kinds: string[], current: unknown): CredentialChoices {
  const fitting = (usable ?? [])
    .filter((c) => kinds.includes(c.kind))
    .sort((a, b) => a.name.localeCompare(b.name));
  const options = fitting.map((c) => ({ value: c.name, label: `${c.name} (${c.kind})` }));
  const name = typeof current === "string" && current !== "" ? current : null;
  if (name === null || fitting.some((c) => c.name === name)) return { options, unknown: null };
  if (usable === null) return { options: [{ value: name, label: name }, ...options], unknown: null };
  return { options: [{ value: name, label: `${name} (not available)` }, ...options], unknown: name };
}

/** The credentials the user may name in workflows; read again when the window regains focus
 * (the user may have created one in another tab). The credentials page's changes invalidate
 * it (every ``["credentials", ...]`` query). */
export function useUsableCredentials(): { usable: Credential[] | null; error: string | null } {
  const query = useQuery({
    queryKey: keys.credentials({ usable: true }),
    queryFn: () => api<Credential[]>("/api/credentials/?usable=true"),
    refetchOnWindowFocus: "always",
  });
  return { usable: query.data ?? null, error: query.error ? query.error.message : null };
}
