import { describe, expect, it } from "vitest";

import {
  childrenOf,
  expressionCompletions,
  expressionStart,
  typedFilter,
  typedPath,
  upstreamOf,
} from "./completion";
import { EXPRESSION_WIDGET, expressionForm } from "./expressionForm";
import type { GraphDoc, StepTypeInfo } from "./graph";
import { CATALOG } from "./testCatalog";

/** start -> fetch -> {left, right} -> join -> after; lonely hangs off start. */
function diamond(): GraphDoc {
  const node = (id: string, type = "data.transform", label?: string) => ({ id, type, label, config: {} });
  return {
    format: 1,
    nodes: [
      node("start", "trigger.manual", "Start"),
      node("fetch", "data.transform", "Fetch order"),
      node("left", "logic.condition"),
      node("right"),
      node("join"),
      node("after"),
      node("lonely"),
    ],
    edges: [
      { id: "e1", source: "start", target: "fetch" },
      { id: "e2", source: "fetch", target: "left" },
      { id: "e3", source: "fetch", target: "right" },
      { id: "e4", source: "left", source_handle: "true", target: "join" },
      { id: "e5", source: "right", target: "join" },
      { id: "e6", source: "join", target: "after" },
      { id: "e7", source: "start", target: "lonely" },
    ],
    input_schema: {
      type: "object",
      required: ["amount"],
      properties: {
        amount: { type: "number", title: "Amount" },
        customer: {
          type: "object",
          properties: {
            name: { type: "string" },
            address: { type: "object", properties: { city: { type: "string" } } },
          },
        },
        tags: { type: "array", items: { type: "string" } },
        "not-a-name": { type: "string" },
        _private: { type: "string" },
      },
    },
  };
}

const labels = (graph: GraphDoc, id: string, items = false) =>
  expressionCompletions(graph, id, CATALOG, { items }).map((c) => c.label);

describe("upstream steps", () => {
  it("are the ancestors through every path of a diamond, each once, in graph order", () => {
    expect(upstreamOf(diamond(), "join")).toEqual(["start", "fetch", "left", "right"]);
  });

  it("leave out the node itself, what runs after it and side branches", () => {
    const up = upstreamOf(diamond(), "left");
    expect(up).toEqual(["start", "fetch"]);
    expect(up).not.toContain("left");
    expect(up).not.toContain("join");
    expect(up).not.toContain("right");
    expect(up).not.toContain("lonely");
  });

  it("are none for the trigger or an unconnected node", () => {
    const graph = diamond();
    graph.nodes.push({ id: "alone", type: "data.transform", config: {} });
    expect(upstreamOf(graph, "start")).toEqual([]);
    expect(upstreamOf(graph, "alone")).toEqual([]);
  });

  it("never include the node itself, even inside a cycle drawn while editing", () => {
    const graph = diamond();
    graph.edges.push({ id: "back", source: "after", target: "fetch" });
    expect(upstreamOf(graph, "fetch")).not.toContain("fetch");
    expect(upstreamOf(graph, "fetch")).toEqual(expect.arrayContaining(["start", "join", "after"]));
  });
});

describe("what a node's expressions may name", () => {
  it("offers steps.<id>.output, status and error for each upstream step only", () => {
    const names = labels(diamond(), "join");
    for (const id of ["start", "fetch", "left", "right"]) {
      expect(names).toContain(`steps.${id}`);
      expect(names).toContain(`steps.${id}.output`);
      expect(names).toContain(`steps.${id}.status`);
      expect(names).toContain(`steps.${id}.error`);
    }
    expect(names.filter((n) => n.startsWith("steps.join"))).toEqual([]);
    expect(names.filter((n) => n.startsWith("steps.after"))).toEqual([]);
    expect(names.filter((n) => n.startsWith("steps.lonely"))).toEqual([]);
  });

  it("offers the keys the newest run had: upstream outputs and input past its schema", () => {
    const sample = {
      run: 7,
      input: { amount: 5, coupon: "X1", customer: { name: "Ada", vip: true } },
      outputs: {
        fetch: { order: { id: "A-1", lines: [{ sku: "desk" }] }, "bad-key": 1 },
        after: { late: 1 },
        lonely: { never: 1 },
      },
    };
    const found = expressionCompletions(diamond(), "join", CATALOG, { sample });
    const names = found.map((c) => c.label);
    expect(names).toEqual(
      expect.arrayContaining([
        "steps.fetch.output.order",
        "steps.fetch.output.order.id",
        "steps.fetch.output.order.lines",
        "input.coupon",
        "input.customer.vip",
      ]),
    );
    // Only what runs before the node, only dotted names, no list items, nothing twice.
    expect(names.filter((n) => n.startsWith("steps.after") || n.startsWith("steps.lonely"))).toEqual([]);
    expect(names).not.toContain("steps.fetch.output.bad-key");
    expect(names.filter((n) => n.startsWith("steps.fetch.output.order.lines."))).toEqual([]);
    expect(names.filter((n) => n === "input.customer.name")).toHaveLength(1);
    const id = found.find((c) => c.label === "steps.fetch.output.order.id")!;
    expect([id.detail, id.info]).toEqual(["string", 'In run 7: "A-1"']);
  });

  it("offers no steps at all to the trigger", () => {
    expect(labels(diamond(), "start").filter((n) => n.startsWith("steps"))).toEqual([]);
  });

  it("offers input's properties from input_schema, nested objects too", () => {
    const names = labels(diamond(), "fetch");
    expect(names).toEqual(
      expect.arrayContaining([
        "input",
        "input.amount",
        "input.customer",
        "input.customer.name",
        "input.customer.address",
        "input.customer.address.city",
        "input.tags",
      ]),
    );
  });

  it("leaves out property names a dotted path cannot reach or validation refuses", () => {
    const names = labels(diamond(), "fetch");
    expect(names).not.toContain("input.not-a-name");
    expect(names).not.toContain("input._private");
  });

  it("offers only input itself without an input_schema", () => {
    const graph = diamond();
    delete graph.input_schema;
    expect(labels(graph, "fetch").filter((n) => n.startsWith("input"))).toEqual(["input"]);
  });

  it("offers run.id, and item and index only where a map's item is in scope", () => {
    expect(labels(diamond(), "fetch")).toEqual(expect.arrayContaining(["run", "run.id"]));
    expect(labels(diamond(), "fetch")).not.toContain("item");
    expect(labels(diamond(), "fetch", true)).toEqual(expect.arrayContaining(["item", "index"]));
  });

  it("describes each name: schema type and required-ness, the step's label and type", () => {
    const all = expressionCompletions(diamond(), "join", CATALOG);
    const amount = all.find((c) => c.label === "input.amount")!;
    expect(amount.detail).toBe("number");
    expect(amount.info).toContain("Amount");
    expect(amount.info).toContain("Required");
    expect(all.find((c) => c.label === "input.customer.name")!.info).toContain("Optional");
    expect(all.find((c) => c.label === "steps.fetch")!.detail).toBe("Fetch order · Transform");
    // A step whose label is its id is named by its type alone.
    expect(all.find((c) => c.label === "steps.left")!.detail).toBe("Condition");
  });

  it("are listed one level at a time under a parent", () => {
    const all = expressionCompletions(diamond(), "left", CATALOG);
    expect(childrenOf(all, "").map((c) => c.label)).toEqual(["input", "steps", "run"]);
    expect(childrenOf(all, "steps").map((c) => c.label)).toEqual(["steps.start", "steps.fetch"]);
    expect(childrenOf(all, "steps.fetch").map((c) => c.label)).toEqual([
      "steps.fetch.output",
      "steps.fetch.status",
      "steps.fetch.error",
    ]);
    expect(childrenOf(all, "input.customer").map((c) => c.label)).toEqual([
      "input.customer.name",
      "input.customer.address",
    ]);
    expect(childrenOf(all, "steps.fetch.output")).toEqual([]);
  });
});

describe("where a name is being typed", () => {
  it("is anywhere in a bare expression, outside string literals", () => {
    expect(expressionStart("input.amount > 1", "expression")).toBe(0);
    expect(expressionStart("input.name == 'ste", "expression")).toBeNull();
    expect(expressionStart("input.name == 'it\\'s' and st", "expression")).toBe(0);
  });

  it("is only inside {{ }} and {% %} in a template, not in text or comments", () => {
    expect(expressionStart("Hello {{ inp", "template")).toBe(8);
    expect(expressionStart("Hello {{ input.name }} and ste", "template")).toBeNull();
    expect(expressionStart("{% if input.ok %}yes{% else %}{{ steps.", "template")).toBe(32);
    expect(expressionStart("{# steps. ", "template")).toBeNull();
    expect(expressionStart("{# commented out: {{ steps.", "template")).toBeNull();
    expect(expressionStart("{# a #}{{ st", "template")).toBe(9);
    expect(expressionStart("{{ '}}' ~ st", "template")).toBe(2);
    expect(expressionStart("plain text", "template")).toBeNull();
  });

  it("splits the dotted path into its parent and the part typed so far", () => {
    expect(typedPath(" steps.fetch.ou")).toEqual({ parent: "steps.fetch", partial: "ou" });
    expect(typedPath(" steps.")).toEqual({ parent: "steps", partial: "" });
    expect(typedPath("input.amount > inp")).toEqual({ parent: "", partial: "inp" });
    expect(typedPath(" ")).toEqual({ parent: "", partial: "" });
  });

  it("is no known path after an index, a call or a number", () => {
    expect(typedPath("input.items[0].")).toBeNull();
    expect(typedPath("range(3).")).toBeNull();
    expect(typedPath("1.")).toBeNull();
  });

  it("is a filter name after a pipe", () => {
    expect(typedFilter("input.name | up")).toBe("up");
    expect(typedFilter("input.name |")).toBe("");
    expect(typedFilter("input.name")).toBeNull();
  });
});

describe("the config form's expression fields", () => {
  const info = (type: string, schema: Record<string, unknown>, extra: Partial<StepTypeInfo> = {}) => ({
    ...CATALOG[type],
    config_schema: schema,
    ...extra,
  });
  const widget = (mode: string, extra: Record<string, unknown> = {}) => ({
    "ui:widget": EXPRESSION_WIDGET,
    "ui:options": { mode, items: false, multiline: true, ...extra },
  });

  it("puts a bare-expression widget where expression_fields say, in array items too", () => {
    const schema = {
      type: "object",
      properties: {
        cases: {
          type: "array",
          items: {
            type: "object",
            properties: { name: { type: "string", pattern: "^[a-z]+$" }, expression: { type: "string" } },
          },
        },
      },
    };
    const switchInfo = info("logic.switch", schema, { expression_fields: ["cases.*.expression"] });
    expect(expressionForm(switchInfo, {}).uiSchema).toEqual({ cases: { items: { expression: widget("expression") } } });
  });

  it("puts a template widget on free-text strings, single-line for short ones and URLs", () => {
    const schema = {
      type: "object",
      properties: {
        title: { type: "string", maxLength: 1000 },
        url: { type: "string", format: "uri" },
        body: { type: "string", maxLength: 100_000 },
        method: { type: "string", enum: ["GET", "POST"] },
        credential: { type: "string", pattern: "^[a-z]+$" },
        until: { type: "string", format: "date-time" },
        count: { type: "integer" },
      },
    };
    const { uiSchema } = expressionForm(info("data.transform", schema), {});
    expect(uiSchema).toEqual({
      title: widget("template", { multiline: false }),
      url: widget("template", { multiline: false }),
      body: widget("template"),
    });
  });

  it("gives the templated option of an anyOf its widget, and map values theirs", () => {
    const templated = { type: "string", pattern: "^\\s*\\{\\{[\\s\\S]*\\}\\}\\s*$" };
    const schema = {
      type: "object",
      properties: {
        seconds: { anyOf: [{ type: "number" }, templated] },
        headers: { type: "object", additionalProperties: { type: "string", maxLength: 8192 } },
      },
    };
    const { uiSchema } = expressionForm(info("data.transform", schema), {});
    expect(uiSchema).toEqual({
      seconds: { anyOf: [{}, widget("template")] },
      headers: { additionalProperties: widget("template") },
    });
  });

  it("shows an any-value property as a template while it holds a string or nothing", () => {
    const schema = { type: "object", properties: { value: { title: "Value" } }, required: ["value"] };
    for (const value of [undefined, "{{ input.amount }}"]) {
      const form = expressionForm(info("data.transform", schema), value === undefined ? {} : { value });
      expect(form.schema).toEqual({ ...schema, properties: { value: { title: "Value", type: "string" } } });
      expect(form.uiSchema).toEqual({ value: widget("template") });
    }
    const kept = expressionForm(info("data.transform", schema), { value: { total: "{{ input.amount }}" } });
    expect(kept.schema).toBe(schema);
    expect(kept.uiSchema).toEqual({});
  });

  it("marks where item and index are defined when the catalog lists item_fields", () => {
    const schema = {
      type: "object",
      properties: { items: { type: "string" }, input: { type: "object", properties: { id: { type: "string" } } } },
    };
    const map = info("data.transform", schema, { item_fields: ["input"] } as Partial<StepTypeInfo>);
    expect(expressionForm(map, {}).uiSchema).toEqual({
      items: widget("template"),
      input: { id: widget("template", { items: true }) },
    });
  });

  it("leaves trigger configs alone", () => {
    const schema = { type: "object", properties: { cron: { type: "string" } } };
    expect(expressionForm(info("trigger.manual", schema), {}).uiSchema).toEqual({});
  });
});
