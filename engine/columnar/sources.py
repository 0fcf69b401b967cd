"""Where the columnar reader's records come from: a source gives the records for the header search
(`head`), then every record below the header in RawBatches (`batches`), and can give chosen records again
(`rows`, for the duplicate check). Sources: csv_text.PythonCsv (the standard library's csv module),
arrow_source.ArrowCsv and ArrowParquet (pyarrow), partitions.DatasetFile (a partition of a Parquet
dataset, with its folder keys as columns)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np


@dataclass
class RawBatch:
    """Consecutive records: `numbers` (int64, as the officer sees them) and one of `arrays` (a pyarrow
    string array, or dictionary array of strings, per column position, no nulls), `records` ((number, cells) each) or `lines` (records
    of a file without quotes, to be split at the delimiter)."""

    numbers: np.ndarray
    arrays: Optional[list] = None
    records: Optional[list] = None
    lines: Optional[list] = None

    def __len__(self) -> int:
        return len(self.numbers)

    def cells(self, i: int) -> list:
        if self.arrays is not None:
            return [a[i].as_py() for a in self.arrays]
        if self.records is not None:
            return list(self.records[i][1])
        return self.lines[i].split(self.delimiter)

    delimiter: str = ","


class Source:
    header_first = False       # the first record is the header (Parquet): no search
    delimiter = ","

    def head(self) -> Iterator[tuple[int, list]]:
        raise NotImplementedError

    def batches(self, ncols: int, after: int, rows: int) -> Iterator[RawBatch]:
        raise NotImplementedError

    def usual_width(self, below: list, header_cells: list) -> int:
        return len(header_cells)

    def spans(self, rows: int, after: int = 0) -> Optional[list]:
        """The file cut into parts a worker process can read and number by itself, the batches of at
        most `rows` it then makes the same as batches() makes (arrow_source ArrowCsv.spans,
        ArrowParquet.spans), or None: read in one piece by this process."""
        return None

    def dictionaries(self, positions: list[int]) -> None:
        """The columns at these positions hold few distinct texts (a source may hand them over as
        pyarrow dictionary arrays)."""

    def records(self, after: int) -> Iterator[tuple[int, list]]:
        """Every record below `after`, one by one (for the rare reads that need them all)."""
        for batch in self.batches(0, after, 10_000):
            for i, n in enumerate(batch.numbers.tolist()):
                yield n, batch.cells(i)

    def rows(self, needed: set, ncols: int, after: int) -> Iterator[tuple[int, list]]:
        """The records numbered in `needed`, read again."""
        if not needed:
            return
        wanted = np.array(sorted(needed), dtype=np.int64)
        for batch in self.batches(ncols, after, 50_000):
            for i in np.flatnonzero(np.isin(batch.numbers, wanted)).tolist():
                yield int(batch.numbers[i]), batch.cells(i)
