"""A django-q2 cluster (the workers) plus the engine's sweeper in the cluster's main process.

``manage.py serve`` runs this instead of plain ``qcluster``: the sweeper finds due timers and
lost work within ``FLOWDECK_SWEEP_INTERVAL_S`` (django-q2's own scheduler wakes only every
30 s, too coarse for timers and the 30 s recovery target). Its first sweep, at start, is the
check that recovers what a crash of the previous worker left behind.
"""

import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.cluster import Cluster

from engine.recovery import sweep_forever


class Command(BaseCommand):
    help = "Start the workers (a django-q2 cluster) and the engine's sweeper."

    def handle(self, *args, **options) -> None:
        assert settings.SECRET_KEY  # django-q2 signs tasks with it
        cluster = Cluster()
        # Cluster() installed SIGTERM/SIGINT handlers that stop the sentinel; start() returns
        # once the workers are up.
        cluster.start()
        stop = threading.Event()
        sweeper = threading.Thread(target=sweep_forever, args=(stop,), name="sweeper", daemon=True)
        sweeper.start()
        # The main thread waits for the sentinel (the signal handler stops it), then stops the
        # sweeper.
        while cluster.sentinel is not None and cluster.sentinel.is_alive():
            cluster.sentinel.join(0.5)
        stop.set()
        sweeper.join(5)
