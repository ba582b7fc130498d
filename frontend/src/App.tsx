import { type ReactNode, Suspense, lazy } from "react";
import { NavLink, Navigate, Route, Routes } from "react-router";

import { useInbox, useInboxFeed } from "./inbox";
import { CredentialsPage } from "./pages/CredentialsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RunsPage } from "./pages/RunsPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";

// The editor (React Flow, the form library) is most of the code: it loads when first opened.
const DesignerPage = lazy(() => import("./pages/DesignerPage").then((m) => ({ default: m.DesignerPage })));
// The dashboard's charts (Recharts) load with it.
const DashboardPage = lazy(() => import("./pages/DashboardPage").then((m) => ({ default: m.DashboardPage })));
// The inbox renders forms with the same form library.
const InboxPage = lazy(() => import("./pages/InboxPage").then((m) => ({ default: m.InboxPage })));

export const SECTIONS = [
  { path: "/designer", label: "Designer" },
  { path: "/runs", label: "Runs" },
  { path: "/inbox", label: "Inbox" },
  { path: "/dashboard", label: "Dashboard" },
  { path: "/credentials", label: "Credentials" },
] as const;

function logOut() {
  // Django's LogoutView accepts POST only (with the CSRF token the template rendered).
  const form = document.getElementById("logout-form");
  if (form instanceof HTMLFormElement) form.submit();
}

/** A page loaded on demand, with a line saying so meanwhile. */
function Loaded({ what, page }: { what: string; page: ReactNode }) {
  return <Suspense fallback={<p role="status">Loading {what}…</p>}>{page}</Suspense>;
}

/** The count of open tasks beside the Inbox link (outside it: the link keeps its name). */
function InboxCount() {
  const open = useInbox((s) => s.open);
  if (!open) return null;
  return (
    <span className="nav-count" aria-label={`Open tasks: ${open}`}>
      {open}
    </span>
  );
}

export function App({ username }: { username: string }) {
  useInboxFeed(username);
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Flowdeck</span>
        <nav aria-label="Main">
          {SECTIONS.map((section) => (
            <span key={section.path} className="nav-item">
              <NavLink to={section.path}>{section.label}</NavLink>
              {section.path === "/inbox" && <InboxCount />}
            </span>
          ))}
        </nav>
        <div className="user">
          <span aria-label="Signed in as">{username}</span>
          <button type="button" onClick={logOut}>
            Log out
          </button>
        </div>
      </header>
      <main className="content">
        <Routes>
          <Route path="/" element={<Navigate to="/designer" replace />} />
          <Route path="/designer" element={<WorkflowsPage />} />
          <Route path="/designer/*" element={<Loaded what="the editor" page={<DesignerPage />} />} />
          <Route path="/runs/*" element={<RunsPage />} />
          <Route path="/inbox/*" element={<Loaded what="the inbox" page={<InboxPage />} />} />
          <Route path="/dashboard/*" element={<Loaded what="the dashboard" page={<DashboardPage />} />} />
          <Route path="/credentials" element={<CredentialsPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </main>
    </div>
  );
}
