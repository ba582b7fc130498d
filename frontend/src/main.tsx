import "@xyflow/react/dist/style.css";
import "./app.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";

import { App } from "./App";

const root = document.getElementById("root");
if (!root) throw new Error("templates/app.html must contain <div id=\"root\">");

createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <App username={root.dataset.username ?? ""} />
    </BrowserRouter>
  </StrictMode>,
);
