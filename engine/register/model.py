"""What reading a register produces: the accepted enterprises, the rejected rows with every problem
found in them, and the file's warnings (shared by the whole-file and the streaming reader)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from engine.facts import Enterprise


@dataclass(frozen=True)
class InputProblem:
    file: str
    row: Optional[int]
    column: Optional[str]   # header text as it appears in the file
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f"{',' if self.row is not None else ''} column {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RejectedRow:
    row: int                                # as the officer sees it in Excel / the CSV record number
    original: dict[str, str]                # the row's cells unchanged, keyed by the file's header text
    problems: tuple[InputProblem, ...]


@dataclass
class RegisterRead:
    path: str
    headers: list[str]
    accepted: list[tuple[int, Enterprise]]
    rejected: list[RejectedRow]
    warnings: list[InputProblem]

    @property
    def total_rows(self) -> int:
        return len(self.accepted) + len(self.rejected)
