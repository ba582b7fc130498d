import "./workflows.css";

import { type ChangeEvent, useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";

import { ApiError, api } from "../api";

type LastRun = { id: number; status: string; created_at: string };

type WorkflowRow = {
  id: number;
  name: string;
  description: string;
  owner: string;
  archived: boolean;
  latest_version: number;
  role: string | null;
  last_run: LastRun | null;
  updated_at: string;
};

type WorkflowDetail = WorkflowRow & { version: { number: number; graph: unknown } };

type Page = { count: number; results: WorkflowRow[] };

// The server's ORDERINGS (designer/views.py), in the words of the sort menu.
const ORDERINGS = [
  { value: "-updated_at", label: "Recently updated" },
  { value: "updated_at", label: "Least recently updated" },
  { value: "name", label: "Name A–Z" },
  { value: "-name", label: "Name Z–A" },
  { value: "-created_at", label: "Recently created" },
  { value: "created_at", label: "Oldest first" },
] as const;

const NAME_LIMIT = 200; // WorkflowCreateSerializer.name

function errorText(e: unknown): string {
  return e instanceof ApiError && e.errors.length ? e.errors.map((x) => x.message).join("; ") : (e as Error).message;
}

/** The workflows the user may see: search, sort, filter by owner, open, create, import,
 * duplicate, export, archive; each with its last run. */
export function WorkflowsPage() {
  const [rows, setRows] = useState<WorkflowRow[] | null>(null);
  const [search, setSearch] = useState("");
  const [ordering, setOrdering] = useState<string>("-updated_at");
  const [owner, setOwner] = useState<"anyone" | "me">("anyone");
  const [me, setMe] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const [duplicating, setDuplicating] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const navigate = useNavigate();

  useEffect(() => {
    api<{ username: string }>("/api/me/")
      .then((user) => setMe(user.username))
      .catch((e: Error) => setMessage(e.message));
  }, []);

  useEffect(() => {
    const params = new URLSearchParams({ ordering, page_size: "100" });
    if (search.trim()) params.set("search", search.trim());
    if (owner === "me") {
      if (me === null) return;
      params.set("owner", me);
    }
    // Typing answers arrive out of order; only the newest request may fill the table.
    let current = true;
    api<Page>(`/api/workflows/?${params}`)
      .then((page) => {
        if (current) setRows(page.results);
      })
      .catch((e: Error) => {
        if (current) setMessage(e.message);
      });
    return () => {
      current = false;
    };
  }, [search, ordering, owner, me, reloads]);

  const archive = async (row: WorkflowRow) => {
    try {
      await api(`/api/workflows/${row.id}/`, { method: "DELETE" });
      setMessage(`Archived ${row.name}`);
      setReloads((n) => n + 1);
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  const duplicate = async (row: WorkflowRow) => {
    setDuplicating(row.id);
    try {
      // The list has no graphs; the copy is of the newest version.
      const source = await api<WorkflowDetail>(`/api/workflows/${row.id}/`);
      const created = await api<{ id: number }>("/api/workflows/", {
        method: "POST",
        body: {
          name: `Copy of ${source.name}`.slice(0, NAME_LIMIT),
          description: source.description,
          graph: source.version.graph,
          note: `Copied from ${source.name}, version ${source.version.number}`,
        },
      });
      navigate(`/designer/${created.id}`);
    } catch (e) {
      setMessage(`${row.name} was not duplicated: ${errorText(e)}`);
      setDuplicating(null);
    }
  };

  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    const text = await file.text();
    const yaml = /\.ya?ml$/i.test(file.name);
    try {
      const created = await api<{ id: number }>("/api/workflows/import/", {
        method: "POST",
        text,
        contentType: yaml ? "application/yaml" : "application/json",
      });
      navigate(`/designer/${created.id}`);
    } catch (e) {
      setMessage(`${file.name} was not imported: ${errorText(e)}`);
    }
  };

  const filtered = search.trim() !== "" || owner !== "anyone";
  return (
    <section className="page page-workflows" aria-labelledby="designer-title">
      <h1 id="designer-title">Workflows</h1>
      <div className="toolbar" role="toolbar" aria-label="Workflows">
        <input
          type="search"
          aria-label="Search workflows"
          placeholder="Search workflows"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <label className="workflows-filter">
          Sort
          <select value={ordering} onChange={(e) => setOrdering(e.target.value)}>
            {ORDERINGS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label className="workflows-filter">
          Owner
          {/* "Me" needs the username from /api/me/; until then only "Anyone" makes sense. */}
          <select
            value={owner}
            disabled={me === null}
            onChange={(e) => setOwner(e.target.value === "me" ? "me" : "anyone")}
          >
            <option value="anyone">Anyone</option>
            <option value="me">Me</option>
          </select>
        </label>
        <Link className="button" to="/designer/new">
          New workflow
        </Link>
        <label className="button">
          Import…
          <input type="file" accept=".json,.yaml,.yml" hidden aria-label="Import a workflow file" onChange={importFile} />
        </label>
      </div>
      {message && (
        <p role="status" aria-label="Notice" className="notice">
          {message}
        </p>
      )}
      <table aria-label="Workflows">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Owner</th>
            <th scope="col">Version</th>
            <th scope="col">Last run</th>
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((row) => (
            <tr key={row.id} data-id={row.id}>
              <th scope="row">
                <Link to={`/designer/${row.id}`}>{row.name}</Link>
              </th>
              <td>{row.owner}</td>
              <td>{row.latest_version}</td>
              <td>
                {row.last_run ? (
                  <>
                    <Link
                      to={`/runs/${row.last_run.id}`}
                      className={`run-status run-status-${row.last_run.status}`}
                      aria-label={`Last run of ${row.name}: ${row.last_run.status}`}
                    >
                      {row.last_run.status}
                    </Link>{" "}
                    <time className="workflows-when" dateTime={row.last_run.created_at}>
                      {new Date(row.last_run.created_at).toLocaleString()}
                    </time>
                  </>
                ) : (
                  <span className="workflows-when">Never run</span>
                )}
              </td>
              <td>
                <time dateTime={row.updated_at}>{new Date(row.updated_at).toLocaleString()}</time>
              </td>
              <td className="workflows-actions">
                <button
                  type="button"
                  onClick={() => duplicate(row)}
                  disabled={duplicating !== null}
                  aria-label={`Duplicate ${row.name}`}
                >
                  Duplicate
                </button>
                <a href={`/api/workflows/${row.id}/export/?format=json`} download aria-label={`Export ${row.name}`}>
                  Export
                </a>
                {row.role === "owner" && (
                  <button type="button" onClick={() => archive(row)} aria-label={`Archive ${row.name}`}>
                    Archive
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows !== null &&
        rows.length === 0 &&
        (filtered ? <p>No workflows match.</p> : <p>No workflows yet. Start with “New workflow”.</p>)}
    </section>
  );
}
