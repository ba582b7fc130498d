import "@fontsource-variable/inter";
import "@fontsource-variable/jetbrains-mono";
import "@mantine/core/styles.css";
import "@xyflow/react/dist/style.css";
import "@mantine/notifications/styles.css";
import "@mantine/spotlight/styles.css";
import "mantine-datatable/styles.css";
import "./app.css";

import { MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider, createBrowserRouter } from "react-router";

import { App } from "./App";
import { queryClient } from "./query";
import { colorSchemeManager, cssVariablesResolver, theme } from "./theme";

const root = document.getElementById("root");
if (!root) throw new Error("templates/app.html must contain <div id=\"root\">");

const user = { username: root.dataset.username ?? "", staff: root.dataset.staff === "1" };

// A data router, so pages can block navigation (the designer's unsaved-changes guard); the
// app's own <Routes> sit under its one catch-all route.
const router = createBrowserRouter([{ path: "*", element: <App user={user} /> }]);

createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      colorSchemeManager={colorSchemeManager}
      cssVariablesResolver={cssVariablesResolver}
    >
      <QueryClientProvider client={queryClient}>
        <ModalsProvider>
          <Notifications position="top-right" limit={4} />
          <RouterProvider router={router} />
        </ModalsProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
