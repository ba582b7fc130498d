/**
 * The credentials the user has a role on (GET /api/credentials/): create one from its kind's
 * fields, change it (editor), delete and share it (owner). Secrets are write-only: the form's
 * secret fields start empty, and an empty one keeps the stored value. The server checks every
 * field; its 400 errors are shown under the fields they name.
 */
import "./credentials.css";

import { type FormEvent, useCallback, useEffect, useId, useMemo, useState } from "react";
import { useSearchParams } from "react-router";

import { ApiError, api } from "../api";
import {
  type Credential,
  type Grant,
  type KindInfo,
  ROLES,
  type Role,
  atLeast,
  credentialData,
  errorsByField,
  initialValues,
  kindFields,
  publicSummary,
  secretSummary,
} from "../credentials";

type Errors = Record<string, string[]>;

function failure(e: unknown, shown: string[]): Errors {
  if (e instanceof ApiError && e.errors.length) return errorsByField(e.errors, shown);
  return { "": [(e as Error).message] };
}

/** A field's errors, under it; ``id`` is what the control's aria-describedby names. */
function FieldErrors({ id, errors }: { id: string; errors: string[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <small id={id} role="alert" className="field-error">
      {errors.join(" ")}
    </small>
  );
}

/** A label, and a mark beside it (outside it, so the field's name stays the label's words)
 * when the field is required; screen readers hear the input's ``required`` instead. */
function RequiredLabel({ htmlFor, text, required }: { htmlFor: string; text: string; required: boolean }) {
  return (
    <span className="label-row">
      <label htmlFor={htmlFor}>{text}</label>
      {required && (
        <span className="required-mark" aria-hidden="true" title="required">
          *
        </span>
      )}
    </span>
  );
}

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  const list = ids.filter(Boolean);
  return list.length ? list.join(" ") : undefined;
}

/** Create a credential (no ``credential``) or change one. */
function CredentialForm({
  kinds,
  credential,
  initialKind,
  onSaved,
  onCancel,
}: {
  kinds: KindInfo[];
  credential?: Credential;
  initialKind?: string;
  onSaved: (saved: Credential) => void;
  onCancel: () => void;
}) {
  const uid = useId();
  const [kind, setKind] = useState(credential?.kind ?? initialKind ?? kinds[0]?.kind ?? "");
  const info = kinds.find((k) => k.kind === kind);
  const fields = useMemo(() => (info ? kindFields(info) : []), [info]);
  const [name, setName] = useState(credential?.name ?? "");
  const [description, setDescription] = useState(credential?.description ?? "");
  const [values, setValues] = useState(() => initialValues(fields, credential));
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const chooseKind = (next: string) => {
    setKind(next);
    const nextInfo = kinds.find((k) => k.kind === next);
    setValues(nextInfo ? initialValues(kindFields(nextInfo)) : {});
    setErrors({});
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const data = credentialData(fields, values, credential);
    try {
      const saved = credential
        ? await api<Credential>(`/api/credentials/${credential.id}/`, {
            method: "PATCH",
            body: { name: name.trim(), description, data },
          })
        : await api<Credential>("/api/credentials/", {
            method: "POST",
            body: { name: name.trim(), kind, description, data },
          });
      // Forget the typed secrets at once: nothing keeps them after the save.
      setValues(initialValues(fields, saved));
      onSaved(saved);
    } catch (e) {
      setErrors(failure(e, ["name", "kind", "description", ...fields.map((f) => f.name)]));
    } finally {
      setBusy(false);
    }
  };

  const id = (field: string, part = "") => `${uid}-${field}${part}`;
  const title = credential ? `Edit ${credential.name}` : "New credential";
  return (
    <form className="credential-form" aria-label={title} onSubmit={(e) => void submit(e)} noValidate>
      <h2>{title}</h2>
      <RequiredLabel htmlFor={id("name")} text="Name" required />
      <input
        id={id("name")}
        value={name}
        required
        maxLength={128}
        aria-invalid={Boolean(errors.name)}
        aria-describedby={describedBy(id("name", "-help"), errors.name && id("name", "-error"))}
        onChange={(e) => setName(e.target.value)}
      />
      <small id={id("name", "-help")} className="help">
        Workflows name it: letters, digits, “_”, “.” and “-”.
      </small>
      <FieldErrors id={id("name", "-error")} errors={errors.name} />
      {credential ? (
        <p className="credential-kind">
          Kind: <strong>{info?.title ?? kind}</strong>
        </p>
      ) : (
        <>
          <label>
            Kind
            <select
              value={kind}
              aria-invalid={Boolean(errors.kind)}
              aria-describedby={describedBy(errors.kind && id("kind", "-error"))}
              onChange={(e) => chooseKind(e.target.value)}
            >
              {kinds.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.title}
                </option>
              ))}
            </select>
          </label>
          <FieldErrors id={id("kind", "-error")} errors={errors.kind} />
        </>
      )}
      <label>
        Description
        <textarea
          value={description}
          rows={2}
          maxLength={2000}
          aria-invalid={Boolean(errors.description)}
          aria-describedby={describedBy(errors.description && id("description", "-error"))}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <FieldErrors id={id("description", "-error")} errors={errors.description} />
      {fields.length > 0 && (
        <fieldset>
          <legend>{info?.title ?? kind}</legend>
          {fields.map((f) => {
            const set = credential?.secret_fields.includes(f.name) ?? false;
            const help = !f.secret
              ? null
              : credential
                ? set
                  ? "set — leave empty to keep"
                  : "not set"
                : "secret: never shown again once saved";
            const control = {
              id: id(f.name),
              value: values[f.name] ?? "",
              required: f.required,
              "aria-invalid": Boolean(errors[f.name]),
              "aria-describedby": describedBy(help !== null && id(f.name, "-help"), errors[f.name] && id(f.name, "-error")),
            };
            const change = (value: string) => setValues((v) => ({ ...v, [f.name]: value }));
            return (
              <div key={`${kind}-${f.name}`} className="credential-field">
                <RequiredLabel htmlFor={control.id} text={f.label} required={f.required} />
                {f.input === "select" ? (
                  <select {...control} onChange={(e) => change(e.target.value)}>
                    {/* An optional choice may stay unset; a required one starts unset too, so
                        the user picks it on purpose. */}
                    <option value="">—</option>
                    {f.options?.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    {...control}
                    type={f.input}
                    min={f.min}
                    max={f.max}
                    maxLength={f.maxLength}
                    // Never offer to fill a secret from the browser's saved passwords.
                    autoComplete={f.secret ? "new-password" : "off"}
                    placeholder={help === "set — leave empty to keep" ? "••••••" : undefined}
                    onChange={(e) => change(e.target.value)}
                  />
                )}
                {help && (
                  <small id={id(f.name, "-help")} className="help">
                    {help}
                  </small>
                )}
                <FieldErrors id={id(f.name, "-error")} errors={errors[f.name]} />
              </div>
            );
          })}
        </fieldset>
      )}
      <FieldErrors id={id("form", "-error")} errors={errors[""]} />
      <div className="credential-buttons">
        <button type="submit" disabled={busy}>
          {credential ? "Save changes" : "Create credential"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Who has which role on a credential, and the owner's controls to give and take roles. */
function SharingPanel({ credential, onClose }: { credential: Credential; onClose: () => void }) {
  const uid = useId();
  const [grants, setGrants] = useState<Grant[] | null>(null);
  const [to, setTo] = useState<"user" | "group">("user");
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("runner");
  const [errors, setErrors] = useState<Errors>({});

  const read = useCallback(async () => {
    try {
      setGrants(await api<Grant[]>(`/api/credentials/${credential.id}/grants/`));
    } catch (e) {
      setErrors(failure(e, []));
    }
  }, [credential.id]);
  useEffect(() => {
    void read();
  }, [read]);

  const share = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api(`/api/credentials/${credential.id}/grants/`, { method: "POST", body: { [to]: who.trim(), role } });
      setWho("");
      setErrors({});
      await read();
    } catch (e) {
      setErrors(failure(e, ["user", "group", "role"]));
    }
  };

  const revoke = async (grant: Grant) => {
    try {
      await api(`/api/credentials/${credential.id}/grants/${grant.id}/`, { method: "DELETE" });
      setErrors({});
      await read();
    } catch (e) {
      setErrors(failure(e, []));
    }
  };

  const whoErrors = errors[to];
  const holder = (g: Grant) => (g.user ? `user ${g.user}` : `group ${g.group}`);
  return (
    <section className="credential-sharing" aria-label={`Sharing of ${credential.name}`}>
      <h2>Sharing of {credential.name}</h2>
      <ul aria-label="Roles">
        <li>
          user {credential.owner}: owner <span className="help">(its creator)</span>
        </li>
        {grants?.map((g) => (
          <li key={g.id}>
            {holder(g)}: {g.role}{" "}
            <button type="button" onClick={() => void revoke(g)} aria-label={`Revoke the role of ${holder(g)}`}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <form aria-label={`Share ${credential.name}`} onSubmit={(e) => void share(e)} noValidate>
        <label>
          Share with
          <select value={to} onChange={(e) => setTo(e.target.value === "group" ? "group" : "user")}>
            <option value="user">a user</option>
            <option value="group">a group</option>
          </select>
        </label>
        <label>
          {to === "user" ? "User name" : "Group name"}
          <input
            value={who}
            required
            aria-invalid={Boolean(whoErrors)}
            aria-describedby={describedBy(whoErrors && `${uid}-who-error`)}
            onChange={(e) => setWho(e.target.value)}
          />
        </label>
        <label>
          Role
          <select
            value={role}
            aria-describedby={`${uid}-role-help`}
            onChange={(e) => setRole(e.target.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!who.trim()}>
          Share
        </button>
        <small id={`${uid}-role-help`} className="help">
          viewer: sees it; runner: uses it in workflows; editor: changes it; owner: also deletes and shares it.
        </small>
        <FieldErrors id={`${uid}-who-error`} errors={whoErrors} />
        <FieldErrors id={`${uid}-role-error`} errors={errors.role} />
        <FieldErrors id={`${uid}-error`} errors={errors[""]} />
      </form>
      <button type="button" onClick={onClose}>
        Close sharing
      </button>
    </section>
  );
}

type Panel = { mode: "create"; kind?: string } | { mode: "edit"; id: number } | { mode: "share"; id: number } | null;

export function CredentialsPage() {
  const [rows, setRows] = useState<Credential[] | null>(null);
  const [kinds, setKinds] = useState<KindInfo[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Credential | null>(null);
  const [params, setParams] = useSearchParams();
  // ``?new=<kind>`` (the designer's link) opens the form for that kind.
  const [panel, setPanel] = useState<Panel>(() => (params.get("new") !== null ? { mode: "create", kind: params.get("new") || undefined } : null));

  const read = useCallback(async () => {
    try {
      setRows(await api<Credential[]>("/api/credentials/"));
    } catch (e) {
      setNotice((e as Error).message);
    }
  }, []);
  useEffect(() => {
    void read();
    api<KindInfo[]>("/api/credentials/kinds/")
      .then(setKinds)
      .catch((e: Error) => setNotice(e.message));
  }, [read]);

  useEffect(() => {
    // Read once: a reload after the form was closed must not open it again.
    if (params.has("new")) setParams({}, { replace: true });
  }, [params, setParams]);

  const open = (next: Panel) => {
    setPanel(next);
    setNotice(null);
  };

  const saved = async (credential: Credential, created: boolean) => {
    setPanel(null);
    setNotice(created ? `Created ${credential.name}` : `Saved ${credential.name}`);
    await read();
  };

  const remove = async (credential: Credential) => {
    setDeleting(null);
    try {
      await api(`/api/credentials/${credential.id}/`, { method: "DELETE" });
      if (panel && panel.mode !== "create" && panel.id === credential.id) setPanel(null);
      setNotice(`Deleted ${credential.name}`);
      await read();
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  const kindOf = (kind: string) => kinds.find((k) => k.kind === kind);
  const current = panel && panel.mode !== "create" ? rows?.find((r) => r.id === panel.id) : undefined;
  return (
    <section className="page page-credentials" aria-labelledby="credentials-title">
      <h1 id="credentials-title">Credentials</h1>
      <p className="help">
        Named secrets that workflow steps use by name: tokens, passwords, API keys, SMTP servers. A secret is
        write-only: once saved it is never shown again, only whether it is set.
      </p>
      <div className="toolbar" role="toolbar" aria-label="Credentials">
        <button type="button" onClick={() => open({ mode: "create" })} disabled={kinds.length === 0}>
          New credential
        </button>
      </div>
      {notice && (
        <p role="status" aria-label="Notice" className="notice">
          {notice}
        </p>
      )}
      {panel?.mode === "create" && kinds.length > 0 && (
        <CredentialForm
          kinds={kinds}
          initialKind={kinds.some((k) => k.kind === panel.kind) ? panel.kind : undefined}
          onSaved={(c) => void saved(c, true)}
          onCancel={() => setPanel(null)}
        />
      )}
      {panel?.mode === "edit" && current && kinds.length > 0 && (
        <CredentialForm
          key={current.id}
          kinds={kinds}
          credential={current}
          onSaved={(c) => void saved(c, false)}
          onCancel={() => setPanel(null)}
        />
      )}
      {panel?.mode === "share" && current && (
        <SharingPanel key={current.id} credential={current} onClose={() => setPanel(null)} />
      )}
      <table aria-label="Credentials">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Owner</th>
            <th scope="col">Your role</th>
            <th scope="col">Public fields</th>
            <th scope="col">Secrets</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((row) => (
            <tr key={row.id} data-id={row.id}>
              <th scope="row">
                {row.name}
                {row.description && <div className="credential-description">{row.description}</div>}
              </th>
              <td>{kindOf(row.kind)?.title ?? row.kind}</td>
              <td>{row.owner}</td>
              <td aria-label={`Your role on ${row.name}`}>{row.role}</td>
              <td>{publicSummary(row)}</td>
              <td aria-label={`Secrets of ${row.name}`}>{secretSummary(row, kindOf(row.kind))}</td>
              <td className="credential-actions">
                {atLeast(row.role, "editor") && (
                  <button type="button" onClick={() => open({ mode: "edit", id: row.id })} aria-label={`Edit ${row.name}`}>
                    Edit
                  </button>
                )}
                {atLeast(row.role, "owner") && (
                  <>
                    <button type="button" onClick={() => open({ mode: "share", id: row.id })} aria-label={`Share ${row.name}`}>
                      Share
                    </button>
                    <button type="button" onClick={() => setDeleting(row)} aria-label={`Delete ${row.name}`}>
                      Delete
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows !== null && rows.length === 0 && <p>No credentials yet. Start with “New credential”.</p>}
      {deleting && (
        <div className="dialog-backdrop">
          <div
            role="alertdialog"
            aria-modal="true"
            aria-label={`Delete ${deleting.name}`}
            className="dialog"
            onKeyDown={(e) => {
              if (e.key === "Escape") setDeleting(null);
            }}
          >
            <p>
              Delete the credential {deleting.name}? Workflows that name it fail at their next use of it. This cannot be
              undone.
            </p>
            <button type="button" onClick={() => setDeleting(null)} autoFocus>
              Keep it
            </button>
            <button type="button" className="danger" onClick={() => void remove(deleting)}>
              Delete
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
