"""Import jobs at work: bulk round trips, bounded memory, cancellation, crashes, and importProgress."""

from __future__ import annotations

import asyncio
import csv
import itertools
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event
from contactgraph.models import Contact, utcnow
from contactgraph.models.import_job import ImportJob, ImportPlan, ImportState, StoredUpload
from contactgraph.services import contact_writes
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, phone
from .checks import oid
from .csv_api import IMPORT_JOB, csv_bytes, finished, row_errors, run_import, start_import
from .ws import TRANSPORT_WS, serve

HEADER = ["firstname", "lastname", "phone", "status", "source"]

CANCEL = """
mutation($id: ID!) {
  cancelImport(id: $id) { job { id state processedRows } userErrors { field code message } }
}"""

PROGRESS = """
subscription($jobId: ID!) { importProgress(jobId: $jobId) { id state totalRows processedRows created failed } }"""


def _rows(count: int, start: int = 0) -> list[list[str]]:
    return [["Ada", f"Person{n}", phone(n), "New", "WhatsApp"] for n in range(start, start + count)]


async def _import_round_trips(engine: Engine, api: Api, token: str, rows: int, start: int) -> int:
    """The round trips of a whole import, less those of asking how it goes."""
    data = csv_bytes([HEADER, *_rows(rows, start)])
    before = engine.round_trips.count
    payload = await start_import(api, token, data)
    polls = 0
    while True:
        polls += 1
        job = (await api.data(IMPORT_JOB, {"id": payload["job"]["id"]}, token))["importJob"]
        if job["state"] == "DONE":
            break
        await asyncio.sleep(0.001)
    total = engine.round_trips.count - before
    mark = engine.round_trips.count
    await api.data(IMPORT_JOB, {"id": payload["job"]["id"]}, token)
    assert job["created"] == rows
    return total - polls * (engine.round_trips.count - mark)


async def test_rows_are_written_in_bulk_a_constant_number_of_round_trips_per_batch(
    settings: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    # Batches of 20 rows here, so that few contacts show it (the in-memory engine's unique
    # indexes scan the collection on every insert); a batch is 500 rows by default.
    async with serve(settings.model_copy(update={"import_batch_size": 20}), engine) as served:
        api = Api(served.client, "")
        # when
        two_batches = await _import_round_trips(engine, api, workspace.token, 40, start=0)
        ten_batches = await _import_round_trips(engine, api, workspace.token, 200, start=1_000)
    # then: each batch costs the same few round trips, however many rows it holds
    per_batch = (ten_batches - two_batches) / 8
    assert per_batch == int(per_batch) and per_batch <= 8, (two_batches, ten_batches)
    assert two_batches <= 30 + 2 * per_batch, (two_batches, ten_batches)  # the rest: starting the job
    assert await Contact.find({}).count() == 240
    assert await Event.find({}).count() == 240


WIDE_ROWS = 10_000  # some 8.7 MB: a batch and what requests leave meanwhile stay well under half of it


async def test_a_file_of_several_megabytes_is_read_with_bounded_memory(
    api: Api, workspace: Workspace, library: Library, tmp_path: Path
) -> None:
    # given: a file of wide rows (as CRM exports are), on disk, never in the test's memory whole
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*HEADER, "description"])
        for n in range(WIDE_ROWS):
            writer.writerow(["Ada", f"Person{n}", phone(n), "New", "WhatsApp", f"note {n} " + "x" * 820])
    size = path.stat().st_size
    # when: asked how it goes four times a second (rows are read off the event loop, so requests
    # run meanwhile, and each leaves garbage that only a full collection frees)
    tracemalloc.start()
    try:
        payload = await start_import(api, workspace.token, path, {"dryRun": True})
        job = await finished(api, workspace.token, payload["job"]["id"], every=0.25)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then: a batch of rows, the numbers seen, and the upload's buffers, never the file
    assert size > 8_000_000
    assert (job["state"], job["totalRows"], job["failed"]) == ("DONE", WIDE_ROWS, 0)
    assert job["created"] == WIDE_ROWS
    assert peak < size / 2, (peak, size)
    assert await Contact.find({}).count() == 0


async def test_cancelling_stops_within_one_batch_and_keeps_what_was_written(
    settings: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    async with serve(settings.model_copy(update={"import_batch_size": 100}), engine) as served:
        api = Api(served.client, "")
        # given: a job under way
        payload = await start_import(api, workspace.token, csv_bytes([HEADER, *_rows(3_000)]))
        job_id = payload["job"]["id"]
        await _until_processed(api, workspace.token, job_id, 100)
        # when
        cancelled = await api.ok(CANCEL, {"id": job_id}, workspace.token)
        job = await finished(api, workspace.token, job_id)
    # then
    assert job["state"] == "CANCELLED" and job["finishedAt"]
    assert 100 <= job["processedRows"] < 3_000
    assert job["processedRows"] - cancelled["job"]["processedRows"] <= 100
    assert job["processedRows"] % 100 == 0 and job["created"] == job["processedRows"]
    assert await Contact.find({}).count() == job["created"]
    assert await Event.find({}).count() == job["created"]


async def test_a_job_whose_process_died_is_failed_with_its_counts(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library, tmp_path: Path
) -> None:
    # given: two jobs left RUNNING by a process that died half-way: their leases ran out
    def dead_job() -> ImportJob:
        return ImportJob(
            workspace_id=oid(workspace.id),
            agent_id=oid(workspace.agent_id),
            state=ImportState.RUNNING,
            plan=ImportPlan(columns=[]),
            upload=StoredUpload(
                path=str(tmp_path / "gone.csv"), size=10, encoding="utf-8", delimiter=",", header=[]
            ),
            total_rows=2_000,
            processed_rows=1_000,
            created=990,
            failed=10,
            lease_until=utcnow() - timedelta(seconds=1),
            started_at=utcnow() - timedelta(minutes=5),
        )

    read, restarted = dead_job(), dead_job()
    await read.insert()
    await restarted.insert()
    # when: one is read; the other's service restarts
    job = (await api.data(IMPORT_JOB, {"id": _gid(read)}, workspace.token))["importJob"]
    async with serve(settings, engine):
        pass
    # then
    assert (job["state"], job["processedRows"], job["created"], job["failed"]) == ("FAILED", 1_000, 990, 10)
    assert job["finishedAt"] and "stopped" in job["failure"]
    after = await ImportJob.get(restarted.id)
    assert after is not None and after.state is ImportState.FAILED and after.created == 990


async def test_a_live_job_is_not_taken_for_dead(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a job another process runs, its lease renewed
    job = ImportJob(
        workspace_id=oid(workspace.id),
        agent_id=oid(workspace.agent_id),
        state=ImportState.RUNNING,
        plan=ImportPlan(columns=[]),
        upload=StoredUpload(path="elsewhere.csv", size=10, encoding="utf-8", delimiter=",", header=[]),
        lease_until=utcnow() + timedelta(minutes=1),
    )
    await job.insert()
    # when
    async with serve(settings, engine):
        seen = (await api.data(IMPORT_JOB, {"id": _gid(job)}, workspace.token))["importJob"]
    # then
    assert seen["state"] == "RUNNING"


async def test_an_unexpected_error_fails_the_job_with_the_counts_written(
    settings: Settings,
    engine: Engine,
    workspace: Workspace,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the second bulk insert breaks
    real = contact_writes.insert_many
    calls = 0

    async def breaks_second_time(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the disk is on fire")
        return await real(*args)

    monkeypatch.setattr(contact_writes, "insert_many", breaks_second_time)
    async with serve(settings.model_copy(update={"import_batch_size": 100}), engine) as served:
        api = Api(served.client, "")
        # when
        job = await run_import(api, workspace.token, csv_bytes([HEADER, *_rows(250)]))
    # then
    assert (job["state"], job["created"], job["processedRows"], job["totalRows"]) == ("FAILED", 100, 100, 250)
    assert "unexpected error" in job["failure"]
    assert await Contact.find({}).count() == 100


async def test_import_progress_reports_every_batch_and_the_final_state_over_websocket(
    settings: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    async with serve(settings.model_copy(update={"import_batch_size": 50}), engine) as served:
        api = Api(served.client, "")
        # given
        payload = await start_import(
            api, workspace.token, csv_bytes([HEADER, *_rows(5_000)]), {"dryRun": True}
        )
        job_id = payload["job"]["id"]
        # when
        seen: list[dict[str, Any]] = []
        async with served.connect(TRANSPORT_WS) as socket:
            assert (await socket.init(workspace.token))["type"] == "connection_ack"
            await socket.subscribe(PROGRESS, {"jobId": job_id})
            while not seen or seen[-1]["state"] not in ("DONE", "FAILED", "CANCELLED"):
                seen.append((await socket.data())["importProgress"])
            assert (await socket.receive())["type"] == "complete"
    # then
    assert seen[-1] | {"id": job_id} == {
        "id": job_id,
        "state": "DONE",
        "totalRows": 5_000,
        "processedRows": 5_000,
        "created": 5_000,
        "failed": 0,
    }
    processed = [s["processedRows"] for s in seen]
    assert processed == sorted(processed)
    assert all(b - a <= 50 for a, b in itertools.pairwise(processed))


async def test_import_progress_follows_a_job_another_process_runs(
    settings: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    # given: a job whose runner is elsewhere
    job = ImportJob(
        workspace_id=oid(workspace.id),
        agent_id=oid(workspace.agent_id),
        state=ImportState.RUNNING,
        plan=ImportPlan(columns=[]),
        upload=StoredUpload(path="elsewhere.csv", size=10, encoding="utf-8", delimiter=",", header=[]),
        total_rows=300,
        lease_until=utcnow() + timedelta(minutes=1),
    )
    await job.insert()
    collection = ImportJob.get_pymongo_collection()
    async with serve(settings.model_copy(update={"import_poll_seconds": 0.01}), engine) as served:
        async with served.connect(TRANSPORT_WS) as socket:
            await socket.init(workspace.token)
            await socket.subscribe(PROGRESS, {"jobId": _gid(job)})
            first = (await socket.data())["importProgress"]
            # when the other process writes its progress, then its end
            await collection.update_one({"_id": job.id}, {"$set": {"processed_rows": 200, "created": 200}})
            second = (await socket.data())["importProgress"]
            await collection.update_one(
                {"_id": job.id}, {"$set": {"processed_rows": 300, "created": 300, "state": "DONE"}}
            )
            third = (await socket.data())["importProgress"]
    # then
    assert [(s["state"], s["processedRows"]) for s in (first, second, third)] == [
        ("RUNNING", 0),
        ("RUNNING", 200),
        ("DONE", 300),
    ]


async def test_import_progress_needs_the_permission_and_a_job_of_ones_workspace(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    done = await run_import(api, workspace.token, csv_bytes([HEADER, *_rows(1)]))
    _, viewer = await api.agent_token(workspace, ["CONTACT_VIEW"])
    other = await api.create_workspace("Other")
    async with serve(settings, engine) as served:
        results = []
        for token in (viewer, other.token, workspace.token):
            async with served.connect(TRANSPORT_WS) as socket:
                await socket.init(token)
                await socket.subscribe(PROGRESS, {"jobId": done["id"]})
                results.append(await socket.receive())
    # then
    forbidden, not_found, ok = results
    assert forbidden["type"] == "error" and forbidden["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not_found["type"] == "error" and not_found["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    assert ok["type"] == "next" and ok["payload"]["data"]["importProgress"]["state"] == "DONE"


async def test_the_row_errors_of_a_job_survive_it(api: Api, workspace: Workspace, library: Library) -> None:
    job = await run_import(api, workspace.token, csv_bytes([HEADER, ["Ada", "X", "nope", "New", "WhatsApp"]]))
    assert await row_errors(api, workspace.token, job["id"]) == [(2, "phone", "INVALID")]


async def _until_processed(api: Api, token: str, job_id: str, rows: int) -> None:
    async with asyncio.timeout(30):
        while True:
            job = (await api.data(IMPORT_JOB, {"id": job_id}, token))["importJob"]
            if job["processedRows"] >= rows:
                return
            await asyncio.sleep(0.001)


def _gid(job: ImportJob) -> str:
    from contactgraph.ids import encode_id

    return encode_id("ImportJob", job.id)  # type: ignore[arg-type]
