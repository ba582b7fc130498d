"""The web server: daphne, with its access log masked (``python -m flowdeck.web``, the same
arguments as ``python -m daphne``; ``manage.py serve`` starts it).

daphne writes one access line per request (stdout at its default verbosity, the supervisord
log in production) with the path as received: ``/tasks/act/<token>/`` and
``/api/hooks/<token>/`` carry their secret in it. Every line goes through
``Server.log_action(protocol, action, details)``, the one place daphne's HTTP and websocket
protocols report to, so this subclass masks ``details["path"]`` there (flowdeck/logmask.py)
before whatever logger daphne built sees it.

Why there and not a subclass of ``daphne.access.AccessLogGenerator``: ``CommandLineInterface.run``
builds its generator inline, by a module-level name; replacing it means patching
``daphne.cli.AccessLogGenerator`` (silently lost if daphne ever imports it differently) or
copying ``run``. ``server_class`` is the attribute daphne's CLI reads for its server, and
``log_action`` is the interface every action logger is called through, so the masking also
holds for ``--access-log FILE`` and any logger daphne adds. tests/test_log_masking.py runs this
entry point and reads the log, so a daphne upgrade that bypasses ``log_action`` fails there.
"""

from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server

from flowdeck.logmask import mask_uri


class MaskingServer(Server):
    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        if isinstance(details.get("path"), str):
            details = {**details, "path": mask_uri(details["path"])}
        super().log_action(protocol, action, details)


class MaskingCommandLine(CommandLineInterface):
    server_class = MaskingServer


if __name__ == "__main__":
    MaskingCommandLine.entrypoint()
