"""Reading the CSV file: the header and the records, with the line each record starts on."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from typing import BinaryIO

from .spec import ImportFileError

DELIMITERS = (",", ";", "\t")


class CsvFile:
    """The header and the records of a CSV file, with the line each record starts on.

    `on_bytes(n)` is called as the file is consumed (for a progress bar). Encodings must keep
    ASCII as it is (UTF-8, the default, or e.g. cp1252); a BOM is skipped.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        encoding: str = "utf-8",
        on_bytes: Callable[[int], None] | None = None,
    ):
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(f"unknown encoding {encoding!r}") from None
        if 'a,;\t\r\n"'.encode(codec.name) != b'a,;\t\r\n"':
            raise ImportFileError(f"{encoding} files are not supported: save the file as UTF-8")
        self.encoding = codec.name
        self._stream = stream
        self._on_bytes = on_bytes or (lambda n: None)
        self._line = 0
        lines = self._lines()
        first = next(lines, None)
        if first is None or not first.strip():
            raise ImportFileError("the file is empty: the first line must be the header")
        self.delimiter = max(DELIMITERS, key=first.count)
        if not first.count(self.delimiter):
            self.delimiter = ","
        self._reader = csv.reader(_chain(first, lines), delimiter=self.delimiter)
        self.header = next(self._reader)

    def _lines(self) -> Iterator[str]:
        for number, raw in enumerate(self._stream, start=1):
            self._on_bytes(len(raw))
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError:
                raise ImportFileError(
                    f"line {number} is not {self.encoding} text: save the file as UTF-8 or "
                    "name its encoding with --encoding (e.g. cp1252)"
                ) from None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(first line of the record, its fields); blank lines are skipped."""
        while True:
            start = self._reader.line_num + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(
                    f"line {start}: the file cannot be read on from here ({error}); "
                    "is a quote left open?"
                ) from None
            if values and any(v.strip() for v in values):
                yield start, values


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
