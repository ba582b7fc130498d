import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ActionDialog } from "./RunsPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function respond(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

describe("the operator dialog", () => {
  it("sends the edited input and the reason of a retry", async () => {
    const fetch = respond(200, { node: "bad", status: "queued" });
    const done = vi.fn();
    render(
      <ActionDialog runId={4} action={{ kind: "retry", node: "bad", edit: true, input: { a: 1 } }} onDone={done} onClose={() => {}} />,
    );
    const dialog = screen.getByRole("dialog", { name: "Retry step bad with edited input" });
    const editor = screen.getByLabelText("Input (JSON)") as HTMLTextAreaElement;
    expect(JSON.parse(editor.value)).toEqual({ a: 1 });
    fireEvent.change(editor, { target: { value: "{" } });
    expect((screen.getByRole("button", { name: "Confirm" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(editor, { target: { value: '{"a": 2}' } });
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "fixed" } });
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    await vi.waitFor(() => expect(done).toHaveBeenCalled());
    expect(dialog).toBeTruthy();
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/runs/4/steps/bad/retry/");
    expect(init.method).toBe("POST");
    expect(JSON.parse(String(init.body))).toEqual({ reason: "fixed", input: { a: 2 } });
  });

  it("shows the server's conflict and stays open", async () => {
    respond(409, { errors: [{ node: null, edge: null, field: null, code: "run_ended", message: "the run has already ended (failed)" }] });
    const done = vi.fn();
    render(<ActionDialog runId={4} action={{ kind: "cancel" }} onDone={done} onClose={() => {}} />);
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect((await screen.findByRole("alert")).textContent).toBe("409: the run has already ended (failed)");
    expect(done).not.toHaveBeenCalled();
    expect(screen.getByRole("dialog", { name: "Cancel run 4" })).toBeTruthy();
  });

  it("closes on Escape", () => {
    const close = vi.fn();
    render(<ActionDialog runId={4} action={{ kind: "skip", node: "ask" }} onDone={() => {}} onClose={close} />);
    fireEvent.keyDown(screen.getByLabelText("Reason"), { key: "Escape" });
    expect(close).toHaveBeenCalled();
  });
});
