"""The ``contactgraph`` command, and the served schema against the shared contract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from graphql import GraphQLObjectType, build_schema
from starlette.applications import Starlette

from contactgraph.cli import main

CONTRACT_CHECK = Path(__file__).resolve().parents[2] / "shared" / "tools" / "contract_check.py"

# What the contract names ahead of the code: each later issue deletes its own names here,
# so a gap it leaves behind fails this module. A name is what contract_check reports as
# missing: a type, ``Type.field``, ``Enum.VALUE``, or ``Type.field(argument)``.
ISSUE_10_LISTS: frozenset[str] = frozenset()
ISSUE_12_DAILY_USE: frozenset[str] = frozenset()
LATER_ISSUES: frozenset[str] = ISSUE_10_LISTS | ISSUE_12_DAILY_USE

_MISSING = re.compile(
    r"^missing (?:enum value|input field|field|argument|type|input|enum|scalar) ([\w.]+)(\((\w+))?"
)


def _subject(problem: str) -> str | None:
    """The name a contract problem is about, as LATER_ISSUES spells it."""
    found = _MISSING.match(problem)
    if found is None:
        return None
    name, _, argument = found.groups()
    return f"{name}({argument})" if argument else name


def test_schema_prints_the_served_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    status = main(["schema"])
    # then
    sdl = capsys.readouterr().out
    assert status == 0
    assert "type Contact implements Node" in sdl
    schema = build_schema(sdl)
    contact = schema.get_type("Contact")
    assert isinstance(contact, GraphQLObjectType)
    assert {"id", "phone", "waId", "status", "customFields"} <= set(contact.fields)
    assert schema.query_type is not None and "contacts" in schema.query_type.fields
    assert schema.mutation_type is not None and "createWorkspace" in schema.mutation_type.fields


def test_schema_lacks_only_what_later_issues_add(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if not CONTRACT_CHECK.exists():
        pytest.skip(f"{CONTRACT_CHECK} is not beside the project")
    # given
    main(["schema"])
    served = tmp_path / "served.graphql"
    served.write_text(capsys.readouterr().out)
    # when
    result = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), str(served)], capture_output=True, text=True, check=False
    )
    # then
    lines = result.stdout.splitlines()
    assert lines and lines[-1].startswith("contract:"), result.stdout + result.stderr
    problems = lines[:-1]
    unexpected = [p for p in problems if _subject(p) not in LATER_ISSUES]
    assert unexpected == [], "\n".join(unexpected)
    built_already = LATER_ISSUES - {_subject(p) for p in problems}
    assert built_already == set(), "served now; delete from LATER_ISSUES: " + ", ".join(sorted(built_already))
    assert result.returncode == (1 if problems else 0)


def test_serve_hands_the_app_host_and_port_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    # when
    status = main(["serve", "--demo", "--port", "8123"])
    # then
    assert status == 0
    [call] = calls
    assert (call["host"], call["port"], call["log_level"]) == ("127.0.0.1", 8123, "info")
    assert isinstance(call["app"], Starlette)


def test_serve_rejects_an_unknown_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--no-such-option"])
    assert exit_.value.code == 2
    assert "--no-such-option" in capsys.readouterr().err


def test_the_readme_shows_the_access_policy_as_served(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    status = main(["permissions"])
    # then the README's Permissions section is the table the guards use, not a copy that drifts
    table = capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert status == 0
    assert "`contacts`" in table and "`GET /export/contacts.csv`" in table
    assert table in readme
