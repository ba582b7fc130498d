/**
 * Completion in expression fields (CONTRACT §2): what a node's expressions may name, and where
 * in a field's text a name is being typed. Pure: no React, no store, no CodeMirror, so the rules
 * are unit-tested on their own and the widget using them (ExpressionWidget) stays a thin shell.
 * Only that lazily loaded widget imports this module, so it stays out of the main bundle.
 */
import type { Catalog, GraphDoc, StepTypeInfo } from "./graph";

/** One name an expression may use, as a full dotted path (`steps.fetch.output`). */
export type ExpressionCompletion = {
  label: string;
  /** Shown beside the name: a schema type, or the step's label and type. */
  detail: string;
  info?: string;
  /** CodeMirror's completion type: a root name, a member, or a filter. */
  type: "variable" | "property" | "function";
};

/** `expression`: a bare expression (a condition); `template`: text with `{{ }}` and `{% %}`. */
export type ExpressionMode = "expression" | "template";

/** What the panel (expressionForm.tsx) tells the widget through `ui:options`. */
export type ExpressionFieldOptions = {
  mode: ExpressionMode;
  /** `item` and `index` are defined here (a map's per-item input). */
  items: boolean;
  /** Whether Enter starts a new line; single-line fields (a URL, a title) keep one line. */
  multiline: boolean;
};

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
// input_schema may be deep or (through a $ref-less copy) very large; names past this are rare.
const MAX_INPUT_DEPTH = 8;

// Jinja2's built-in filters, all of which the sandbox allows (ENV.filters in designer/expressions.py,
// without the one-letter aliases d and e).
export const FILTERS: readonly string[] = (
  "abs attr batch capitalize center count default dictsort escape filesizeformat first float " +
  "forceescape format groupby indent int items join last length list lower map max min pprint " +
  "random reject rejectattr replace reverse round safe select selectattr slice sort string " +
  "striptags sum title tojson trim truncate unique upper urlencode urlize wordcount wordwrap xmlattr"
).split(" ");

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The steps that run before `nodeId`: its ancestors along the edges, in the graph's node order. */
export function upstreamOf(graph: GraphDoc, nodeId: string): string[] {
  const before = new Map<string, string[]>();
  for (const edge of graph.edges) before.set(edge.target, [...(before.get(edge.target) ?? []), edge.source]);
  const seen = new Set<string>();
  const stack = [...(before.get(nodeId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(before.get(id) ?? []));
  }
  // A cycle (refused on save, possible while editing) would make the node its own ancestor.
  seen.delete(nodeId);
  return graph.nodes.filter((n) => seen.has(n.id)).map((n) => n.id);
}

/** A schema's type for a completion's detail: `number`, `string (date-time)`, `string | null`. */
function typeOf(schema: Schema): string {
  const type = schema.type;
  let text = Array.isArray(type) ? type.join(" | ") : typeof type === "string" ? type : "";
  if (!text && isObject(schema.properties)) text = "object";
  if (!text && Array.isArray(schema.enum)) text = "enum";
  if (!text) return "any";
  return typeof schema.format === "string" ? `${text} (${schema.format})` : text;
}

function describe(schema: Schema, required: boolean): string {
  const parts = [schema.title, schema.description].filter((s): s is string => typeof s === "string" && !!s);
  if (Array.isArray(schema.enum)) parts.push(`One of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}.`);
  // StrictUndefined: reading a property the run left out is an error, not an empty value.
  parts.push(required ? "Required." : "Optional: reading it fails when a run leaves it out.");
  return parts.join(" ");
}

function inputProperties(schema: unknown, path: string, depth: number): ExpressionCompletion[] {
  if (!isObject(schema) || !isObject(schema.properties) || depth >= MAX_INPUT_DEPTH) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const found: ExpressionCompletion[] = [];
  for (const [name, property] of Object.entries(schema.properties)) {
    // Only names a dotted path can reach; `_x` is refused by validation anyway.
    if (!IDENTIFIER.test(name) || !isObject(property)) continue;
    const label = `${path}.${name}`;
    found.push({ label, detail: typeOf(property), info: describe(property, required.has(name)), type: "property" });
    found.push(...inputProperties(property, label, depth + 1));
  }
  return found;
}

/** The newest run's data, whose keys completion offers beside the schemas' (issue 18). */
export type RunSample = { run: number; input: unknown; outputs: Record<string, unknown> };

const MAX_SAMPLE_DEPTH = 4;
const MAX_SAMPLE_KEYS = 200;

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "object" : typeof value;
}

function sampleText(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** The keys of a run's value under `path` (objects only: a list's items have no dotted name),
 * each with its JSON type and the value it had in run `run`. */
function sampleProperties(value: unknown, path: string, run: number, depth: number, found: ExpressionCompletion[]): void {
  if (!isObject(value) || depth >= MAX_SAMPLE_DEPTH) return;
  for (const [name, item] of Object.entries(value)) {
    if (found.length >= MAX_SAMPLE_KEYS) return;
    if (!IDENTIFIER.test(name)) continue;
    const label = `${path}.${name}`;
    found.push({ label, detail: kindOf(item), info: `In run ${run}: ${sampleText(item)}`, type: "property" });
    sampleProperties(item, label, run, depth + 1, found);
  }
}

/**
 * Every name valid in the expressions of node `nodeId` (CONTRACT §2), with each dotted prefix:
 * `input` and the properties of `input_schema`, `steps.<id>.output|status|error` for the steps
 * upstream of the node (never itself or what runs after it), `run.id`, and `item` and `index`
 * where a map's per-item input is built (`scope.items`).
 */
export function expressionCompletions(
  graph: GraphDoc,
  nodeId: string,
  catalog: Catalog,
  scope: { items?: boolean; sample?: RunSample | null } = {},
): ExpressionCompletion[] {
  const root = (label: string, detail: string, info: string): ExpressionCompletion => ({
    label,
    detail,
    info,
    type: "variable",
  });
  const member = (label: string, detail: string, info?: string): ExpressionCompletion => ({
    label,
    detail,
    info,
    type: "property",
  });
  const found = [
    root("input", "object", "The run's input, checked against the input schema."),
    ...inputProperties(graph.input_schema, "input", 0),
  ];
  const upstream = upstreamOf(graph, nodeId);
  if (upstream.length) found.push(root("steps", "earlier steps", "The steps that run before this one, by id."));
  for (const id of upstream) {
    const node = graph.nodes.find((n) => n.id === id)!;
    const info: StepTypeInfo | undefined = catalog[node.type];
    const title = info?.title ?? node.type;
    found.push(
      member(`steps.${id}`, node.label && node.label !== id ? `${node.label} · ${title}` : title, info?.description),
      member(`steps.${id}.output`, "output", `What ${id} produced when it succeeded.`),
      member(`steps.${id}.status`, "string", `How ${id} ended: succeeded, failed, skipped or cancelled.`),
      member(`steps.${id}.error`, "object | null", `Why ${id} failed (message, code), read after its error edge.`),
    );
  }
  // The keys the newest run really had, where the schemas say nothing of them: an output's
  // keys (no step type publishes an output schema) and input the schema leaves open.
  const sample = scope.sample;
  if (sample) {
    const seen = new Set(found.map((c) => c.label));
    const real: ExpressionCompletion[] = [];
    sampleProperties(sample.input, "input", sample.run, 0, real);
    for (const id of upstream) sampleProperties(sample.outputs[id], `steps.${id}.output`, sample.run, 0, real);
    found.push(...real.filter((c) => !seen.has(c.label)));
  }
  found.push(root("run", "object", "This run."), member("run.id", "integer", "This run's id."));
  if (scope.items) {
    found.push(
      root("item", "any", "The current item of the list being mapped."),
      root("index", "integer", "The current item's position in the list, from 0."),
    );
  }
  return found;
}

/** The completions one segment below `parent` (`""` for the root names). */
export function childrenOf(completions: ExpressionCompletion[], parent: string): ExpressionCompletion[] {
  const depth = parent ? parent.split(".").length + 1 : 1;
  return completions.filter(
    (c) => c.label.split(".").length === depth && (!parent || c.label.startsWith(`${parent}.`)),
  );
}

/**
 * Where the expression around the end of `text` starts, or null when the end is not inside one:
 * in a template, plain text, a `{# #}` comment and string literals hold no names.
 */
export function expressionStart(text: string, mode: ExpressionMode): number | null {
  let state: "text" | "code" | "comment" = mode === "expression" ? "code" : "text";
  let start = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const pair = text.slice(i, i + 2);
    if (state === "text") {
      if (pair === "{{" || pair === "{%") {
        state = "code";
        start = i + 2;
        i++;
      } else if (pair === "{#") {
        state = "comment";
        i++;
      }
    } else if (state === "comment") {
      if (pair === "#}") {
        state = "text";
        i++;
      }
    } else if (quote) {
      if (text[i] === "\\") i++;
      else if (text[i] === quote) quote = "";
    } else if (text[i] === "'" || text[i] === '"') {
      quote = text[i];
    } else if (mode === "template" && (pair === "}}" || pair === "%}")) {
      state = "text";
      i++;
    }
  }
  return state === "code" && !quote ? start : null;
}

/** The dotted name being typed at the end of an expression: `steps.fetch.ou` is parent
 * `steps.fetch`, partial `ou`. Null after `x[0].`, `f().` or a number, which name nothing known. */
export function typedPath(expression: string): { parent: string; partial: string } | null {
  const match = /(?<![\w.\])'"])((?:[A-Za-z_]\w*\.)*)([A-Za-z_]\w*)?$/.exec(expression);
  if (!match) return null;
  return { parent: match[1].replace(/\.$/, ""), partial: match[2] ?? "" };
}

/** The filter name being typed after a `|` at the end of an expression, or null. */
export function typedFilter(expression: string): string | null {
  const match = /\|\s*([A-Za-z_]\w*)?$/.exec(expression);
  return match ? (match[1] ?? "") : null;
}
