import { DEFAULT_THEME } from "@mantine/core";
import { describe, expect, it } from "vitest";

import { contrast, readableLightColor, readableOn, theme } from "./theme";

describe("the light variant's text", () => {
  it.each(Object.keys({ ...DEFAULT_THEME.colors, ...theme.colors }))("reads at 4.5:1 on its background in %s", (name) => {
    const shades = (theme.colors?.[name] ?? DEFAULT_THEME.colors[name]) as readonly string[];
    expect(contrast(readableLightColor(shades), shades[1])).toBeGreaterThanOrEqual(4.5);
  });

  it.each(Object.keys(DEFAULT_THEME.colors))("coloured text reads at 4.5:1 on white in %s", (name) => {
    expect(contrast(readableOn(DEFAULT_THEME.colors[name][6], "#ffffff"), "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });

  it("keeps a colour that already reads (blue's shade 9)", () => {
    expect(readableLightColor(DEFAULT_THEME.colors.blue)).toBe(DEFAULT_THEME.colors.blue[9]);
  });

  it("darkens one that does not (yellow's shade 9 is 2.7:1)", () => {
    expect(contrast(DEFAULT_THEME.colors.yellow[9], DEFAULT_THEME.colors.yellow[1])).toBeLessThan(3);
    expect(readableLightColor(DEFAULT_THEME.colors.yellow)).not.toBe(DEFAULT_THEME.colors.yellow[9]);
  });
});
