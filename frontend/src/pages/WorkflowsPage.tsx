import { type ChangeEvent, useCallback, useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";

import { ApiError, api } from "../api";

type WorkflowRow = {
  id: number;
  name: string;
  description: string;
  owner: string;
  archived: boolean;
  latest_version: number;
  role: string | null;
  updated_at: string;
};

type Page = { count: number; results: WorkflowRow[] };

/** The workflows the user may see: search, open, create, import, export, archive. */
export function WorkflowsPage() {
  const [rows, setRows] = useState<WorkflowRow[] | null>(null);
  const [search, setSearch] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const navigate = useNavigate();

  const refresh = useCallback(async (query: string) => {
    const params = new URLSearchParams({ ordering: "-updated_at", page_size: "100" });
    if (query.trim()) params.set("search", query.trim());
    const page = await api<Page>(`/api/workflows/?${params}`);
    setRows(page.results);
  }, []);

  useEffect(() => {
    refresh(search).catch((e: Error) => setMessage(e.message));
  }, [refresh, search]);

  const archive = async (row: WorkflowRow) => {
    try {
      await api(`/api/workflows/${row.id}/`, { method: "DELETE" });
      setMessage(`Archived ${row.name}`);
      await refresh(search);
    } catch (e) {
      setMessage((e as Error).message);
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
      const errors = e instanceof ApiError ? e.errors.map((x) => x.message).join("; ") : (e as Error).message;
      setMessage(`${file.name} was not imported: ${errors}`);
    }
  };

  return (
    <section className="page page-workflows" aria-labelledby="designer-title">
      <h1 id="designer-title">Designer</h1>
      <div className="toolbar" role="toolbar" aria-label="Workflows">
        <input
          type="search"
          aria-label="Search workflows"
          placeholder="Search workflows"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
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
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((row) => (
            <tr key={row.id} data-id={row.id}>
              <td>
                <Link to={`/designer/${row.id}`}>{row.name}</Link>
              </td>
              <td>{row.owner}</td>
              <td>{row.latest_version}</td>
              <td>{new Date(row.updated_at).toLocaleString()}</td>
              <td>
                <a href={`/api/workflows/${row.id}/export/?format=json`} download aria-label={`Export ${row.name}`}>
                  Export
                </a>{" "}
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
      {rows !== null && rows.length === 0 && <p>No workflows yet. Start with “New workflow”.</p>}
    </section>
  );
}
