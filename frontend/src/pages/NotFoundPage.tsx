import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="page" aria-labelledby="notfound-title">
      <h1 id="notfound-title">Page not found</h1>
      <p>
        <Link to="/designer">Back to the designer</Link>
      </p>
    </section>
  );
}
