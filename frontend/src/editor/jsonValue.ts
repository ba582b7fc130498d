/**
 * Config fields whose schema allows any JSON value (a transform's value, a request body): the
 * form shows them as text. Text that parses as JSON is that value; other text is a string, so
 * a template like `Hello {{ input.name }}` needs no quotes.
 */

export function parseJsonValue(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The text to show for a value: a string as it is, unless it would read back as something else. */
export function showJsonValue(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") {
    return parseJsonValue(value) === value ? value : JSON.stringify(value);
  }
  return JSON.stringify(value, null, 2);
}

