"""How an uploaded file is read: its encoding, its delimiter, its header, its rows in batches."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

SAMPLE_CHARS = 64 * 1024
DELIMITERS = ",;\t"

Row = tuple[int, list[str]]


class EncodingProbe:
    """Fed the upload chunk by chunk as it is stored, it names the file's encoding.

    A byte-order mark decides first (UTF-8 or UTF-16); otherwise the file is UTF-8 if
    every byte of it decodes as UTF-8, else Windows-1252 (what Excel writes in Western
    Europe). Checking the whole stream costs nothing extra: it passes through anyway.
    """

    def __init__(self) -> None:
        self.head = b""
        self.utf8 = True
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < 4:
            self.head = (self.head + chunk)[:4]
        if self.utf8:
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self.utf8 = False

    def encoding(self) -> str:
        if self.head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if self.head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if self.utf8:
            try:
                self._decoder.decode(b"", final=True)
                return "utf-8"
            except UnicodeDecodeError:
                pass
        return "cp1252"


def open_text(path: Path | str, encoding: str) -> TextIO:
    """The file as text; newline="" lets the csv module see quoted line breaks as they are."""
    return open(path, encoding=encoding, errors="replace", newline="")


def sniff_delimiter(sample: str) -> str:
    """Comma, semicolon or tab, as the standard library's Sniffer reads a sample of the file.

    The Sniffer reads lines ending in ``\n``, so Windows line ends are made so first. When
    it cannot tell (one column; quoted cells holding delimiters on every line), the header
    line decides: the candidate it holds most often; a comma when it holds none.
    """
    text = sample.replace("\r\n", "\n")
    cut = text.rfind("\n")
    if cut > 0:
        text = text[:cut]
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.split("\n", 1)[0]
        best = max(DELIMITERS, key=header.count)
        return best if header.count(best) else ","


def read_header(path: Path | str, encoding: str) -> tuple[str, list[str]]:
    """The delimiter and the header row (empty when the file has no row, or no readable one)."""
    with open_text(path, encoding) as text:
        delimiter = sniff_delimiter(text.read(SAMPLE_CHARS))
        text.seek(0)
        try:
            header = next(csv.reader(text, delimiter=delimiter), [])
        except csv.Error:
            header = []
    return delimiter, [cell.strip().lstrip("\ufeff") for cell in header]


def _records(path: Path | str, encoding: str, delimiter: str) -> Iterator[Row]:
    """Each non-blank record after the header, numbered as a spreadsheet would (the header is row 1)."""
    with open_text(path, encoding) as text:
        reader = csv.reader(text, delimiter=delimiter)
        next(reader, None)
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                yield number, cells


def count_rows(path: Path | str, encoding: str, delimiter: str) -> int:
    return sum(1 for _ in _records(path, encoding, delimiter))


def batches(path: Path | str, encoding: str, delimiter: str, size: int) -> Iterator[list[Row]]:
    """The rows in lists of ``size``: only one batch is held at a time."""
    batch: list[Row] = []
    for row in _records(path, encoding, delimiter):
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
