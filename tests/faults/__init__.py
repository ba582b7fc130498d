"""Fault tests (issue 10): real worker processes killed with ``kill -9`` and restarted, and
several worker clusters racing on the same work. What they check is read from the event log
and from what a local service received (tests/faults/kit.py)."""
