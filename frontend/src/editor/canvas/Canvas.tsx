/**
 * The canvas: React Flow over the graph in the store, with the floating parts that never move
 * it (the empty state's call to action, hints while connecting, the problems list, the banner
 * of an old version or a comparison). Steps are dropped from the palette where the pointer is
 * released (steps/geometry.ts dropPosition), dragged as one undoable move, connected by
 * dragging between handles (refused ones say why while held).
 */
import { useComputedColorScheme } from "@mantine/core";
import {
  Background,
  BackgroundVariant,
  type Connection as FlowConnection,
  Controls,
  type Edge,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, useCallback, useMemo, useRef } from "react";

import { FIT_VIEW, dropPosition } from "../../steps/geometry";
import { stepLook } from "../../steps/icons";
import { NODE_TYPES } from "../../steps/nodes";
import { edgeKey } from "../diff";
import { FlowNodes, type StepNode } from "../flowNodes";
import { DebugBanner } from "../debug";
import { usePins } from "../testing";
import { DEFAULT_HANDLE, type Position, compensations, connectionProblem, edgeKind } from "../graph";
import { isEditing, useEditor } from "../store";
import classes from "./Canvas.module.css";
import { CanvasHints } from "./CanvasHints";
import { EmptyCanvas } from "./EmptyCanvas";
import { ModeBanner } from "./ModeBanner";
import { NewerVersionNotice } from "./NewerVersionNotice";
import { ProblemsOverlay } from "./ProblemsOverlay";
import { EDGE_TYPES, type StepEdgeType } from "./StepEdge";

export const DRAG_TYPE = "application/x-flowdeck-step";
export const SNAP: [number, number] = [20, 20];

function minimapColor(node: StepNode): string {
  return `var(--mantine-color-${stepLook(node.data.type, node.data.category).color}-filled)`;
}

export function Canvas() {
  const catalog = useEditor((s) => s.catalog);
  const graph = useEditor((s) => s.graph);
  const mode = useEditor((s) => s.mode);
  const selected = useEditor((s) => s.selected);
  const dragged = useEditor((s) => s.dragged);
  const problemsByNode = useEditor((s) => s.problemsByNode);
  const pins = usePins(useEditor((s) => s.meta.id));
  const debugOutputs = useEditor((s) => s.debugRun?.outputs);
  const editing = mode.kind === "edit";
  const flow = useReactFlow();
  const scheme = useComputedColorScheme("light");

  const shown = mode.kind === "edit" ? graph : mode.graph;
  const changes = mode.kind === "diff" ? mode.diff : null;

  // Each compensation node and the label of the step it undoes: its "undo" badge.
  const undoes = useMemo(() => {
    const labels = new Map(shown.nodes.map((n) => [n.id, n.label || n.id]));
    const map = new Map<string, string>();
    for (const [target, source] of compensations(shown.edges)) map.set(target, labels.get(source) ?? source);
    return map;
  }, [shown.nodes, shown.edges]);
  const flowNodes = useRef(new FlowNodes());
  const nodes: StepNode[] = useMemo(
    () =>
      flowNodes.current.build(shown.nodes, catalog, {
        undoes: (id) => undoes.get(id),
        selected: (id) => editing && selected.has(id),
        problems: (id) => (editing ? (problemsByNode.get(id) ?? 0) : 0),
        pinned: (id) => editing && (id in pins || (debugOutputs !== undefined && id in debugOutputs)),
        change: (id) => changes?.nodes.get(id),
        dragged: (id) => dragged[id],
      }),
    [shown.nodes, selected, catalog, problemsByNode, editing, changes, dragged, pins, debugOutputs, undoes],
  );
  const edges: StepEdgeType[] = useMemo(() => {
    const added = new Set(changes?.edges.added.map(edgeKey));
    const removed = new Set(changes?.edges.removed.map(edgeKey));
    return shown.edges.map((edge) => {
      const key = edgeKey(edge);
      const handle = edge.source_handle ?? DEFAULT_HANDLE;
      const change = removed.has(key) ? "removed" : added.has(key) ? "added" : undefined;
      const kind = edgeKind(edge);
      const compensate = kind === "compensate";
      return {
        id: edge.id,
        type: "step",
        source: edge.source,
        target: edge.target,
        sourceHandle: handle,
        // A compensate edge says what it is; nothing goes between a step and its undoing.
        label: edge.label ?? (compensate ? "undo" : undefined),
        selected: editing && selected.has(edge.id),
        data: { insertable: editing && !compensate, change, handle, kind },
        ariaLabel: compensate
          ? `Compensation: ${edge.target} undoes ${edge.source}`
          : `Connection ${edge.source} ${handle} to ${edge.target}`,
      };
    });
  }, [shown.edges, selected, editing, changes]);

  const onNodesChange = useCallback((list: NodeChange<StepNode>[]) => {
    const state = useEditor.getState();
    const moves: Record<string, Position> = {};
    const moving: Record<string, Position> = {};
    let dragEnded = false;
    const selection = new Set(state.selected);
    let selectionChanged = false;
    for (const change of list) {
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
    if (selectionChanged) state.select([...selection]);
    if (Object.keys(moving).length) state.setDragged({ ...useEditor.getState().dragged, ...moving });
    if (Object.keys(moves).length || dragEnded) {
      // A drop may come without positions: the last ones seen while dragging are the move.
      const dropped = { ...useEditor.getState().dragged, ...moves };
      state.setDragged({});
      if (Object.keys(dropped).length) state.moveNodes(dropped);
    }
  }, []);

  const onEdgesChange = useCallback((list: EdgeChange[]) => {
    const state = useEditor.getState();
    const selection = new Set(state.selected);
    let selectionChanged = false;
    for (const change of list) {
      if (change.type !== "select") continue;
      selectionChanged = true;
      if (change.selected) selection.add(change.id);
      else selection.delete(change.id);
    }
    if (selectionChanged) state.select([...selection]);
  }, []);

  // While a connection is dragged, React Flow asks about each handle under the pointer; a
  // refused one is not drawn, and why is shown until the drag ends.
  const isValidConnection = useCallback((c: FlowConnection | Edge) => {
    const state = useEditor.getState();
    const problem = connectionProblem(state.graph, state.catalog, {
      source: c.source,
      target: c.target,
      sourceHandle: c.sourceHandle,
    });
    state.setConnectHint(problem);
    return problem === null;
  }, []);

  const onConnect = useCallback(
    (c: FlowConnection) => useEditor.getState().connect({ source: c.source, target: c.target, sourceHandle: c.sourceHandle }),
    [],
  );
  const onConnectEnd = useCallback(() => useEditor.getState().setConnectHint(null), []);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  }, []);
  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_TYPE);
      if (!type || !isEditing(useEditor.getState())) return;
      event.preventDefault();
      useEditor.getState().addNode(type, dropPosition(flow.screenToFlowPosition({ x: event.clientX, y: event.clientY })));
    },
    [flow],
  );

  return (
    <div
      className={classes.canvas}
      data-testid="designer-canvas"
      data-mode={mode.kind}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        edgeTypes={EDGE_TYPES}
        colorMode={scheme}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        isValidConnection={isValidConnection}
        onConnectEnd={onConnectEnd}
        nodesDraggable={editing}
        nodesConnectable={editing}
        elementsSelectable={editing}
        onlyRenderVisibleElements
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        snapToGrid
        snapGrid={SNAP}
        minZoom={0.1}
        maxZoom={2}
        defaultViewport={{ x: 0, y: 0, zoom: 1 }}
        connectionRadius={28}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={SNAP[0]} size={1.4} color="var(--fd-canvas-dots)" />
        <Controls showInteractive={false} fitViewOptions={FIT_VIEW} />
        {shown.nodes.length > 0 && (
        <MiniMap<StepNode>
          pannable
          zoomable
          ariaLabel="Overview of the workflow"
          nodeColor={minimapColor}
          nodeStrokeWidth={0}
          nodeBorderRadius={6}
          className={classes.minimap}
        />
        )}
      </ReactFlow>
      {editing && shown.nodes.length === 0 && <EmptyCanvas />}
      <div className={classes.overlayTop}>
        <NewerVersionNotice />
        <DebugBanner />
        <ModeBanner />
        <CanvasHints />
      </div>
      <ProblemsOverlay />
    </div>
  );
}
