"""Where uploads wait for their job: a file on the local disk, written as the upload streams in."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Protocol

from ..models import DomainError, ErrorCode
from .decoding import EncodingProbe

CHUNK = 64 * 1024


class Readable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


def too_large(max_bytes: int) -> DomainError:
    return DomainError(
        ErrorCode.LIMIT_EXCEEDED, f"The file is larger than {max_bytes:,} bytes; split it.", ["file"]
    )


async def store(upload: Readable, directory: Path, max_bytes: int) -> tuple[Path, int, str]:
    """Copy ``upload`` to a new file in ``directory``, a chunk at a time: its path, size and encoding.

    Past ``max_bytes`` the copy stops, is removed, and the caller hears ``LIMIT_EXCEEDED``.
    """
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.csv"
    probe = EncodingProbe()
    size = 0
    out = await asyncio.to_thread(path.open, "wb")
    try:
        with out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                probe.feed(chunk)
                await asyncio.to_thread(out.write, chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, probe.encoding()


def discard(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)
