import { notifications } from "@mantine/notifications";
import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../test/render";
import { ActionDialog } from "./ActionDialog";

// jsdom has no font loading API; Mantine's autosizing JSON editor listens to it.
if (!("fonts" in document)) {
  Object.defineProperty(document, "fonts", { value: { addEventListener() {}, removeEventListener() {} } });
}

afterEach(() => {
  notifications.clean();
  cleanup();
  vi.unstubAllGlobals();
});

function respond(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

// A modal with an autosizing editor takes a few seconds to render on a busy machine.
describe("the operator dialog", { timeout: 20_000 }, () => {
  it("sends the edited input and the reason of a retry, refusing bad JSON first", async () => {
    const fetch = respond(200, { node: "bad", status: "queued", attempt: 1, error: null, started_at: null, finished_at: null, type: "code.function" });
    const close = vi.fn();
    renderWithProviders(
      <ActionDialog runId={4} action={{ kind: "retry", node: "bad", edit: true, input: { a: 1 }, attempt: 1 }} onClose={close} />,
    );
    const dialog = await screen.findByRole("dialog", { name: "Retry step bad with edited input" });
    expect(dialog.textContent).toContain("attempt 2");
    const editor = screen.getByLabelText("Input (JSON)") as HTMLTextAreaElement;
    expect(JSON.parse(editor.value)).toEqual({ a: 1 });
    fireEvent.change(editor, { target: { value: "{" } });
    expect(editor.getAttribute("aria-invalid")).toBe("true");
    expect((screen.getByRole("button", { name: "Retry step" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(editor, { target: { value: '{"a": 2}' } });
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "fixed" } });
    fireEvent.click(screen.getByRole("button", { name: "Retry step" }));
    await vi.waitFor(() => expect(close).toHaveBeenCalled());
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/runs/4/steps/bad/retry/");
    expect(init.method).toBe("POST");
    expect(JSON.parse(String(init.body))).toEqual({ reason: "fixed", input: { a: 2 } });
    expect(await screen.findByText("Step bad queued again.")).toBeTruthy(); // the toast
  });

  it("explains the server's conflict and stays open", async () => {
    respond(409, { errors: [{ node: null, edge: null, field: null, code: "run_ended", message: "the run has already ended (failed)" }] });
    const close = vi.fn();
    renderWithProviders(<ActionDialog runId={4} action={{ kind: "cancel" }} onClose={close} />);
    fireEvent.click(await screen.findByRole("button", { name: "Cancel run" }));
    const dialog = screen.getByRole("dialog", { name: "Cancel run 4" });
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("Changed meanwhile");
    expect(alert.textContent).toContain("the run has already ended (failed)");
    expect(close).not.toHaveBeenCalled();
    expect(screen.getByRole("dialog", { name: "Cancel run 4" })).toBeTruthy();
  });

  it("closes on Escape", async () => {
    const close = vi.fn();
    renderWithProviders(<ActionDialog runId={4} action={{ kind: "skip", node: "ask", status: "waiting" }} onClose={close} />);
    const reason = await screen.findByLabelText("Reason");
    fireEvent.keyDown(reason, { key: "Escape" });
    expect(close).toHaveBeenCalled();
  });
});
