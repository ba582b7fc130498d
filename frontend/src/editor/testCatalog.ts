import type { Catalog, StepTypeInfo } from "./graph";

function entry(type: string, handles: string[] | null, extra: Partial<StepTypeInfo> = {}): StepTypeInfo {
  return {
    type,
    title: type,
    category: type.split(".")[0],
    description: "",
    is_trigger: false,
    config_schema: {},
    handles,
    handles_from_config: null,
    expression_fields: [],
    ...extra,
  };
}

/** A small catalog shaped like GET /api/step-types/. */
export const CATALOG: Catalog = {
  "trigger.manual": entry("trigger.manual", ["out", "error"], { is_trigger: true, title: "Manual start" }),
  "data.transform": entry("data.transform", ["out", "error"], { title: "Transform" }),
  "logic.condition": entry("logic.condition", ["true", "false", "error"], { title: "Condition" }),
  "logic.switch": entry("logic.switch", null, {
    handles_from_config: { list: "cases", key: "name", then: ["default"] },
  }),
  "flow.fail": entry("flow.fail", ["error"]),
};
