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

import { type Catalog, type StepTypeInfo, connectionProblem, handlesOf } from "../editor/graph";
import { useEditor } from "../editor/store";

type StepData = { label: string; type: string; title: string; handles: string[] };
type StepNode = Node<StepData, "step">;

const DRAG_TYPE = "application/x-flowdeck-step";

/** One step on the canvas: its label and type, an input on the left, its outputs on the right. */
const StepNodeView = memo(function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  return (
    <div className={`step-node${selected ? " selected" : ""}`} aria-label={`Step ${id}`}>
      <Handle type="target" position={Side.Left} />
      <div className="step-label">{data.label}</div>
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
  const response = await fetch("/api/step-types/", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`the step catalog did not load (${response.status})`);
  const entries = (await response.json()) as StepTypeInfo[];
  return Object.fromEntries(entries.map((entry) => [entry.type, entry]));
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
  const flow = useReactFlow();

  useEffect(() => {
    loadCatalog()
      .then((loaded) => load({ format: 1, nodes: [], edges: [] }, loaded))
      .catch((e: Error) => setError(e.message));
  }, [load]);

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
        },
      })),
    [graph.nodes, selected, catalog],
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
      for (const change of changes) {
        // Only a finished drag becomes an edit (one undo step per move, not one per frame).
        if (change.type === "position" && change.position && change.dragging === false) {
          moves[change.id] = change.position;
        }
        if (change.type === "select") select(change.selected ? [change.id] : [], change.selected);
      }
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

  const center = () => flow.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 2 });

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
    }
  };

  if (error) return <p role="alert">{error}</p>;
  return (
    <div className="designer" onKeyDown={onKeyDown}>
      <Palette catalog={catalog} onAdd={(type) => addNode(type, center())} />
      <div className="designer-main">
        <div className="toolbar" role="toolbar" aria-label="Edit">
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
