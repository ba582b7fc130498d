"""Start the web server (daphne) and the workers (flowdeck_worker: qcluster and the sweeper)
under supervisord.

supervisord, not a hand-written loop: it stops each program by signalling its main process
only and waiting (qcluster's own children reset SIGTERM to the default and must be stopped by
their parent, so a signal to the whole process group would kill them mid-task), kills the
group only after the grace period, and restarts a program that crashed.
"""

import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PROGRAM = """
[program:{name}]
command={command}
directory={directory}
numprocs={numprocs}
process_name=%(program_name)s-%(process_num)d
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true
stopsignal=TERM
stopwaitsecs={stopwait}
killasgroup=true
autorestart=true
startsecs=2
"""

SUPERVISORD = """
[supervisord]
nodaemon=true
logfile={data_dir}/supervisord.log
logfile_maxbytes=5MB
logfile_backups=2
pidfile={data_dir}/supervisord.pid
loglevel=info
"""


def quote(value: str | Path) -> str:
    # supervisord expands %(...)s in commands; a literal % must be doubled.
    text = str(value).replace("%", "%%")
    return f'"{text}"' if " " in text else text


class Command(BaseCommand):
    help = "Run the web server and the workers together; Ctrl-C stops both."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("FLOWDECK_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("FLOWDECK_PORT", "8000"))
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="worker clusters (qcluster processes, each with FLOWDECK_WORKERS workers); "
            "0 for a web-only machine",
        )
        parser.add_argument("--no-web", action="store_true", help="workers only")
        parser.add_argument(
            "--demo-services",
            type=int,
            default=0,
            metavar="PORT",
            help="also serve the services the examples call (designer/demo_services.py) on "
            "127.0.0.1:PORT; 0 (the default) does not",
        )

    def handle(
        self,
        *args,
        host: str,
        port: int,
        workers: int,
        no_web: bool,
        demo_services: int,
        **options,
    ) -> None:
        if workers < 0 or (no_web and workers == 0):
            raise CommandError("nothing to run: --workers must be >= 0, and >= 1 with --no-web")
        if not 0 <= demo_services < 65536:
            raise CommandError("--demo-services is a port (1-65535), or 0 for none")
        supervisord = shutil.which("supervisord", path=str(Path(sys.executable).parent))
        if not supervisord:
            raise CommandError("supervisord is not installed in this environment")
        base_dir = settings.BASE_DIR
        python = quote(sys.executable)
        config = SUPERVISORD.format(data_dir=quote(settings.DATA_DIR))
        if not no_web:
            config += PROGRAM.format(
                name="web",
                # daphne, with the secret in task-link and webhook paths masked in its access
                # log (flowdeck/web.py).
                command=f"{python} -m flowdeck.web --bind {quote(host)} --port {port} "
                "--proxy-headers flowdeck.asgi:application",
                directory=quote(base_dir),
                numprocs=1,
                stopwait=30,
            )
        if workers:
            config += PROGRAM.format(
                name="worker",
                command=f"{python} {quote(base_dir / 'manage.py')} flowdeck_worker",
                directory=quote(base_dir),
                numprocs=workers,
                # Let running step attempts finish (bounded by the task timeout) before SIGKILL.
                stopwait=min(settings.FLOWDECK_TASK_TIMEOUT + 5, 120),
            )
        if demo_services:
            config += PROGRAM.format(
                name="demo-services",
                command=f"{python} -m designer.demo_services --port {demo_services}",
                directory=quote(base_dir),
                numprocs=1,
                stopwait=5,
            )
        path = settings.DATA_DIR / "supervisord.conf"
        path.write_text(config)
        sys.stdout.flush()
        os.execv(supervisord, [supervisord, "--configuration", str(path)])  # noqa: S606
