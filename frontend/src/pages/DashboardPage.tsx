export function DashboardPage() {
  return (
    <section className="page" aria-labelledby="dashboard-title">
      <h1 id="dashboard-title">Dashboard</h1>
      <p className="empty">Figures about your runs will appear here.</p>
    </section>
  );
}
