import {
  Background,
  type Connection as FlowConnection,
  Controls,
  type Edge,
  Handle,
  MiniMap,
  type Node,
  type NodeChange,
  type NodeProps,
  Position as Side,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, memo, useCallback, useEffect, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router";

import { ApiError, type ApiErrorItem, api } from "../api";
import { ConfigPanel } from "../editor/ConfigPanel";
import { RunDialog } from "../editor/RunDialog";
import { type Catalog, type GraphDoc, type StepTypeInfo, connectionProblem, handlesOf } from "../editor/graph";
import { useEditor } from "../editor/store";

type StepData = { label: string; type: string; title: string; handles: string[]; problems: number };

type WorkflowDetail = {
  id: number;
  name: string;
  latest_version: number;
  version: { number: number; graph: GraphDoc };
};

/** What the page knows of the workflow being edited; id null until the first save. */
type Meta = { id: number | null; name: string; version: number };
type StepNode = Node<StepData, "step">;

const DRAG_TYPE = "application/x-flowdeck-step";

/** One step on the canvas: its label and type, an input on the left, its outputs on the right. */
const StepNodeView = memo(function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  return (
    <div className={`step-node${selected ? " selected" : ""}`} aria-label={`Step ${id}`}>
      <Handle type="target" position={Side.Left} />
      <div className="step-label">
        {data.label}
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
function isTyping(event: React.KeyboardEvent): boolean {
  const target = event.target as HTMLElement;
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

function Canvas() {
  const catalog = useEditor((s) => s.catalog);
  const graph = useEditor((s) => s.graph);
  const selected = useEditor((s) => s.selected);
  const problem = useEditor((s) => s.problem);
  const { addNode, moveNodes, connect, select, deleteSelected, undo, redo, duplicate, load } = useEditor.getState();
  const [error, setError] = useState<string | null>(null);
  const [meta, setMeta] = useState<Meta>({ id: null, name: "", version: 0 });
  const [saved, setSaved] = useState<GraphDoc>(EMPTY_GRAPH);
  const [problems, setProblems] = useState<ApiErrorItem[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const flow = useReactFlow();
  const navigate = useNavigate();
  const routeId = useParams()["*"];
  const workflowId = routeId && /^\d+$/.test(routeId) ? Number(routeId) : null;

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const loadedCatalog = await loadCatalog();
      if (workflowId === null) {
        if (cancelled) return;
        load(EMPTY_GRAPH, loadedCatalog);
        // Keep a name typed while the catalog loaded; forget the one of a workflow left behind.
        setMeta((m) => ({ id: null, name: m.id === null ? m.name : "", version: 0 }));
        setSaved(useEditor.getState().graph);
        return;
      }
      const workflow = await api<WorkflowDetail>(`/api/workflows/${workflowId}/`);
      if (cancelled) return;
      load(workflow.version.graph, loadedCatalog);
      setMeta({ id: workflow.id, name: workflow.name, version: workflow.latest_version });
      setSaved(useEditor.getState().graph);
    })().catch((e: Error) => setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [load, workflowId]);

  const save = async () => {
    setProblems([]);
    setNotice(null);
    const body = { ...graph, nodes: graph.nodes, edges: graph.edges };
    try {
      if (meta.id === null) {
        const created = await api<WorkflowDetail>("/api/workflows/", {
          method: "POST",
          body: { name: meta.name.trim() || "Untitled workflow", graph: body },
        });
        setSaved(graph);
        setNotice(`Saved version ${created.latest_version}`);
        navigate(`/designer/${created.id}`, { replace: true });
      } else {
        const updated = await api<WorkflowDetail>(`/api/workflows/${meta.id}/`, {
          method: "PUT",
          body: { graph: body, base_version: meta.version },
        });
        setMeta({ ...meta, version: updated.latest_version });
        setSaved(graph);
        setNotice(`Saved version ${updated.latest_version}`);
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setNotice(`Someone saved version ${String(e.body.latest_version)} meanwhile; your edits are kept here.`);
      } else if (e instanceof ApiError && e.errors.length) {
        setProblems(e.errors);
      } else {
        setNotice((e as Error).message);
      }
    }
  };

  const problemsByNode = useMemo(() => {
    const counts = new Map<string, number>();
    for (const p of problems) if (p.node) counts.set(p.node, (counts.get(p.node) ?? 0) + 1);
    return counts;
  }, [problems]);
  const dirty = graph !== saved;
  const selectedNode = selected.size === 1 ? graph.nodes.find((n) => selected.has(n.id)) : undefined;

  const nodes: StepNode[] = useMemo(
    () =>
      graph.nodes.map((node) => ({
        id: node.id,
        type: "step",
        position: node.position ?? { x: 0, y: 0 },
        selected: selected.has(node.id),
        data: {
          label: node.label ?? node.id,
          type: node.type,
          title: catalog[node.type]?.title ?? node.type,
          handles: handlesOf(node, catalog),
          problems: problemsByNode.get(node.id) ?? 0,
        },
      })),
    [graph.nodes, selected, catalog, problemsByNode],
  );
  const edges: Edge[] = useMemo(
    () =>
      graph.edges.map((edge) => ({
        id: edge.id,
        source: edge.source,
        target: edge.target,
        sourceHandle: edge.source_handle ?? "out",
        label: edge.source_handle && edge.source_handle !== "out" ? edge.source_handle : undefined,
        selected: selected.has(edge.id),
      })),
    [graph.edges, selected],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<StepNode>[]) => {
      const moves: Record<string, { x: number; y: number }> = {};
      const selection = new Set(useEditor.getState().selected);
      let selectionChanged = false;
      for (const change of changes) {
        // Only a finished drag becomes an edit (one undo step per move, not one per frame).
        if (change.type === "position" && change.position && change.dragging === false) {
          moves[change.id] = change.position;
        }
        if (change.type === "select") {
          selectionChanged = true;
          if (change.selected) selection.add(change.id);
          else selection.delete(change.id);
        }
      }
      if (selectionChanged) select([...selection]);
      if (Object.keys(moves).length) moveNodes(moves);
    },
    [moveNodes, select],
  );

  const isValidConnection = useCallback(
    (c: FlowConnection | Edge) =>
      connectionProblem(useEditor.getState().graph, catalog, {
        source: c.source,
        target: c.target,
        sourceHandle: c.sourceHandle,
      }) === null,
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
    if (type) addNode(type, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    const mod = event.ctrlKey || event.metaKey;
    if (mod && event.key.toLowerCase() === "z") {
      event.preventDefault();
      if (event.shiftKey) redo();
      else undo();
    } else if (mod && event.key.toLowerCase() === "y") {
      event.preventDefault();
      redo();
    } else if (mod && event.key.toLowerCase() === "d") {
      event.preventDefault();
      duplicate();
    } else if (mod && event.key.toLowerCase() === "c" && !isTyping(event)) {
      useEditor.getState().copy();
    } else if (mod && event.key.toLowerCase() === "v" && !isTyping(event)) {
      event.preventDefault();
      useEditor.getState().paste();
    }
  };

  if (error) return <p role="alert">{error}</p>;
  return (
    <div className="designer" onKeyDown={onKeyDown}>
      <Palette catalog={catalog} onAdd={(type) => {
          // Keep what was just added in view.
          if (addNode(type, freeSpot())) requestAnimationFrame(() => flow.fitView({ padding: 0.3 }));
        }} />
      <div className="designer-main">
        <div className="toolbar" role="toolbar" aria-label="Edit">
          <input
            aria-label="Workflow name"
            placeholder="Workflow name"
            value={meta.name}
            readOnly={meta.id !== null}
            onChange={(e) => setMeta({ ...meta, name: e.target.value })}
          />
          <button type="button" onClick={save}>
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
          <span aria-label="Save state">{dirty ? "Unsaved changes" : meta.id ? `Version ${meta.version}` : "New"}</span>
          <button type="button" onClick={undo} disabled={!useEditor.getState().past.length}>
            Undo
          </button>
          <button type="button" onClick={redo} disabled={!useEditor.getState().future.length}>
            Redo
          </button>
          <button type="button" onClick={deleteSelected} disabled={!selected.size}>
            Delete
          </button>
          <span className="counts" aria-label="Graph size">
            {graph.nodes.length} steps, {graph.edges.length} connections
          </span>
        </div>
        {problem && (
          <p role="status" className="problem">
            {problem}
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
                <button type="button" onClick={() => p.node && select([p.node])}>
                  {p.node ? `${p.node}: ` : ""}
                  {p.field ? `${p.field}: ` : ""}
                  {p.message}
                </button>
              </li>
            ))}
          </ul>
        )}
        <div
          className="canvas"
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
            onConnect={(c) => connect({ source: c.source, target: c.target, sourceHandle: c.sourceHandle })}
            isValidConnection={isValidConnection}
            onlyRenderVisibleElements
            deleteKeyCode={null}
            snapToGrid
            snapGrid={[20, 20]}
            fitView
          >
            <Background />
            <Controls />
            <MiniMap />
          </ReactFlow>
        </div>
      </div>
      {selectedNode && <ConfigPanel node={selectedNode} info={catalog[selectedNode.type]} />}
      {running && meta.id !== null && (
        <RunDialog
          workflowId={meta.id}
          inputSchema={graph.input_schema}
          onClose={() => setRunning(false)}
        />
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
