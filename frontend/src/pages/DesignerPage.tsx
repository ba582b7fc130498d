import { Background, Controls, MiniMap, ReactFlow } from "@xyflow/react";

// The canvas the designer issue fills with workflows; empty for now.
export function DesignerPage() {
  return (
    <section className="page page-designer" aria-labelledby="designer-title">
      <h1 id="designer-title">Designer</h1>
      <div className="canvas" data-testid="designer-canvas">
        <ReactFlow nodes={[]} edges={[]} fitView>
          <Background />
          <Controls />
          <MiniMap />
        </ReactFlow>
      </div>
    </section>
  );
}
