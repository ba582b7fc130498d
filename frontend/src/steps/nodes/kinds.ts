/** Which node view draws a step: its category's, or `step` (no React here: flowNodes.ts uses it). */
export const NODE_KINDS = ["step", "trigger", "logic", "flow", "data", "http", "human", "notify", "code"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** The React Flow node type drawing a step of `category`. */
export function nodeTypeOf(category: string): NodeKind {
  return (NODE_KINDS as readonly string[]).includes(category) ? (category as NodeKind) : "step";
}
