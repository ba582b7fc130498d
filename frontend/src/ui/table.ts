/** The look every list table of the app shares (mantine-datatable): bordered, rounded,
 * highlighting the hovered row in a shade on which dimmed text keeps 4.5:1 in dark mode too
 * (Mantine's default dark-5 gives 4.0). Spread first, so that a table can still override. */
export const LIST_TABLE = {
  withTableBorder: true,
  borderRadius: "md",
  highlightOnHover: true,
  highlightOnHoverColor: { light: "gray.1", dark: "dark.6" },
  verticalAlign: "center",
} as const;
