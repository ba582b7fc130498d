import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { RouterProvider, createMemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { App, SECTIONS } from "./App";
import { renderWithProviders } from "./test/render";

// The pages read the API: an empty answer for everything is enough to draw them.
beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify({ results: [], count: 0, open: 0 }), { status: 200 })),
  );
  // The inbox socket: one that never opens.
  vi.stubGlobal(
    "WebSocket",
    class {
      close() {}
    },
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderAt(path: string, staff = false) {
  const router = createMemoryRouter([{ path: "*", element: <App user={{ username: "alice", staff }} /> }], {
    initialEntries: [path],
  });
  return renderWithProviders(<RouterProvider router={router} />);
}

describe("the app shell", () => {
  it("opens the workflows from the root path", async () => {
    renderAt("/");
    expect(await screen.findByRole("heading", { level: 1, name: "Workflows" }, { timeout: 15_000 })).toBeTruthy();
  }, 30_000);

  it("shows the signed-in user", () => {
    renderAt("/runs");
    expect(screen.getByRole("button", { name: "Account of alice" }).textContent).toContain("alice");
  });

  it.each(SECTIONS.map((s) => [s.label, s.path]))("navigates to %s", async (label, path) => {
    renderAt(path === "/runs" ? "/inbox" : "/runs");
    const nav = screen.getByRole("navigation", { name: "Main" });
    const link = within(nav).getByRole("link", { name: label });
    fireEvent.click(link);
    // Pages load on demand: wait for the heading (a page's first import is transformed by
    // Vite on the spot, which takes seconds for the big ones on a busy machine).
    expect(await screen.findByRole("heading", { level: 1, name: label }, { timeout: 15_000 })).toBeTruthy();
    expect(link.getAttribute("aria-current")).toBe("page");
  }, 30_000);

  it("says when a route does not exist", () => {
    renderAt("/nowhere");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeTruthy();
  });
});
