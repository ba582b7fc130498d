"""The services the shipped examples call, so that they run on a fresh machine: `./start.sh`
serves them on 127.0.0.1:9000 beside Flowdeck (``manage.py serve --demo-services 9000``) and
lets ``http.request`` reach that one port (FLOWDECK_HTTP_ALLOW_NETWORKS=127.0.0.1:9000).

They stand for a company's own systems and answer with made-up but stable data:

- ``GET  /orders``              a list of orders ("Fetch and transform")
- ``POST /pay``                 pays an invoice once per Idempotency-Key ("Invoice approval")
- ``GET  /crm/<customer>``      the customer's record ("Parallel fan-out with a join")
- ``GET  /billing/<customer>``  the customer's balance
- ``GET  /risk/<customer>``     a risk score; the first call for each customer answers 503,
                                 so that the example shows its retry policy at work
- ``GET  /stats?period=daily``  figures for a report ("Nightly report")
- ``POST /trips/<flight|hotel|car>/reserve``  a reservation, once per Idempotency-Key, and
  ``POST /trips/<flight|hotel|car>/cancel`` its cancellation (``{"reservation": id}``;
  cancelling twice answers the first cancellation) ("Book a trip")
- ``POST /trips/pay``           pays a trip; the card ``4000 0000 0000 0002`` is declined (402),
                                 so that the example fails at payment and compensates

Plain standard library (one thread per request) and no Flowdeck import: it is a stand-in for
something outside Flowdeck, and runs as ``python -m designer.demo_services --port 9000``.
"""

import argparse
import json
import logging
import threading
import uuid
import zlib
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("flowdeck.demo_services")

MAX_BODY = 64 * 1024

SERVICES = [
    "/orders",
    "/pay",
    "/crm/<c>",
    "/billing/<c>",
    "/risk/<c>",
    "/stats",
    "/trips/<kind>/reserve",
    "/trips/<kind>/cancel",
    "/trips/pay",
]
TRIP_KINDS = ("flight", "hotel", "car")
DECLINED_CARD = "4000 0000 0000 0002"

ORDERS = [
    {"id": "A-1001", "customer": "acme", "total": 1120.0, "status": "open"},
    {"id": "A-1002", "customer": "globex", "total": 89.9, "status": "shipped"},
    {"id": "A-1003", "customer": "initech", "total": 342.5, "status": "open"},
]


def figure(*parts: str, modulo: int) -> int:
    """A made-up figure that is the same for the same question (crc32: stable across runs)."""
    return zlib.crc32("/".join(parts).encode()) % modulo


class DemoState:
    """What the services remember while they run: payments by idempotency key, and which
    customers' risk was asked for already."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.payments: dict[str, dict[str, Any]] = {}
        self.risk_asked: set[str] = set()
        self.reservations: dict[str, dict[str, Any]] = {}  # by reservation id
        self.reserved: dict[str, str] = {}  # idempotency key -> reservation id
        # Every reserve and cancel request, in order: (action, kind, reservation id).
        self.trip_log: list[tuple[str, str, str]] = []

    def reserve(
        self, kind: str, key: str | None, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        with self.lock:
            if key and key in self.reserved:
                return self.reservations[self.reserved[key]], True
            reservation = {
                "reservation": f"{kind}_{uuid.uuid4().hex[:10]}",
                "kind": kind,
                "trip": body.get("trip"),
                "status": "reserved",
            }
            self.reservations[reservation["reservation"]] = reservation
            if key:
                self.reserved[key] = reservation["reservation"]
            self.trip_log.append(("reserve", kind, reservation["reservation"]))
            return reservation, False

    def cancel(self, kind: str, ident: Any) -> tuple[dict[str, Any] | None, bool]:
        """The reservation cancelled (now, or before: replayed); None if there is none."""
        with self.lock:
            reservation = self.reservations.get(ident) if isinstance(ident, str) else None
            if reservation is None or reservation["kind"] != kind:
                return None, False
            self.trip_log.append(("cancel", kind, ident))
            if reservation["status"] == "cancelled":
                return reservation, True
            reservation["status"] = "cancelled"
            return reservation, False

    def pay(self, key: str | None, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The payment for this key (made now, or the one made before: replayed)."""
        with self.lock:
            if key and key in self.payments:
                return self.payments[key], True
            payment = {
                "payment_id": f"pay_{uuid.uuid4().hex[:12]}",
                "invoice": body.get("invoice"),
                "amount": body.get("amount"),
                "status": "paid",
                "paid_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            if key:
                self.payments[key] = payment
            return payment, False

    def first_risk_call(self, customer: str) -> bool:
        with self.lock:
            first = customer not in self.risk_asked
            self.risk_asked.add(customer)
            return first


class DemoHandler(BaseHTTPRequestHandler):
    server: "DemoServer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if not parts:
            self.answer(200, {"services": SERVICES})
        elif parts == ["orders"]:
            self.answer(200, ORDERS)
        elif parts == ["stats"]:
            period = query.get("period", "daily")
            day = datetime.now(UTC).date().isoformat()
            runs = 40 + figure(period, day, modulo=200)
            self.answer(
                200,
                {
                    "period": period,
                    "day": day,
                    "runs": runs,
                    "failures": figure(period, day, "failed", modulo=max(runs // 10, 1)),
                },
            )
        elif len(parts) == 2 and parts[0] == "crm":
            customer = parts[1]
            self.answer(
                200,
                {
                    "customer": customer,
                    "name": customer.replace("-", " ").title(),
                    "segment": ["retail", "wholesale", "public"][figure(customer, modulo=3)],
                },
            )
        elif len(parts) == 2 and parts[0] == "billing":
            customer = parts[1]
            balance = figure(customer, "balance", modulo=5000) - 500
            self.answer(200, {"customer": customer, "balance": balance, "currency": "EUR"})
        elif len(parts) == 2 and parts[0] == "risk":
            customer = parts[1]
            if self.server.state.first_risk_call(customer):
                self.answer(
                    503, {"error": "the risk engine is warming up, try again"}, {"Retry-After": "1"}
                )
            else:
                self.answer(200, {"customer": customer, "score": figure(customer, modulo=100)})
        else:
            self.answer(404, {"error": f"no such resource: {url.path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        if path.startswith("/trips/"):
            self.trips([p for p in path.split("/") if p][1:])
            return
        if path != "/pay":
            self.read_body()
            self.answer(404, {"error": f"no such resource: {self.path}"})
            return
        body = self.read_body()
        if body is None:
            return
        if not isinstance(body, dict) or not body.get("invoice"):
            self.answer(400, {"error": "a JSON object with an invoice is required"})
            return
        payment, replayed = self.server.state.pay(self.headers.get("Idempotency-Key"), body)
        self.answer(
            200 if replayed else 201, payment, {"Idempotent-Replayed": "true"} if replayed else {}
        )

    def trips(self, parts: list[str]) -> None:
        """The travel agency of "Book a trip": reserve and cancel, and a payment."""
        body = self.read_body()
        if body is None:
            return
        if not isinstance(body, dict):
            self.answer(400, {"error": "a JSON object is required"})
        elif parts == ["pay"]:
            if str(body.get("card", "")).replace("-", " ").strip() == DECLINED_CARD:
                self.answer(402, {"error": "the card was declined", "trip": body.get("trip")})
            else:
                self.answer(201, {"trip": body.get("trip"), "status": "paid"})
        elif len(parts) == 2 and parts[0] in TRIP_KINDS and parts[1] == "reserve":
            key = self.headers.get("Idempotency-Key")
            reservation, replayed = self.server.state.reserve(parts[0], key, body)
            self.answer(
                200 if replayed else 201,
                reservation,
                {"Idempotent-Replayed": "true"} if replayed else {},
            )
        elif len(parts) == 2 and parts[0] in TRIP_KINDS and parts[1] == "cancel":
            reservation, again = self.server.state.cancel(parts[0], body.get("reservation"))
            if reservation is None:
                self.answer(404, {"error": f"no {parts[0]} reservation {body.get('reservation')}"})
            else:
                self.answer(200, {**reservation, "cancelled_before": again})
        else:
            self.answer(404, {"error": f"no such resource: {self.path}"})

    def read_body(self) -> Any:
        """The request's JSON body; None (after answering 400/413) when it is not one."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.answer(413, {"error": "body too large"})
            self.close_connection = True
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw or b"null")
        except ValueError:
            self.answer(400, {"error": "the body is not JSON"})
            return None

    def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 9000) -> None:
        self.state = DemoState()
        super().__init__((host, port), DemoHandler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The services Flowdeck's examples call.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="demo-services %(message)s")
    with DemoServer(args.host, args.port) as server:
        log.info("serving the examples' services on http://%s:%d/", args.host, args.port)
        server.serve_forever()


if __name__ == "__main__":
    main()
