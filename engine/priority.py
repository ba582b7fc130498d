"""Run priorities on the queue (issue 20, section 3): the brokers django-q2 uses
(``Q_CLUSTER["broker_class"]``), one list per priority on the same broker, in both modes.

A run's priority (``low``, ``normal``, ``high``, ``urgent``) goes with every task the engine
enqueues for its steps (``transitions.enqueue(..., priority=)``), which lands in that
priority's list: ``django_q:<queue>:q`` for normal (the list django-q2 and its tools know), and
``…:q:urgent``, ``…:q:high``, ``…:q:low`` beside it; on the ORM broker, ``OrmQ`` rows keyed
``<queue>``, ``<queue>:urgent``, and so on. A worker's pusher takes the next task from the
highest list that has one, so an urgent step waiting behind a backlog of normal ones is taken
next (a worker may hold up to ``queue_limit`` tasks it took before; ``bench/priority.py``).

No starvation, by a share: of every 15 takes, 8 look at urgent first, 4 at high, 2 at normal
and 1 at low, then at the others from the top (``TAKE_ORDER``, interleaved). While every list
is full, low still gets 1 take in 15 and normal 2; while the higher lists are empty, a lower
one gets every take.
"""

from time import sleep
from typing import Any

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

from engine.states import Priority

# Highest first: the order a take looks at the lists when its own share's list is empty.
DESCENDING = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
SHARES = {Priority.URGENT: 8, Priority.HIGH: 4, Priority.NORMAL: 2, Priority.LOW: 1}


def _interleave(shares: dict[str, int]) -> tuple[str, ...]:
    """Smooth weighted round robin (nginx's): each priority's turns spread over the cycle
    rather than bunched, so a low take comes every 15, not 14 urgent takes and then one."""
    current = dict.fromkeys(shares, 0)
    total = sum(shares.values())
    order = []
    for _ in range(total):
        for name, weight in shares.items():
            current[name] += weight
        best = max(shares, key=lambda name: current[name])
        current[best] -= total
        order.append(best)
    return tuple(order)


TAKE_ORDER = _interleave(SHARES)


def take_order(turn: int) -> tuple[str, ...]:
    """The lists a take looks at, in order: its share's list, then the others from the top."""
    first = TAKE_ORDER[turn % len(TAKE_ORDER)]
    return (first, *(p for p in DESCENDING if p != first))


def suffix(priority: str) -> str:
    return "" if priority == Priority.NORMAL else f":{priority}"


class _Prioritised:
    """What both brokers share: the priority a broker instance enqueues at, and the turn."""

    priority: str = Priority.NORMAL
    _turn = 0

    def _next_order(self) -> tuple[str, ...]:
        order = take_order(self._turn)
        self._turn += 1
        return order

    def __getstate__(self) -> Any:
        return (*super().__getstate__(), self.priority)  # type: ignore[misc]

    def __setstate__(self, state: Any) -> None:
        *rest, self.priority = state
        super().__setstate__(tuple(rest))  # type: ignore[misc]


class PriorityORM(_Prioritised, ORM):
    """The embedded mode's broker: django-q2's ORM broker with a key per priority."""

    def __init__(self, list_key: str | None = None, priority: str = Priority.NORMAL) -> None:
        super().__init__(list_key=list_key)
        self.priority = priority

    def _key(self, priority: str) -> str:
        return f"{self.list_key or Conf.CLUSTER_NAME}{suffix(priority)}"

    def _keys(self) -> list[str]:
        return [self._key(p) for p in DESCENDING]

    def enqueue(self, task: Any) -> int:
        package = self.get_connection().create(
            key=self._key(self.priority), payload=task, lock=timezone.now()
        )
        return package.pk

    def dequeue(self) -> list[tuple[Any, Any]] | None:
        # Each list in this turn's order, oldest first, until one has tasks: an index probe
        # each (engine migration 0016 indexes the queue by key and id).
        now = timezone.now()
        for priority in self._next_order():
            tasks = list(
                self.get_connection()
                .filter(key=self._key(priority), lock__lt=now)
                .order_by("id")[: Conf.BULK]
            )
            if tasks:
                break
        else:
            sleep(Conf.POLL)  # as django-q2's: an empty queue spares the CPU
            return None
        taken = []
        for task in tasks:
            # As django-q2 does: lock it unless another cluster was faster.
            if (
                self.get_connection()
                .filter(id=task.id, lock=task.lock)
                .update(lock=self.timeout(task))
            ):
                taken.append((task.pk, task.payload))
        return taken

    def queue_size(self) -> int:
        now = timezone.now()
        return self.get_connection().filter(key__in=self._keys(), lock__lte=now).count()

    def lock_size(self) -> int:
        now = timezone.now()
        return self.get_connection().filter(key__in=self._keys(), lock__gt=now).count()

    def purge_queue(self) -> Any:
        return self.get_connection().filter(key__in=self._keys()).delete()


class PriorityRedis(_Prioritised, Redis):
    """The scale-out mode's broker: django-q2's Redis broker with a list per priority, taken
    with one BLPOP over the lists in this turn's order (Redis pops the first non-empty)."""

    def __init__(self, list_key: str | None = None, priority: str = Priority.NORMAL) -> None:
        super().__init__(list_key=list_key)
        self.priority = priority

    def _key(self, priority: str) -> str:
        return f"{self.list_key}{suffix(priority)}"

    def enqueue(self, task: Any) -> Any:
        return self.connection.rpush(self._key(self.priority), task)

    def dequeue(self) -> list[tuple[Any, Any]] | None:
        keys = [self._key(p) for p in self._next_order()]
        task = self.connection.blpop(keys, 1)
        if task:
            return [(None, task[1])]
        return None

    def queue_size(self) -> int:
        with self.connection.pipeline() as pipe:
            for p in DESCENDING:
                pipe.llen(self._key(p))
            return sum(pipe.execute())

    def delete_queue(self) -> Any:
        return self.connection.delete(*(self._key(p) for p in DESCENDING))

    def purge_queue(self) -> Any:
        for p in DESCENDING:
            self.connection.ltrim(self._key(p), 1, 0)
