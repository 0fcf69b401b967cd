"""CSV text for the columnar reader: the encoding and delimiter of a file (as the register reader
chooses them), its records streamed, and — for a file with no quote character (nor NUL, nor a carriage
return outside CRLF) — its lines split at the delimiter in bulk, which is what csv.reader would make of
them."""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from engine.columnar.sources import RawBatch, Source
from engine.errors import InputFileError
from engine.register.reading import HEADER_SEARCH_ROWS, read_bytes


@dataclass
class CsvHead:
    encoding: str
    delimiter: str
    plain: bool = False       # no quote, NUL or lone CR anywhere: every line is one record


def read_head(path: Path, name: str) -> Optional[CsvHead]:
    """The encoding (as engine/register/reading._decode chooses it) and the delimiter; None for UTF-16,
    which is left to the normal reader."""
    data = read_bytes(path, name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    encoding = None
    for candidate in ("utf-8-sig", "gb18030"):
        if _decodes(data, candidate):
            encoding = candidate
            break
    if encoding is None:
        return None      # mixed encodings: the row-by-row reader rejects the undecodable rows one by one
    text = io.TextIOWrapper(io.BytesIO(data[:200_000]), encoding=encoding, errors="ignore", newline="").read(20000)
    head = text[:20000].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = "\t" if any("\t" in line for line in head) and not any("," in line for line in head) else ","
    plain = b'"' not in data and b"\x00" not in data and data.count(b"\r") == data.count(b"\r\n")
    return CsvHead(encoding, delimiter, plain)


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    step = 1 << 22
    try:
        for i in range(0, len(data), step):
            decoder.decode(data[i:i + step], final=i + step >= len(data))
        if not data:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_lines(path: Path, head: CsvHead):
    with open(path, encoding=head.encoding, newline="") as fh:
        yield from fh


def _plain_blocks(path: Path, head: CsvHead, size: int = 1 << 23):
    """The file's text in blocks that end at a line end (a "\\n" byte never sits inside a UTF-8 or
    GB18030 character), newlines as "\\n"."""
    first = True
    with open(path, "rb") as fh:
        rest = b""
        while True:
            data = fh.read(size)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest, data = data[cut:], data[:cut]
            if data:
                yield _decode_block(data, head, first)
                first = False
        if rest:
            yield _decode_block(rest, head, first)


def _decode_block(data: bytes, head: CsvHead, first: bool) -> str:
    encoding = head.encoding if first or head.encoding != "utf-8-sig" else "utf-8"
    text = data.decode(encoding)
    return text.replace("\r\n", "\n") if "\r" in text else text


def _plain_lines(path: Path, head: CsvHead):
    for text in _plain_blocks(path, head):
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        yield lines


def plain_records(path: Path, head: CsvHead):
    """(record number, cells) of a file without quotes, as csv.reader gives them."""
    n = 0
    d = head.delimiter
    for lines in _plain_lines(path, head):
        for line in lines:
            n += 1
            yield n, (line.split(d) if line else [])


def plain_batches(path: Path, head: CsvHead, size: int, lead: list, done: int):
    """(row numbers, lines) in batches of `size`, skipping the first `done` records (already read),
    after the records in `lead`."""
    numbers = [r for r, _ in lead]
    lines = [line for _, line in lead]
    n = 0
    for block in _plain_lines(path, head):
        if n + len(block) <= done:
            n += len(block)
            continue
        skip = max(0, done - n)
        start = n + skip
        block = block[skip:]
        n = start + len(block)
        pos = 0
        while pos < len(block):
            take = block[pos:pos + size - len(lines)]
            numbers.extend(range(start + pos + 1, start + pos + 1 + len(take)))
            lines.extend(take)
            pos += len(take)
            if len(lines) >= size:
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines


@contextlib.contextmanager
def csv_errors(name: str):
    try:
        yield
    except csv.Error as exc:
        raise InputFileError(f"{name}: not a well-formed CSV file ({exc})") from None


def csv_records(path: Path, name: str, head: CsvHead):
    """(record number, cells) of every CSV record, streamed."""
    with csv_errors(name):
        yield from enumerate(csv.reader(csv_lines(path, head), delimiter=head.delimiter), start=1)


class PythonCsv(Source):
    """A CSV register read by the standard library (when pyarrow is not installed): plain files as
    lines split in bulk, others through csv.reader."""

    def __init__(self, path: Path, name: str, head: CsvHead):
        self.path, self.name, self.text = path, name, head
        self.delimiter = head.delimiter

    def head(self):
        if self.text.plain:
            return plain_records(self.path, self.text)
        return csv_records(self.path, self.name, self.text)

    def batches(self, ncols: int, after: int, rows: int):
        if self.text.plain:
            for numbers, lines in plain_batches(self.path, self.text, rows, [], after):
                yield RawBatch(np.array(numbers, dtype=np.int64), lines=lines, delimiter=self.delimiter)
            return
        records = ((n, cells) for n, cells in csv_records(self.path, self.name, self.text) if n > after)
        while True:
            with csv_errors(self.name):
                batch = list(itertools.islice(records, rows))
            if not batch:
                return
            yield RawBatch(np.array([n for n, _ in batch], dtype=np.int64), records=batch)
