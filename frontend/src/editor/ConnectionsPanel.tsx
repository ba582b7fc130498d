/**
 * The selected step's connections as a form: what each output leads to, remove one, add one.
 * It is the keyboard's way to connect steps (dragging a handle needs a pointer), and it applies
 * the same rules as the canvas.
 */
import { useMemo, useState } from "react";

import { DEFAULT_HANDLE, type NodeDoc, connectableTargets, handlesOf } from "./graph";
import { useEditor } from "./store";

export function ConnectionsPanel({ node }: { node: NodeDoc }) {
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const { connect, disconnect } = useEditor.getState();
  const handles = handlesOf(node, catalog);
  const [picked, setHandle] = useState(handles[0] ?? DEFAULT_HANDLE);
  const handle = handles.includes(picked) ? picked : (handles[0] ?? DEFAULT_HANDLE);
  const [target, setTarget] = useState("");
  const outgoing = graph.edges.filter((e) => e.source === node.id);
  const incoming = graph.edges.filter((e) => e.target === node.id);
  const candidates = useMemo(
    () => connectableTargets(graph, catalog, node.id, handle),
    [graph, catalog, node.id, handle],
  );
  const chosen = candidates.some((n) => n.id === target) ? target : (candidates[0]?.id ?? "");
  const labelOf = (id: string) => graph.nodes.find((n) => n.id === id)?.label || id;

  return (
    <fieldset className="connections" aria-label={`Connections of ${node.id}`}>
      <legend>Connections</legend>
      {incoming.length > 0 && (
        <p className="help">From: {incoming.map((e) => labelOf(e.source)).join(", ")}</p>
      )}
      <ul>
        {outgoing.map((edge) => (
          <li key={edge.id}>
            {edge.source_handle || DEFAULT_HANDLE} → {labelOf(edge.target)}
            <button type="button" onClick={() => disconnect(edge.id)}>
              Remove connection {edge.source_handle || DEFAULT_HANDLE} to {edge.target}
            </button>
          </li>
        ))}
      </ul>
      {handles.length > 0 && (
        <div className="connect-form">
          <label>
            Output
            <select value={handle} onChange={(e) => setHandle(e.target.value)}>
              {handles.map((h) => (
                <option key={h}>{h}</option>
              ))}
            </select>
          </label>
          <label>
            Next step
            <select value={chosen} onChange={(e) => setTarget(e.target.value)}>
              {candidates.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.label ? `${n.label} (${n.id})` : n.id}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            disabled={!chosen}
            onClick={() => connect({ source: node.id, target: chosen, sourceHandle: handle })}
          >
            Connect
          </button>
        </div>
      )}
    </fieldset>
  );
}
