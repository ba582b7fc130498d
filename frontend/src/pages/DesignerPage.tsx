import {
  Background,
  type Connection as FlowConnection,
  Controls,
  type Edge,
  type EdgeChange,
  Handle,
  MiniMap,
  type NodeChange,
  type NodeProps,
  Position as Side,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useBlocker, useNavigate, useParams } from "react-router";

import { ApiError, api } from "../api";
import { ConfigPanel } from "../editor/ConfigPanel";
import { ConnectionsPanel } from "../editor/ConnectionsPanel";
import { type GraphDiff, diffGraphs, edgeKey, overlayGraph } from "../editor/diff";
import {
  type Catalog,
  DEFAULT_HANDLE,
  type GraphDoc,
  type Position,
  type Problem,
  type StepTypeInfo,
  connectionProblem,
  liveProblems,
} from "../editor/graph";
import { FlowNodes, type StepNode } from "../editor/flowNodes";
import { autoLayout } from "../editor/layout";
import { RunDialog } from "../editor/RunDialog";
import { useEditor } from "../editor/store";
import { mergeProblems, useServerProblems } from "../editor/useServerProblems";
import { VersionsPanel } from "../editor/VersionsPanel";
import { WorkflowPanel } from "../editor/WorkflowPanel";
import { WebhookPanel } from "../steps/trigger.webhook/WebhookPanel";


type WorkflowDetail = {
  id: number;
  name: string;
  latest_version: number;
  version: { number: number; graph: GraphDoc };
};

/** What the page knows of the workflow being edited; id null until the first save. */
type Meta = { id: number | null; name: string; savedName: string; version: number };

const DRAG_TYPE = "application/x-flowdeck-step";
const SNAP: [number, number] = [20, 20];

/** A glyph per catalog category, on the steps and in the palette. */
const CATEGORY_ICONS: Record<string, string> = {
  trigger: "▶",
  logic: "◇",
  flow: "⇶",
  data: "{}",
  http: "⇄",
  human: "✋",
  notify: "✉",
  code: "λ",
};

/** One step on the canvas: its label and type, an input on the left, its outputs on the right. */
const StepNodeView = memo(function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  return (
    <div
      className={`step-node${selected ? " selected" : ""}${data.change ? ` change-${data.change}` : ""}`}
      aria-label={`Step ${id}`}
      data-change={data.change}
    >
      <Handle type="target" position={Side.Left} />
      <div className="step-label">
        <span className={`step-icon icon-${data.category}`} aria-hidden="true">
          {CATEGORY_ICONS[data.category] ?? "•"}
        </span>
        {data.label}
        {data.change && <span className="change-tag">{data.change}</span>}
        {data.problems > 0 && (
          <span className="badge" aria-label={`${data.problems} problems`}>
            {data.problems}
          </span>
        )}
      </div>
      <div className="step-type">{data.type}</div>
      <div className="step-outputs">
        {data.handles.map((handle) => (
          <div key={handle} className={`step-output step-output-${handle}`}>
            <span>{handle}</span>
            <Handle type="source" id={handle} position={Side.Right} aria-label={`${id} output ${handle}`} />
          </div>
        ))}
      </div>
    </div>
  );
});

// Declared once at module scope, so React Flow never re-mounts the nodes (STYLE 17).
const NODE_TYPES = { step: StepNodeView };

async function loadCatalog(): Promise<Catalog> {
  const entries = await api<StepTypeInfo[]>("/api/step-types/");
  return Object.fromEntries(entries.map((entry) => [entry.type, entry]));
}

const EMPTY_GRAPH: GraphDoc = { format: 1, nodes: [], edges: [] };

/** Copy and paste shortcuts belong to the text field while one has focus. */
function isTyping(target: HTMLElement): boolean {
  return target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable;
}

function Palette({ catalog, onAdd }: { catalog: Catalog; onAdd: (type: string) => void }) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const wanted = query.trim().toLowerCase();
    const byCategory = new Map<string, StepTypeInfo[]>();
    for (const info of Object.values(catalog)) {
      const text = `${info.title} ${info.type} ${info.description}`.toLowerCase();
      if (wanted && !text.includes(wanted)) continue;
      byCategory.set(info.category, [...(byCategory.get(info.category) ?? []), info]);
    }
    return [...byCategory.entries()];
  }, [catalog, query]);

  const onDragStart = (event: DragEvent, type: string) => {
    event.dataTransfer.setData(DRAG_TYPE, type);
    event.dataTransfer.effectAllowed = "move";
  };

  return (
    <aside className="palette" aria-label="Steps">
      <input
        type="search"
        aria-label="Search steps"
        placeholder="Search steps"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {groups.map(([category, infos]) => (
        <section key={category} aria-label={category}>
          <h2>{category}</h2>
          <ul>
            {infos.map((info) => (
              <li key={info.type}>
                <button
                  type="button"
                  draggable
                  title={info.description}
                  onDragStart={(e) => onDragStart(e, info.type)}
                  onClick={() => onAdd(info.type)}
                >
                  <span className={`step-icon icon-${info.category}`} aria-hidden="true">
                    {CATEGORY_ICONS[info.category] ?? "•"}
                  </span>
                  {info.title}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </aside>
  );
}

/** What the canvas shows: the graph being edited, an old version read-only, or a diff. */
type Mode =
  | { kind: "edit" }
  | { kind: "version"; number: number; graph: GraphDoc }
  | { kind: "diff"; number: number; latest: number; diff: GraphDiff; graph: GraphDoc };

const EDITING: Mode = { kind: "edit" };

function problemText(p: Problem): string {
  return `${p.node ? `${p.node}: ` : ""}${p.field ? `${p.field}: ` : ""}${p.message}`;
}

/** The changes of a diff in words, for the list beside the overlay. */
function DiffSummary({ mode }: { mode: Extract<Mode, { kind: "diff" }> }) {
  const { diff } = mode;
  const rows = [...diff.nodes].filter(([, kind]) => kind !== "moved");
  const moved = [...diff.nodes].filter(([, kind]) => kind === "moved").length;
  return (
    <ul className="diff-summary" aria-label="Changes">
      {rows.map(([id, kind]) => (
        <li key={id} className={`change-${kind}`}>
          {kind} {id}
          {kind === "changed" && `: ${diff.fields.get(id)?.join(", ")}`}
        </li>
      ))}
      {diff.edges.added.map((e) => (
        <li key={`+${edgeKey(e)}`} className="change-added">
          added connection {e.source} {e.source_handle || "out"} → {e.target}
        </li>
      ))}
      {diff.edges.removed.map((e) => (
        <li key={`-${edgeKey(e)}`} className="change-removed">
          removed connection {e.source} {e.source_handle || "out"} → {e.target}
        </li>
      ))}
      {diff.other.map((part) => (
        <li key={part} className="change-changed">
          changed {part}
        </li>
      ))}
      {moved > 0 && <li>{moved} moved</li>}
      {!rows.length && !diff.edges.added.length && !diff.edges.removed.length && !diff.other.length && !moved && (
        <li>no differences</li>
      )}
    </ul>
  );
}

function Canvas() {
  const catalog = useEditor((s) => s.catalog);
  const graph = useEditor((s) => s.graph);
  const selected = useEditor((s) => s.selected);
  const refusal = useEditor((s) => s.problem);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const { addNode, moveNodes, connect, select, deleteSelected, undo, redo, duplicate, load } = useEditor.getState();
  const [error, setError] = useState<string | null>(null);
  const [meta, setMeta] = useState<Meta>({ id: null, name: "", savedName: "", version: 0 });
  const [saved, setSaved] = useState<GraphDoc>(EMPTY_GRAPH);
  const [loaded, setLoaded] = useState(false);
  const [note, setNote] = useState("");
  const [saveErrors, setSaveErrors] = useState<Problem[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [stale, setStale] = useState<number | null>(null);
  const [running, setRunning] = useState(false);
  const [history, setHistory] = useState(false);
  const [mode, setMode] = useState<Mode>(EDITING);
  const [find, setFind] = useState("");
  const [dragged, setDragged] = useState<Record<string, Position>>({});
  const draggedRef = useRef(dragged);
  const flow = useReactFlow();
  const navigate = useNavigate();
  const routeId = useParams()["*"];
  const workflowId = routeId && /^\d+$/.test(routeId) ? Number(routeId) : null;
  const editing = mode.kind === "edit";

  /** Put the newest version of workflow `id` in the editor, dropping any edits. */
  const openLatest = useCallback(
    async (id: number, loadedCatalog: Catalog) => {
      const workflow = await api<WorkflowDetail>(`/api/workflows/${id}/`);
      load(workflow.version.graph, loadedCatalog);
      setMeta({ id: workflow.id, name: workflow.name, savedName: workflow.name, version: workflow.latest_version });
      setSaved(useEditor.getState().graph);
      setStale(null);
      setMode(EDITING);
    },
    [load],
  );

  useEffect(() => {
    let cancelled = false;
    setLoaded(false);
    (async () => {
      const loadedCatalog = await loadCatalog();
      if (cancelled) return;
      if (workflowId === null) {
        load(EMPTY_GRAPH, loadedCatalog);
        // Keep a name typed while the catalog loaded; forget the one of a workflow left behind.
        setMeta((m) => ({ id: null, name: m.id === null ? m.name : "", savedName: "", version: 0 }));
        setSaved(useEditor.getState().graph);
        setMode(EDITING);
      } else {
        await openLatest(workflowId, loadedCatalog);
      }
      if (!cancelled) setLoaded(true);
    })().catch((e: Error) => setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [load, openLatest, workflowId]);

  // Nothing is unsaved while the workflow loads (the store may still hold the last one).
  const dirty = loaded && (graph !== saved || meta.name !== meta.savedName);
  // Read by the navigation blocker, which may run before the next render (just after a save).
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => dirtyRef.current && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (dirtyRef.current) event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, []);

  const live = useMemo(() => liveProblems(graph, catalog), [graph, catalog]);
  const server = useServerProblems(graph, editing && loaded);
  useEffect(() => setSaveErrors([]), [graph]);
  const problems = useMemo(
    () => (editing ? mergeProblems(live, server.problems, saveErrors) : []),
    [editing, live, server.problems, saveErrors],
  );

  const save = async (asCopy = false) => {
    setNotice(null);
    setSaveErrors([]);
    const name = meta.name.trim() || "Untitled workflow";
    try {
      if (meta.id === null || asCopy) {
        const created = await api<WorkflowDetail>("/api/workflows/", {
          method: "POST",
          body: { name: asCopy ? `${name} (copy)` : name, graph, ...(note.trim() ? { note: note.trim() } : {}) },
        });
        setSaved(graph);
        setMeta({ id: created.id, name: created.name, savedName: created.name, version: created.latest_version });
        dirtyRef.current = false;
        setNote("");
        setStale(null);
        setNotice(asCopy ? `Saved as a new workflow, ${created.name}` : `Saved version ${created.latest_version}`);
        navigate(`/designer/${created.id}`, { replace: !asCopy });
      } else {
        const updated = await api<WorkflowDetail>(`/api/workflows/${meta.id}/`, {
          method: "PUT",
          body: {
            graph,
            base_version: meta.version,
            ...(note.trim() ? { note: note.trim() } : {}),
            ...(meta.name !== meta.savedName ? { name } : {}),
          },
        });
        setMeta({ ...meta, name: updated.name, savedName: updated.name, version: updated.latest_version });
        setSaved(graph);
        setNote("");
        setNotice(`Saved version ${updated.latest_version}`);
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setStale(Number(e.body.latest_version) || meta.version + 1);
      } else if (e instanceof ApiError && e.errors.length) {
        setSaveErrors(e.errors);
        setNotice(`Not saved: ${e.errors.length} problem${e.errors.length > 1 ? "s" : ""} to fix first`);
      } else {
        setNotice((e as Error).message);
      }
    }
  };

  const reloadLatest = async () => {
    if (meta.id === null) return;
    try {
      await openLatest(meta.id, catalog);
      setNotice("Reloaded the latest version; your edits were dropped");
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  const fetchVersion = (number: number) =>
    api<{ number: number; graph: GraphDoc }>(`/api/workflows/${meta.id}/versions/${number}/`);

  const openVersion = async (number: number) => {
    try {
      if (number === meta.version && !dirty) {
        setMode(EDITING);
        return;
      }
      const version = await fetchVersion(number);
      setMode({ kind: "version", number, graph: version.graph });
      requestAnimationFrame(() => flow.fitView({ padding: 0.2 }));
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  const compare = async (number: number) => {
    try {
      const [old, latest] = await Promise.all([fetchVersion(number), fetchVersion(meta.version)]);
      const diff = diffGraphs(old.graph, latest.graph);
      setMode({ kind: "diff", number, latest: meta.version, diff, graph: overlayGraph(old.graph, latest.graph, diff) });
      requestAnimationFrame(() => flow.fitView({ padding: 0.2 }));
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  const restore = async (number: number) => {
    if (meta.id === null) return;
    try {
      const version = await fetchVersion(number);
      const updated = await api<WorkflowDetail>(`/api/workflows/${meta.id}/`, {
        method: "PUT",
        body: { graph: version.graph, base_version: meta.version, note: `Restored version ${number}` },
      });
      load(updated.version.graph, catalog);
      setSaved(useEditor.getState().graph);
      setMeta({ ...meta, version: updated.latest_version });
      setMode(EDITING);
      setNotice(`Restored version ${number} as version ${updated.latest_version}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setStale(Number(e.body.latest_version) || meta.version + 1);
      else setNotice((e as Error).message);
    }
  };

  /** Select a step and bring it to the middle of the view. */
  const reveal = (id: string, field?: string | null) => {
    select([id]);
    const node = flow.getNode(id);
    if (node) {
      const w = node.measured?.width ?? 200;
      const h = node.measured?.height ?? 80;
      flow.setCenter(node.position.x + w / 2, node.position.y + h / 2, { zoom: Math.max(flow.getZoom(), 1), duration: 200 });
    }
    if (field?.startsWith("config.")) {
      // rjsf names its inputs root_<path with _>; the panel renders on the next frame.
      const fieldId = `root_${field.slice("config.".length).replaceAll(".", "_")}`;
      window.setTimeout(() => document.getElementById(fieldId)?.focus(), 50);
    }
  };

  const jumpTo = (p: Problem) => {
    const id = p.node ?? graph.edges.find((e) => e.id === p.edge)?.source;
    if (id) reveal(id, p.field);
  };

  const findStep = () => {
    const wanted = find.trim().toLowerCase();
    if (!wanted) return;
    const match =
      graph.nodes.find((n) => n.id === wanted || (n.label ?? "").toLowerCase() === wanted) ??
      graph.nodes.find((n) => n.id.includes(wanted) || (n.label ?? "").toLowerCase().includes(wanted));
    if (match) {
      reveal(match.id);
      setNotice(null);
    } else {
      setNotice(`No step matches "${find.trim()}"`);
    }
  };

  const layout = async () => {
    try {
      moveNodes(await autoLayout(graph, catalog, SNAP[0]));
      requestAnimationFrame(() => flow.fitView({ padding: 0.2, duration: 200 }));
    } catch (e) {
      setNotice(`Auto-layout failed: ${(e as Error).message}`);
    }
  };

  const shown = mode.kind === "edit" ? graph : mode.graph;
  const problemsByNode = useMemo(() => {
    const counts = new Map<string, number>();
    for (const p of problems) {
      const id = p.node ?? graph.edges.find((e) => e.id === p.edge)?.source;
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }, [problems, graph.edges]);
  const changes = mode.kind === "diff" ? mode.diff : null;
  const selectedNode =
    editing && selected.size === 1 ? graph.nodes.find((n) => selected.has(n.id)) : undefined;
  const nodeProblems = useMemo(
    () => (selectedNode ? problems.filter((p) => p.node === selectedNode.id) : []),
    [problems, selectedNode],
  );

  const flowNodes = useRef(new FlowNodes());
  const nodes: StepNode[] = useMemo(
    () =>
      flowNodes.current.build(shown.nodes, catalog, {
        selected: (id) => editing && selected.has(id),
        problems: (id) => problemsByNode.get(id) ?? 0,
        change: (id) => changes?.nodes.get(id),
        dragged: (id) => dragged[id],
      }),
    [shown.nodes, selected, catalog, problemsByNode, editing, changes, dragged],
  );
  const edges: Edge[] = useMemo(() => {
    const added = new Set(changes?.edges.added.map(edgeKey));
    const removed = new Set(changes?.edges.removed.map(edgeKey));
    return shown.edges.map((edge) => {
      const key = edgeKey(edge);
      const handle = edge.source_handle ?? DEFAULT_HANDLE;
      return {
        id: edge.id,
        source: edge.source,
        target: edge.target,
        sourceHandle: handle,
        label: edge.label ?? (handle !== DEFAULT_HANDLE ? handle : undefined),
        selected: editing && selected.has(edge.id),
        className: removed.has(key) ? "change-removed" : added.has(key) ? "change-added" : undefined,
        ariaLabel: `Connection ${edge.source} ${handle} to ${edge.target}`,
      };
    });
  }, [shown.edges, selected, editing, changes]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepNode>[]) => {
      const moves: Record<string, Position> = {};
      const moving: Record<string, Position> = {};
      let dragEnded = false;
      const selection = new Set(useEditor.getState().selected);
      let selectionChanged = false;
      for (const change of changes) {
        if (change.type === "dimensions" && change.dimensions) {
          flowNodes.current.measured(change.id, change.dimensions);
        } else if (change.type === "position" && change.position) {
          // The step follows the pointer; only the drop becomes an edit (one undo step per move).
          if (change.dragging) moving[change.id] = change.position;
          else moves[change.id] = change.position;
        } else if (change.type === "position" && change.dragging === false) {
          dragEnded = true;
        } else if (change.type === "select") {
          selectionChanged = true;
          if (change.selected) selection.add(change.id);
          else selection.delete(change.id);
        }
      }
      if (selectionChanged) select([...selection]);
      if (Object.keys(moving).length) {
        draggedRef.current = { ...draggedRef.current, ...moving };
        setDragged(draggedRef.current);
      }
      if (Object.keys(moves).length || dragEnded) {
        // A drop may come without positions: the last ones seen while dragging are the move.
        const dropped = { ...draggedRef.current, ...moves };
        draggedRef.current = {};
        setDragged(draggedRef.current);
        if (Object.keys(dropped).length) moveNodes(dropped);
      }
    },
    [moveNodes, select],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const selection = new Set(useEditor.getState().selected);
      let selectionChanged = false;
      for (const change of changes) {
        if (change.type !== "select") continue;
        selectionChanged = true;
        if (change.selected) selection.add(change.id);
        else selection.delete(change.id);
      }
      if (selectionChanged) select([...selection]);
    },
    [select],
  );

  // While a connection is dragged, React Flow asks about each handle under the pointer; a
  // refused one is not drawn, and why is shown until the drag ends.
  const [connectHint, setConnectHint] = useState<string | null>(null);
  const isValidConnection = useCallback(
    (c: FlowConnection | Edge) => {
      const problem = connectionProblem(useEditor.getState().graph, catalog, {
        source: c.source,
        target: c.target,
        sourceHandle: c.sourceHandle,
      });
      setConnectHint(problem);
      return problem === null;
    },
    [catalog],
  );

  /** Where a clicked palette entry lands: the middle of the view, right of any step there. */
  const freeSpot = () => {
    const box = document.querySelector("[data-testid=designer-canvas]")?.getBoundingClientRect();
    const spot = flow.screenToFlowPosition(
      box
        ? { x: box.left + box.width / 3, y: box.top + box.height / 3 }
        : { x: window.innerWidth / 2, y: window.innerHeight / 2 },
    );
    const near = (p?: { x: number; y: number }) => !!p && Math.abs(p.x - spot.x) < 200 && Math.abs(p.y - spot.y) < 100;
    while (useEditor.getState().graph.nodes.some((n) => near(n.position))) spot.x += 240;
    return spot;
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    const type = event.dataTransfer.getData(DRAG_TYPE);
    if (type && editing) addNode(type, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  };

  // Shortcuts work wherever focus is in the editor, and also when it fell back to the page
  // (after the focused step was deleted, say); not inside dialogs.
  const shortcuts = useRef<(event: KeyboardEvent) => void>(() => {});
  shortcuts.current = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    const inEditor = target === document.body || !!target.closest?.(".designer");
    if (!editing || !inEditor || target.closest?.("[role=dialog], [role=alertdialog]")) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (mod && key === "z") {
      event.preventDefault();
      if (event.shiftKey) redo();
      else undo();
    } else if (mod && key === "y") {
      event.preventDefault();
      redo();
    } else if (mod && key === "s") {
      event.preventDefault();
      void save();
    } else if (isTyping(target)) {
      return;
    } else if (mod && key === "d") {
      event.preventDefault();
      duplicate();
    } else if (mod && key === "c") {
      useEditor.getState().copy();
    } else if (mod && key === "v") {
      event.preventDefault();
      useEditor.getState().paste();
    } else if (key === "delete" || key === "backspace") {
      event.preventDefault();
      deleteSelected();
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => shortcuts.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  if (error) return <p role="alert">{error}</p>;
  return (
    <div className="designer">
      {editing && (
        <Palette
          catalog={catalog}
          onAdd={(type) => {
            // Keep what was just added in view.
            if (addNode(type, freeSpot())) requestAnimationFrame(() => flow.fitView({ padding: 0.3 }));
          }}
        />
      )}
      <div className="designer-main">
        <div className="toolbar" role="toolbar" aria-label="Edit">
          <input
            aria-label="Workflow name"
            placeholder="Workflow name"
            value={meta.name}
            readOnly={!editing}
            onChange={(e) => setMeta({ ...meta, name: e.target.value })}
          />
          <input
            aria-label="Version note"
            placeholder="Note for this version (optional)"
            value={note}
            disabled={!editing}
            onChange={(e) => setNote(e.target.value)}
          />
          <button type="button" onClick={() => void save()} disabled={!editing}>
            Save
          </button>
          <button
            type="button"
            onClick={() => setRunning(true)}
            disabled={meta.id === null || dirty}
            title={meta.id === null || dirty ? "Save first: a run uses a saved version" : "Start a run"}
          >
            Run
          </button>
          <span aria-label="Save state">
            {dirty ? "Unsaved changes" : meta.id ? `Version ${meta.version}` : "New"}
          </span>
          <button type="button" onClick={undo} disabled={!editing || !canUndo}>
            Undo
          </button>
          <button type="button" onClick={redo} disabled={!editing || !canRedo}>
            Redo
          </button>
          <button type="button" onClick={deleteSelected} disabled={!editing || !selected.size}>
            Delete
          </button>
          <button type="button" onClick={() => void layout()} disabled={!editing || !graph.nodes.length}>
            Auto-layout
          </button>
          <button type="button" onClick={() => void server.validateNow()} disabled={!editing}>
            Validate
          </button>
          <button type="button" onClick={() => setHistory(!history)} disabled={meta.id === null} aria-pressed={history}>
            History
          </button>
          <input
            type="search"
            aria-label="Find step"
            placeholder="Find step"
            value={find}
            onChange={(e) => setFind(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") findStep();
            }}
          />
          <span className="counts" aria-label="Graph size">
            {graph.nodes.length} steps, {graph.edges.length} connections
          </span>
        </div>
        {mode.kind === "version" && (
          <div className="banner" role="region" aria-label="Old version">
            Version {mode.number}, read-only.
            <button type="button" onClick={() => void restore(mode.number)} disabled={dirty} title={dirty ? "Save or undo your edits first" : undefined}>
              Restore version {mode.number} as a new version
            </button>
            <button type="button" onClick={() => setMode(EDITING)}>
              Back to editing
            </button>
          </div>
        )}
        {mode.kind === "diff" && (
          <div className="banner" role="region" aria-label="Comparison">
            Version {mode.number} compared with version {mode.latest}: green is added, red removed, amber changed.
            <button type="button" onClick={() => setMode(EDITING)}>
              Back to editing
            </button>
            <DiffSummary mode={mode} />
          </div>
        )}
        {stale !== null && (
          <div className="banner stale" role="alert" aria-label="Stale save">
            Someone saved version {stale} while you were editing; your edits are still here, not saved.
            <button type="button" onClick={() => void save(true)}>
              Save my edits as a copy
            </button>
            <button type="button" onClick={() => void reloadLatest()}>
              Reload version {stale} and drop my edits
            </button>
          </div>
        )}
        {connectHint && (
          <p role="status" aria-label="Connection refused" className="problem">
            Cannot connect: {connectHint}
          </p>
        )}
        {refusal && editing && (
          <p role="status" className="problem">
            {refusal}
          </p>
        )}
        {notice && (
          <p role="status" aria-label="Notice" className="notice">
            {notice}
          </p>
        )}
        {problems.length > 0 && (
          <ul className="problems" aria-label="Problems">
            {problems.map((p, i) => (
              <li key={i}>
                <button type="button" onClick={() => jumpTo(p)}>
                  {problemText(p)}
                </button>
              </li>
            ))}
          </ul>
        )}
        <div
          className={`canvas mode-${mode.kind}`}
          data-testid="designer-canvas"
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = "move";
          }}
          onDrop={onDrop}
        >
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={(c) => connect({ source: c.source, target: c.target, sourceHandle: c.sourceHandle })}
            isValidConnection={isValidConnection}
            onConnectEnd={() => setConnectHint(null)}
            nodesDraggable={editing}
            nodesConnectable={editing}
            elementsSelectable={editing}
            onlyRenderVisibleElements
            deleteKeyCode={null}
            selectionKeyCode="Shift"
            multiSelectionKeyCode={["Shift", "Meta", "Control"]}
            snapToGrid
            snapGrid={SNAP}
            fitView
          >
            <Background gap={SNAP[0]} />
            <Controls />
            <MiniMap pannable zoomable ariaLabel="Overview of the workflow" />
          </ReactFlow>
        </div>
      </div>
      {history && meta.id !== null ? (
        <VersionsPanel
          workflowId={meta.id}
          latest={meta.version}
          current={mode.kind === "edit" ? null : mode.number}
          onOpen={(n) => void openVersion(n)}
          onCompare={(n) => void compare(n)}
          onClose={() => setHistory(false)}
        />
      ) : selectedNode ? (
        <div className="side">
          {nodeProblems.length > 0 && (
            <ul className="problems" aria-label={`Problems of ${selectedNode.id}`}>
              {nodeProblems.map((p, i) => (
                <li key={i}>{problemText(p)}</li>
              ))}
            </ul>
          )}
          <ConfigPanel node={selectedNode} info={catalog[selectedNode.type]} problems={nodeProblems} />
          {selectedNode.type === "trigger.webhook" && <WebhookPanel workflowId={meta.id} version={meta.version} />}
          <ConnectionsPanel key={selectedNode.id} node={selectedNode} />
        </div>
      ) : editing ? (
        <WorkflowPanel />
      ) : null}
      {running && meta.id !== null && (
        <RunDialog workflowId={meta.id} inputSchema={graph.input_schema} onClose={() => setRunning(false)} />
      )}
      {blocker.state === "blocked" && (
        <div className="dialog-backdrop">
          <div role="alertdialog" aria-modal="true" aria-label="Unsaved changes" className="dialog">
            <p>This workflow has unsaved changes. Leave and lose them?</p>
            <button type="button" onClick={() => blocker.reset()} autoFocus>
              Stay
            </button>
            <button type="button" onClick={() => blocker.proceed()}>
              Leave without saving
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

export function DesignerPage() {
  return (
    <section className="page page-designer" aria-labelledby="designer-title">
      <h1 id="designer-title">Designer</h1>
      <ReactFlowProvider>
        <Canvas />
      </ReactFlowProvider>
    </section>
  );
}
