export function InboxPage() {
  return (
    <section className="page" aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      <p className="empty">Approvals and forms waiting for you will appear here.</p>
    </section>
  );
}
