export function RunsPage() {
  return (
    <section className="page" aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <p className="empty">Runs of your workflows will be listed here.</p>
    </section>
  );
}
