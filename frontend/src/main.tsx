import "@xyflow/react/dist/style.css";
import "./app.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider, createBrowserRouter } from "react-router";

import { App } from "./App";

const root = document.getElementById("root");
if (!root) throw new Error("templates/app.html must contain <div id=\"root\">");

// A data router, so pages can block navigation (the designer's unsaved-changes guard); the
// app's own <Routes> sit under its one catch-all route.
const router = createBrowserRouter([{ path: "*", element: <App username={root.dataset.username ?? ""} /> }]);

createRoot(root).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
