/**
 * Flowdeck's one look (STYLE 21): type, spacing, radius, colours and component defaults come
 * from this theme, in light and dark; pages add layout only. The status palette every page
 * shares (graph, badges, tables, charts) is `status.ts`, built on these colour names.
 */
import {
  type CSSVariablesResolver,
  darken,
  type MantineColorsTuple,
  createTheme,
  localStorageColorSchemeManager,
} from "@mantine/core";

/** The brand: a blue leaning to violet, readable on white and on dark grey. */
const flow: MantineColorsTuple = [
  "#eef2ff",
  "#dfe3fb",
  "#bcc4f1",
  "#97a3e8",
  "#7786e0",
  "#6274dc",
  "#566ada",
  "#4659c2",
  "#3d4fae",
  "#31439a",
];

export const COLOR_SCHEME_KEY = "flowdeck-color-scheme";

/** The user's choice (light, dark or auto: follow the system), remembered in this browser.
 * `public/color-scheme.js` reads the same key before the first paint. */
export const colorSchemeManager = localStorageColorSchemeManager({ key: COLOR_SCHEME_KEY });

export const theme = createTheme({
  primaryColor: "flow",
  // Dark 6, not 5: white on shade 5 is 4.2:1, under WCAG AA's 4.5 for a button's label.
  primaryShade: { light: 6, dark: 6 },
  colors: { flow },
  fontFamily: "'Inter Variable', Inter, system-ui, -apple-system, 'Segoe UI', sans-serif",
  fontFamilyMonospace: "'JetBrains Mono Variable', ui-monospace, 'DejaVu Sans Mono', monospace",
  headings: {
    fontFamily: "'Inter Variable', Inter, system-ui, sans-serif",
    fontWeight: "650",
    sizes: {
      h1: { fontSize: "1.5rem", lineHeight: "1.3" },
      h2: { fontSize: "1.2rem", lineHeight: "1.35" },
      h3: { fontSize: "1.02rem", lineHeight: "1.4" },
      h4: { fontSize: "0.92rem", lineHeight: "1.4" },
    },
  },
  fontSizes: { xs: "0.75rem", sm: "0.875rem", md: "0.95rem", lg: "1.06rem", xl: "1.25rem" },
  defaultRadius: "md",
  cursorType: "pointer",
  // Text on filled colours turns dark where white would be unreadable (yellow, lime).
  autoContrast: true,
  focusRing: "auto",
  respectReducedMotion: true,
  components: {
    Button: { defaultProps: { radius: "md" } },
    Badge: { defaultProps: { radius: "sm", variant: "light" } },
    Tooltip: { defaultProps: { withArrow: true, openDelay: 250 } },
    Paper: { defaultProps: { radius: "md" } },
    Card: { defaultProps: { radius: "md", withBorder: true } },
    // Mantine's close button has no name of its own (axe: button-name).
    Modal: { defaultProps: { radius: "md", centered: true, closeButtonProps: { "aria-label": "Close" } } },
    // The placeholder that takes the first focus is a presentational element with a tabindex
    // inside role="menu": axe-core's aria-required-children fails every open menu (critical).
    Menu: { defaultProps: { withInitialFocusPlaceholder: false } },
    Notification: { defaultProps: { radius: "md" } },
  },
  other: {
    /** The app shell's header height, for pages that fill the viewport below it. */
    headerHeight: 56,
  },
});

// --- Contrast -----------------------------------------------------------------------------------
// WCAG relative luminance and contrast ratio of two CSS colours (#rrggbb or rgba(...)).
function channels(color: string): number[] {
  if (color.startsWith("#")) return [1, 3, 5].map((i) => Number.parseInt(color.slice(i, i + 2), 16));
  return (color.match(/\d+(\.\d+)?/g) ?? ["0", "0", "0"]).slice(0, 3).map(Number);
}
function luminance(color: string): number {
  const [r, g, b] = channels(color).map((c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The text colour of a `light` variant (badges, alerts, light buttons) in the light scheme:
 * Mantine's shade 9 on shade 1, darkened until it reads at 4.6:1 (WCAG AA is 4.5:1; teal,
 * green, lime, yellow and orange fall short as they are: yellow's 9 on 1 is 2.7:1). */
export function readableLightColor(shades: readonly string[]): string {
  return readableOn(shades[9], shades[1]);
}

/** `color`, darkened until it reads at 4.6:1 on `background`. */
export function readableOn(color: string, background: string): string {
  let readable = color;
  for (let amount = 0.05; contrast(readable, background) < 4.6 && amount < 0.9; amount += 0.05) {
    readable = darken(color, amount);
  }
  return readable;
}

/** Colours the theme object cannot hold: the page and surface backgrounds per scheme, used by
 * the canvas and the app shell. */
export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    ...Object.fromEntries(
      Object.entries(t.colors).flatMap(([name, shades]) => [
        [`--mantine-color-${name}-light-color`, readableLightColor(shades)],
        // Coloured text (a red "Log out", Text c="red"): shade 6 on white is 3.3:1 in red.
        [`--mantine-color-${name}-text`, readableOn(shades[6], t.white)],
      ]),
    ),
    // Mantine's dimmed grey (#868e96) is 3.3:1 on white; secondary text must reach 4.5:1 (WCAG AA).
    "--mantine-color-dimmed": "#5f6770",
    // Links on the page's grey (#f8f9fa) need 4.5:1: the brand's shade 6 gives 4.46.
    "--mantine-color-anchor": t.colors.flow[7],
    "--fd-page": t.colors.gray[0],
    "--fd-surface": t.white,
    "--fd-canvas": "#f7f8fb",
    "--fd-canvas-dots": t.colors.gray[4],
    "--fd-border": t.colors.gray[3],
  },
  dark: {
    // Mantine's dark dimmed (#828282) is 4.0:1 on the surface; this one is 5.5 (4.8 on a hovered row).
    "--mantine-color-dimmed": "#9a9a9a",
    "--fd-page": t.colors.dark[8],
    "--fd-surface": t.colors.dark[7],
    "--fd-canvas": t.colors.dark[8],
    "--fd-canvas-dots": t.colors.dark[4],
    "--fd-border": t.colors.dark[4],
  },
});
