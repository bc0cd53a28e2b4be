"""The import jobs one application runs in the background."""

from __future__ import annotations

import asyncio
import contextvars

from ..events.outbox import ORIGIN
from .import_runner import ImportRunner


class ImportTasks:
    """The import jobs one application runs; stopping it stops them (each marked FAILED with its counts)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, runner: ImportRunner) -> None:
        """Run the job in a task of its own, whose events name it (``data.via``: its id and kind)."""
        context = contextvars.copy_context()
        context.run(ORIGIN.set, {"job_id": runner.job.id, "kind": runner.job.kind.value})
        name = f"{runner.job.kind.value.lower()} {runner.job.id}"
        task = asyncio.create_task(runner.run(), name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
