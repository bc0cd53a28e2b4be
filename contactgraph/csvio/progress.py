"""Import progress within this process: each batch a job finishes is handed to its watchers at once.

Watchers in other processes cannot hear this; they read the job document at an interval.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from beanie import PydanticObjectId

from ..models.import_job import ImportJob

_watchers: dict[PydanticObjectId, set[asyncio.Queue[ImportJob]]] = defaultdict(set)


def publish(job: ImportJob) -> None:
    for queue in _watchers.get(job.id, ()):  # type: ignore[arg-type]
        queue.put_nowait(job)


@contextmanager
def watch(job_id: PydanticObjectId) -> Iterator[asyncio.Queue[ImportJob]]:
    """A queue of the job's states as this process's runner writes them, while the block lasts."""
    queue: asyncio.Queue[ImportJob] = asyncio.Queue()
    _watchers[job_id].add(queue)
    try:
        yield queue
    finally:
        _watchers[job_id].discard(queue)
        if not _watchers[job_id]:
            del _watchers[job_id]
