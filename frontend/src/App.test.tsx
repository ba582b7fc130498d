import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { RouterProvider, createMemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";

import { App, SECTIONS } from "./App";

// React Flow measures its container; jsdom has no ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

afterEach(cleanup);

function renderAt(path: string) {
  const router = createMemoryRouter([{ path: "*", element: <App username="alice" /> }], { initialEntries: [path] });
  return render(<RouterProvider router={router} />);
}

describe("the app shell", () => {
  it("opens the designer from the root path", () => {
    renderAt("/");
    expect(screen.getByRole("heading", { name: "Designer" })).toBeTruthy();
  });

  it("shows the signed-in user", () => {
    renderAt("/runs");
    expect(screen.getByLabelText("Signed in as").textContent).toBe("alice");
  });

  it.each(SECTIONS.map((s) => [s.label, s.path]))("navigates to %s", async (label, path) => {
    renderAt(path === "/designer" ? "/runs" : "/designer");
    const nav = screen.getByRole("navigation", { name: "Main" });
    const link = Array.from(nav.querySelectorAll("a")).find((a) => a.textContent === label);
    expect(link).toBeTruthy();
    fireEvent.click(link!);
    // Some pages load on demand (the inbox): wait for the heading.
    expect(await screen.findByRole("heading", { level: 1, name: label })).toBeTruthy();
    expect(link!.className).toContain("active");
  });

  it("says when a route does not exist", () => {
    renderAt("/nowhere");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeTruthy();
  });
});
