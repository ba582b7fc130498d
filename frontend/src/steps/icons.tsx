/**
 * Every step category and type has an SVG icon and a colour (issue 17): the palette, the
 * canvas, the run graph, the inbox and the command palette draw steps with `StepIcon`. SVG
 * from Tabler, so nothing depends on the fonts of the machine (Unicode pictographs rendered as
 * empty boxes with Debian's fonts).
 */
import { type MantineColor, ThemeIcon, type ThemeIconProps } from "@mantine/core";
import {
  type Icon,
  IconArrowBackUpDouble,
  IconArrowsSplit,
  IconBraces,
  IconBrandPython,
  IconCircleX,
  IconClock,
  IconCode,
  IconForms,
  IconGitBranch,
  IconHandClick,
  IconHourglass,
  IconMail,
  IconRepeat,
  IconSitemap,
  IconSquare,
  IconTransform,
  IconUserCheck,
  IconUsers,
  IconWebhook,
  IconWorldWww,
  IconBell,
  IconBolt,
  IconRoute,
} from "@tabler/icons-react";

export type CategoryLook = { color: MantineColor; icon: Icon; label: string };

/** One colour per category: the steps of a kind read as a family on the canvas. */
export const CATEGORIES: Record<string, CategoryLook> = {
  trigger: { color: "teal", icon: IconBolt, label: "Triggers" },
  http: { color: "blue", icon: IconWorldWww, label: "HTTP" },
  data: { color: "cyan", icon: IconBraces, label: "Data" },
  logic: { color: "violet", icon: IconRoute, label: "Logic" },
  flow: { color: "orange", icon: IconSitemap, label: "Flow" },
  human: { color: "pink", icon: IconUsers, label: "Human" },
  notify: { color: "yellow", icon: IconBell, label: "Notify" },
  code: { color: "gray", icon: IconCode, label: "Code" },
};

const FALLBACK: CategoryLook = { color: "gray", icon: IconSquare, label: "Other" };

/** A type's own icon where it says more than its category's. */
const TYPE_ICONS: Record<string, Icon> = {
  "trigger.manual": IconHandClick,
  "trigger.schedule": IconClock,
  "trigger.webhook": IconWebhook,
  "http.request": IconWorldWww,
  "data.transform": IconTransform,
  "logic.condition": IconGitBranch,
  "logic.switch": IconArrowsSplit,
  "flow.delay": IconHourglass,
  "flow.map": IconRepeat,
  "flow.subworkflow": IconSitemap,
  "flow.fail": IconCircleX,
  // Fails the run so that it compensates (issue 20): the undo arrow of compensation, doubled.
  "flow.rollback": IconArrowBackUpDouble,
  "human.approval": IconUserCheck,
  "human.form": IconForms,
  "notify.email": IconMail,
  "code.function": IconBrandPython,
};

/** The category of a type name ("http.request" → "http"), for types the catalog has not
 * described yet. */
export function categoryOf(type: string): string {
  return type.split(".", 1)[0];
}

export function categoryLook(category: string): CategoryLook {
  return Object.hasOwn(CATEGORIES, category) ? CATEGORIES[category] : { ...FALLBACK, label: category };
}

/** The icon and colour of a step type; `category` defaults to the type name's prefix. */
export function stepLook(type: string, category = categoryOf(type)): { color: MantineColor; icon: Icon } {
  const look = categoryLook(category);
  return { color: look.color, icon: Object.hasOwn(TYPE_ICONS, type) ? TYPE_ICONS[type] : look.icon };
}

type StepIconProps = Omit<ThemeIconProps, "children" | "color"> & {
  type: string;
  category?: string;
  /** The glyph's size in px; the tile's size comes from `size`. */
  stroke?: number;
};

/** A step's icon on a tinted tile in its category's colour; decorative (the label says it). */
export function StepIcon({ type, category, size = "md", variant = "light", stroke = 1.8, ...rest }: StepIconProps) {
  const { color, icon: Glyph } = stepLook(type, category);
  return (
    <ThemeIcon color={color} variant={variant} size={size} aria-hidden="true" {...rest}>
      <Glyph style={{ width: "70%", height: "70%" }} stroke={stroke} />
    </ThemeIcon>
  );
}
