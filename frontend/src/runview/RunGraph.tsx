/** A run's graph, read-only: the designer's step look, coloured by each step's status. */
import {
  Background,
  Controls,
  Handle,
  type NodeChange,
  type NodeProps,
  Position as Side,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { Catalog, GraphDoc, Position } from "../editor/graph";
import { autoLayout } from "../editor/layout";
import { type RunNode, RunFlowNodes, type RunStep, runEdges, statusStyle } from "./model";

const CATEGORY_ICONS: Record<string, string> = {
  trigger: "▶",
  flow: "⑂",
  logic: "◇",
  data: "{}",
  http: "⇄",
  human: "✋",
  notify: "✉",
  code: "λ",
};

const RunStepView = memo(function RunStepView({ id, data, selected }: NodeProps<RunNode>) {
  const style = statusStyle(data.status);
  const attempts = data.attempt > 1 ? `, attempt ${data.attempt}` : "";
  return (
    <div
      className={`step-node run-step status-${style.tone}${selected ? " selected" : ""}`}
      aria-label={`Step ${id}: ${style.label}${attempts}`}
      data-id={id}
      data-status={data.status}
      style={{ background: style.fill, borderColor: style.border }}
    >
      <Handle type="target" position={Side.Left} isConnectable={false} />
      <div className="step-label">
        <span className={`step-icon icon-${data.category}`} aria-hidden="true">
          {CATEGORY_ICONS[data.category] ?? "•"}
        </span>
        {data.label}
        {data.attempt > 1 && (
          <span className="badge attempt-badge" title={`attempt ${data.attempt}`}>
            ×{data.attempt}
          </span>
        )}
      </div>
      <div className="step-type">{data.type}</div>
      <div className="run-step-status">{style.label}</div>
      <div className="step-outputs">
        {data.handles.map((handle) => (
          <div key={handle} className={`step-output step-output-${handle}`}>
            <span>{handle}</span>
            <Handle type="source" id={handle} position={Side.Right} isConnectable={false} />
          </div>
        ))}
      </div>
    </div>
  );
});

// Declared once at module scope (STYLE 17).
const NODE_TYPES = { runStep: RunStepView };

const FIT = { padding: 0.15, maxZoom: 1 };

function hasPositions(graph: GraphDoc): boolean {
  return graph.nodes.every((n) => n.position);
}

export function RunGraph(props: {
  graph: GraphDoc;
  catalog: Catalog;
  steps: RunStep[];
  selected: string | null;
  onSelect: (node: string) => void;
}) {
  return (
    <ReactFlowProvider>
      <RunGraphCanvas {...props} />
    </ReactFlowProvider>
  );
}

function RunGraphCanvas({
  graph,
  catalog,
  steps,
  selected,
  onSelect,
}: {
  graph: GraphDoc;
  catalog: Catalog;
  steps: RunStep[];
  selected: string | null;
  onSelect: (node: string) => void;
}) {
  const [positions, setPositions] = useState<Record<string, Position> | null>(() =>
    hasPositions(graph) ? {} : null,
  );
  useEffect(() => {
    if (hasPositions(graph)) {
      setPositions({});
      return;
    }
    let live = true;
    autoLayout(graph, catalog).then((laid) => live && setPositions(laid));
    return () => {
      live = false;
    };
  }, [graph, catalog]);

  const byNode = useMemo(() => new Map(steps.map((s) => [s.node, s])), [steps]);
  const flowNodes = useRef(new RunFlowNodes());
  const nodes = useMemo(
    () => (positions ? flowNodes.current.build(graph, catalog, byNode, positions, selected) : []),
    [graph, catalog, byNode, positions, selected],
  );
  const edges = useMemo(() => runEdges(graph, byNode), [graph, byNode]);
  const onNodesChange = useCallback((changes: NodeChange<RunNode>[]) => {
    for (const change of changes) {
      if (change.type === "dimensions" && change.dimensions) flowNodes.current.measured(change.id, change.dimensions);
    }
  }, []);

  // The canvas narrows when the inspector opens: fit the graph to it again.
  const flow = useReactFlow();
  const box = useRef<HTMLDivElement>(null);
  const laidOut = positions !== null;
  useEffect(() => {
    const element = box.current;
    if (!element || !laidOut) return;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => void flow.fitView(FIT));
    });
    observer.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    };
  }, [flow, laidOut]);

  if (!positions) return <p>Laying out the graph…</p>;
  return (
    <div className="run-graph" data-testid="run-graph" ref={box}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onNodeClick={(_, node) => onSelect(node.id)}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        deleteKeyCode={null}
        onlyRenderVisibleElements
        fitView
        fitViewOptions={FIT}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
