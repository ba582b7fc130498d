import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { RouterProvider, createMemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { App, SECTIONS } from "./App";
import { renderWithProviders } from "./test/render";

// The pages read the API: an empty answer for everything is enough to draw them.
beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      // The lists that are not paginated answer a bare list.
      const list = /^\/api\/(tokens|groups|account\/absences)\//.test(String(url));
      return new Response(JSON.stringify(list ? [] : { results: [], count: 0, open: 0 }), { status: 200 });
    }),
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
    expect(await screen.findByRole("heading", { level: 1, name: "Workflows" })).toBeTruthy();
  });

  it("shows the signed-in user", () => {
    renderAt("/runs");
    expect(screen.getByRole("button", { name: "Account of alice" }).textContent).toContain("alice");
  });

  it.each(SECTIONS.map((s) => [s.label, s.path, Boolean(s.staffOnly)] as const))("navigates to %s", async (label, path, staff) => {
    renderAt(path === "/runs" ? "/inbox" : "/runs", staff);
    const nav = screen.getByRole("navigation", { name: "Main" });
    const link = within(nav).getByRole("link", { name: label });
    fireEvent.click(link);
    // Pages load on demand: wait for the heading.
    expect(await screen.findByRole("heading", { level: 1, name: label })).toBeTruthy();
    expect(link.getAttribute("aria-current")).toBe("page");
  });

  it("shows People to staff only", () => {
    renderAt("/runs");
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).queryByRole("link", { name: "People" })).toBeNull();
    cleanup();
    renderAt("/runs", true);
    expect(within(screen.getByRole("navigation", { name: "Main" })).getByRole("link", { name: "People" })).toBeTruthy();
  });

  it("opens the user's API tokens from the user menu", async () => {
    renderAt("/runs");
    fireEvent.click(screen.getByRole("button", { name: "Account of alice" }));
    fireEvent.click(await screen.findByRole("menuitem", { name: "API tokens" }));
    // The page loads on demand: on a busy machine that takes more than the default second.
    const wait = { timeout: 10_000 };
    expect(await screen.findByRole("heading", { level: 1, name: "API tokens" }, wait)).toBeTruthy();
    expect(await screen.findByRole("region", { name: "No API tokens yet" }, wait)).toBeTruthy();
  });

  it("says when a route does not exist", () => {
    renderAt("/nowhere");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeTruthy();
  });
});
