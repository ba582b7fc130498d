/** A run's graph, read-only: each step the designer's card (ui/StepCard), coloured by its
 * status from the shared palette, active steps pulsing; fit so labels stay readable; on a
 * narrow screen laid out top to bottom to fit the width. */
import { Badge, Box, Center, Group, Loader, Text, useComputedColorScheme } from "@mantine/core";
import { useElementSize } from "@mantine/hooks";
import { IconArrowBackUp, IconFocusCentered } from "@tabler/icons-react";
import {
  Background,
  ControlButton,
  Controls,
  Handle,
  MiniMap,
  type NodeChange,
  type NodeProps,
  Position as Side,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useReactFlow,
} from "@xyflow/react";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { Catalog, GraphDoc, Position } from "../editor/graph";
import { COMPENSATION_COLOR, statusLook, statusVar } from "../status";
import { Countdown } from "../ui/Countdown";
import { StatusBadge } from "../ui/StatusBadge";
import { StepCard } from "../ui/StepCard";
import { CARD, runLayout } from "./layout";
import { type RunNode, RunFlowNodes, type RunStep, fitViewport, focusStep, labelMinZoom, positionsOverlap, runEdges, statusCounts } from "./model";
import classes from "./RunGraph.module.css";

/** The card's label is the theme's `sm` text: 0.875rem. */
const LABEL_PX = 14;
const MIN_HEIGHT = 260;
const MAX_HEIGHT = 560;
export const MIN_ZOOM = labelMinZoom(LABEL_PX);

/** Where the n-th of `count` handles sits along the card's side, in percent. */
function spread(index: number, count: number): string {
  return `${((index + 1) / (count + 1)) * 100}%`;
}

const RunStepView = memo(function RunStepView({ id, data, selected }: NodeProps<RunNode>) {
  const look = statusLook(data.status);
  const into = data.vertical ? Side.Top : Side.Left;
  const out = data.vertical ? Side.Bottom : Side.Right;
  return (
    <div className="run-step" data-id={id} data-status={data.status} data-compensation={data.undoes !== null || undefined}>
      <StepCard
        type={data.type}
        category={data.category}
        label={data.label}
        subtitle={data.title}
        status={data.status}
        active={look.active}
        selected={selected}
        className={data.undoes !== null ? `${classes.card} ${classes.compensation}` : classes.card}
      >
        {/* On the type's line, right: the label keeps the card's whole width. */}
        <Group gap={4} wrap="nowrap" className={classes.status}>
          {data.attempt > 1 && (
            <Badge size="sm" variant="default" tt="none" className="attempt-badge" title={`attempt ${data.attempt}`}>
              ×{data.attempt}
            </Badge>
          )}
          <StatusBadge status={data.status} size="sm" tt="none" />
        </Group>
        {/* Compensation (issue 20) hangs on the card's top-left edge, as the countdown does on
            the right: what undoes what, without crowding the card's lines. */}
        {(data.undoes !== null || data.undoneBy !== null) && (
          <Group gap={4} wrap="nowrap" className={classes.compensationTag}>
            {data.undoes !== null && (
              <Badge
                size="sm"
                color={COMPENSATION_COLOR}
                variant="light"
                tt="none"
                leftSection={<IconArrowBackUp size={12} />}
                title={`Undoes ${data.undoes}`}
                aria-label={`Undoes ${data.undoes}`}
              >
                undo
              </Badge>
            )}
            {data.undoneBy !== null && (
              <Badge
                size="sm"
                color={COMPENSATION_COLOR}
                variant="outline"
                tt="none"
                title={`Undone by ${data.undoneBy}`}
                aria-label={`Undone by ${data.undoneBy}`}
              >
                undone
              </Badge>
            )}
          </Group>
        )}
        {/* A waiting person's time left hangs on the card's top edge: the card keeps the
            size the layout gave it. */}
        {data.task?.due_at && (
          <span className={classes.countdown}>
            <Countdown due={data.task.due_at} from={data.task.due_from} escalatedTo={data.task.escalated_to} size="xs" />
          </span>
        )}
        <Handle type="target" position={into} isConnectable={false} className={classes.handle} />
        {/* A compensation is entered low on its input side (from the left, top to bottom on a
            phone) by its compensate edge, which leaves its step low on the output side: the
            layout puts the compensation in the next column, and the edge stays a short curve. */}
        {data.undoes !== null && (
          <Handle
            id="compensation"
            type="target"
            position={Side.Left}
            isConnectable={false}
            className={classes.handle}
            style={{ top: "85%" }}
          />
        )}
        {data.handles.map((handle, index) => (
          <Handle
            key={handle}
            id={handle}
            type="source"
            position={out}
            isConnectable={false}
            className={classes.handle}
            style={data.vertical ? { left: spread(index, data.handles.length) } : { top: spread(index, data.handles.length) }}
          />
        ))}
        {data.compensable && (
          <Handle
            id="compensate"
            type="source"
            position={Side.Right}
            isConnectable={false}
            className={classes.handle}
            style={{ top: "85%" }}
          />
        )}
      </StepCard>
    </div>
  );
});

// Declared once at module scope (STYLE 17).
const NODE_TYPES = { runStep: RunStepView };

type Props = {
  graph: GraphDoc;
  catalog: Catalog;
  steps: RunStep[];
  selected: string | null;
  onSelect: (node: string) => void;
  /** Top to bottom, the width fitted, no panning (a phone): the page scrolls instead. */
  vertical?: boolean;
};

export function RunGraph(props: Props) {
  return (
    <ReactFlowProvider>
      <RunGraphCanvas {...props} />
    </ReactFlowProvider>
  );
}

/** Which statuses the graph shows, with how many steps are in each: the palette's legend. */
export function Legend({ steps, nodes }: { steps: RunStep[]; nodes: string[] }) {
  return (
    <Group gap={6} aria-label="Legend" role="group">
      {statusCounts(steps, nodes).map(({ status, count }) => {
        const look = statusLook(status);
        return (
          <Badge key={status} color={look.color} variant="dot" size="md" tt="none" fw={500} data-status={status}>
            {look.label} · {count}
          </Badge>
        );
      })}
    </Group>
  );
}

function RunGraphCanvas({ graph, catalog, steps, selected, onSelect, vertical = false }: Props) {
  const scheme = useComputedColorScheme("light");
  // The designer's positions, unless they were saved for smaller nodes than these cards.
  const saved = useMemo(
    () => graph.nodes.every((n) => n.position) && !positionsOverlap(graph.nodes.map((n) => n.position as Position), CARD),
    [graph],
  );
  const [laid, setLaid] = useState<{ key: string; positions: Record<string, Position> } | null>(null);
  const layoutKey = `${vertical}`;
  useEffect(() => {
    if (saved && !vertical) return;
    let live = true;
    runLayout(graph, catalog, vertical).then((positions) => live && setLaid({ key: layoutKey, positions }));
    return () => {
      live = false;
    };
  }, [graph, catalog, vertical, saved, layoutKey]);
  const positions = saved && !vertical ? EMPTY : laid?.key === layoutKey ? laid.positions : null;

  const byNode = useMemo(() => new Map(steps.map((s) => [s.node, s])), [steps]);
  const flowNodes = useRef(new RunFlowNodes());
  // The flow is controlled: sizes React Flow measured go back into the nodes (a new render),
  // or it would take them as unmeasured (no fit, no minimap).
  const [sizes, setSizes] = useState(0);
  const nodes = useMemo(
    () => (positions ? flowNodes.current.build(graph, catalog, byNode, positions, selected, vertical) : []),
    // `sizes`: rebuilt with the sizes measured meanwhile.
    [graph, catalog, byNode, positions, selected, vertical, sizes],
  );
  const edges = useMemo(() => runEdges(graph, byNode), [graph, byNode]);
  const onNodesChange = useCallback((changes: NodeChange<RunNode>[]) => {
    let measured = false;
    for (const change of changes) {
      if (change.type === "dimensions" && change.dimensions) {
        flowNodes.current.measured(change.id, change.dimensions);
        measured = true;
      }
    }
    if (measured) setSizes((n) => n + 1);
  }, []);

  // On a phone the canvas is as tall as the graph at the zoom that fits its width.
  const { ref: box, width } = useElementSize();
  const bounds = useMemo(() => {
    if (!positions) return null;
    const points = graph.nodes.map((n) => positions[n.id] ?? n.position ?? { x: 0, y: 0 });
    if (points.length === 0) return { x: 0, y: 0, width: 1, height: 1 };
    const xs = points.map((p) => p.x);
    const ys = points.map((p) => p.y);
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    return { x, y, width: Math.max(...xs) + CARD.width - x, height: Math.max(...ys) + CARD.height - y };
  }, [graph, positions]);
  // The canvas is as tall as the graph at the zoom that fits the width (within limits), so a
  // long flat graph leaves no empty band; on a phone it takes the whole height (the page
  // scrolls, the graph does not pan).
  const sizing = useMemo(() => {
    if (!bounds || !width) return { width, height: vertical ? 320 : 300, fits: true };
    if (vertical) {
      // A graph wider than the screen at the readable zoom scrolls sideways inside its card.
      const zoom = Math.max(MIN_ZOOM, Math.min(1, (width - 32) / bounds.width));
      const fits = bounds.width * zoom <= width - 32;
      return { width: fits ? width : Math.ceil(bounds.width * zoom + 32), height: Math.round(bounds.height * zoom + 40), fits };
    }
    const room = width - 48;
    const zoom = Math.max(MIN_ZOOM, Math.min(1, room / bounds.width, (MAX_HEIGHT - 96) / bounds.height));
    const height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.round(bounds.height * zoom + 96)));
    return { width, height, fits: bounds.width * zoom <= room && bounds.height * zoom <= height - 96 };
  }, [vertical, bounds, width]);

  const flow = useReactFlow();
  const measured = useNodesInitialized();
  // Read when fitting, not a dependency: a status change must not move the view.
  const focus = useRef<string | null>(null);
  focus.current = selected ?? focusStep(steps);
  const fit = useCallback(() => {
    if (!sizing.width || nodes.length === 0) return;
    const area = flow.getNodesBounds(nodes.map((n) => n.id));
    // Below the graph: a band for the zoom controls (none on a phone).
    const room = { width: sizing.width, height: vertical ? sizing.height : sizing.height - 40 };
    const node = focus.current ? flow.getInternalNode(focus.current) : undefined;
    const around = node
      ? { ...node.internals.positionAbsolute, width: node.measured.width ?? CARD.width, height: node.measured.height ?? CARD.height }
      : null;
    void flow.setViewport(fitViewport(area, room, { minZoom: MIN_ZOOM, padding: vertical ? 16 : 24, vertical, focus: around }));
    // Only when the layout or the box changes (`nodes` is read, not a dependency): a status
    // change must not move the view under the user.
  }, [flow, sizing, measured, positions, vertical]);
  useEffect(() => {
    if (measured) fit();
  }, [fit, measured]);

  // A step chosen elsewhere (the steps table, the timeline) is brought into view if the
  // graph does not show it, at the same zoom.
  useEffect(() => {
    if (!selected || !measured || !sizing.width) return;
    const node = flow.getInternalNode(selected);
    if (!node) return;
    const { x, y, zoom } = flow.getViewport();
    const { width: w = CARD.width, height: h = CARD.height } = node.measured;
    const left = node.internals.positionAbsolute.x * zoom + x;
    const top = node.internals.positionAbsolute.y * zoom + y;
    const room = { width: sizing.width, height: vertical ? sizing.height : sizing.height - 40 };
    if (left >= 0 && top >= 0 && left + w * zoom <= room.width && top + h * zoom <= room.height) return;
    void flow.setCenter(node.internals.positionAbsolute.x + w / 2, node.internals.positionAbsolute.y + h / 2, { zoom, duration: 250 });
  }, [selected, measured, sizing, flow, vertical]);

  return (
    <Box ref={box} className={classes.frame} data-testid="run-graph" data-vertical={vertical || undefined}>
      <Box className={classes.canvas} w={vertical ? sizing.width || "100%" : "100%"} h={sizing.height}>
      {!positions ? (
        <Center h="100%">
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm" c="dimmed">
              Laying out the graph…
            </Text>
          </Group>
        </Center>
      ) : (
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={NODE_TYPES}
          onNodesChange={onNodesChange}
          onNodeClick={(_, node) => onSelect(node.id)}
          colorMode={scheme}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          deleteKeyCode={null}
          minZoom={0.2}
          maxZoom={1.5}
          // A phone scrolls the page over the graph; the graph is fitted to the width.
          panOnDrag={!vertical}
          zoomOnPinch={!vertical}
          zoomOnScroll={false}
          panOnScroll={!vertical}
          preventScrolling={!vertical}
          zoomOnDoubleClick={false}
          onlyRenderVisibleElements={nodes.length > 200}
          proOptions={{ hideAttribution: true }}
        >
          <Background color="var(--fd-canvas-dots)" bgColor="var(--fd-canvas)" gap={20} />
          {!vertical && (
            <>
              <Controls showInteractive={false} showFitView={false} position="bottom-left" orientation="horizontal">
                <ControlButton onClick={fit} aria-label="Fit the graph" title="Fit the graph">
                  <IconFocusCentered />
                </ControlButton>
              </Controls>
              {!sizing.fits && (
              <MiniMap
                pannable
                zoomable
                ariaLabel="Mini map of the run's steps"
                nodeColor={(node) => statusVar((node as RunNode).data.status)}
                nodeStrokeColor={(node) => statusVar((node as RunNode).data.status)}
                nodeBorderRadius={8}
                bgColor="var(--fd-surface)"
                maskColor="color-mix(in srgb, var(--fd-canvas) 70%, transparent)"
                style={{ width: 160, height: 100 }}
              />
              )}
            </>
          )}
        </ReactFlow>
      )}
      </Box>
    </Box>
  );
}

const EMPTY: Record<string, Position> = {};
