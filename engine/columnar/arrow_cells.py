"""Register cells held in pyarrow string arrays, parsed as engine/columnar/cells.py parses Python lists —
with the same results, so the Arrow and the Python readers agree cell for cell:

* a column of few distinct texts (towns, dates, codes, counts) is dictionary-encoded by pyarrow and each
  distinct text parsed once by ColumnParser (engine/register's own functions);
* plain decimal money ([-]digits[.digits], ASCII) becomes integer fen through pyarrow's exact decimal
  type (no float anywhere); any other money cell is parsed exactly, one distinct text at a time;
* well-formed USCCs are checked on the bytes (cells.uscc_codes_valid);
* blank, over-long, control-character and (in a lossily decoded file) undecodable cells are found by
  pyarrow's string kernels; the rows holding them go to validate_row.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.columnar import arrow_typed
from engine.columnar.cells import MISSING_NUM, ColumnParser, id_hashes, int_array, uscc_codes_valid
from engine.columnar.id_log import NO_ID
from engine.register.units import places

# Python's str.isspace() characters (what is_blank strips), as one RE2 class: a cell without any other
# character is blank.
_SPACE = (r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
          r"\x{205f}\x{3000}")
_NOT_SPACE = f"[^{_SPACE}]"
_EDGE_SPACE = f"^[{_SPACE}]|[{_SPACE}]$"
# engine/register/normalise.CONTROL_CHARACTERS in RE2 spelling.
_CONTROL = r"[\x{00}-\x{08}\x{0b}\x{0c}\x{0e}-\x{1f}\x{7f}-\x{9f}]"


def as_numpy(mask) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def per_text(fn):
    """A test of every cell of a string array, also taking a dictionary array of strings (no nulls;
    arrow_source): then it tests each distinct text once and spreads the answers by the codes. A typed
    column (arrow_typed.py) holds no text: no cell is found."""
    def test(arr, *args):
        if not arrow_typed.is_text(arr.type):
            return np.zeros(len(arr), dtype=bool)
        if pa.types.is_dictionary(arr.type):
            return fn(arr.dictionary, *args)[arr.indices.to_numpy(zero_copy_only=False)]
        return fn(arr, *args)
    test.__doc__ = fn.__doc__
    return test


def non_blank(arr) -> np.ndarray:
    if not arrow_typed.is_text(arr.type):
        return arrow_typed.non_blank(arr)         # a typed cell is blank when null only
    return _non_blank_text(arr)


@per_text
def _non_blank_text(arr) -> np.ndarray:
    return as_numpy(pc.match_substring_regex(arr, _NOT_SPACE))


def any_non_blank(arr) -> bool:
    return bool(non_blank(arr).any())


def blank_rows(arrays: list) -> np.ndarray:
    """Rows every cell of which is blank (engine/register/normalise.is_blank)."""
    n = len(arrays[0]) if arrays else 0
    blank = np.ones(n, dtype=bool)
    for arr in arrays:
        blank &= ~non_blank(arr)
        if not blank.any():
            break
    return blank


def stripped(arr) -> list:
    """str.strip() of every cell; only the cells that may begin or end with a space are stripped in
    Python: those whose first or last bytes may be a space's (_edge_bytes), else those pyarrow finds."""
    got = stripped_or_same(arr)
    return got if isinstance(got, list) else got.to_pylist()


def stripped_or_same(arr):
    """stripped(arr), or the string array itself when no cell may begin or end with a space (no null, by
    its bytes): then no Python string is made for it here (engine/columnar/frame.Frame takes the array)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    cells = text_bytes(arr)
    edges = _edge_bytes(*cells) if cells is not None else as_numpy(pc.match_substring_regex(arr, _EDGE_SPACE))
    if cells is not None and pa.types.is_string(arr.type) and not edges.any():
        return arr
    texts = arr.to_pylist()
    for i in np.flatnonzero(edges).tolist():
        texts[i] = texts[i].strip()
    return texts


def text_bytes(arr):
    """(offsets, bytes) of a string array without nulls, cell i being bytes[offsets[i]:offsets[i + 1]];
    None for another array."""
    if arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    buffers = arr.buffers()
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    offsets = np.frombuffer(buffers[1], dtype=width)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def _edge_bytes(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The cells that may begin or end with one of Python's spaces (_SPACE), by their bytes (more than
    those that do: a regular expression over every cell cost more than the cells' text): a first byte
    that is ASCII up to the space or a lead byte of C2 (U+0085, U+00A0), E1 (U+1680), E2 (U+2000-U+205F)
    or E3 (U+3000); a last byte up to the space, or last bytes of those characters' lead and middle."""
    starts, ends = offsets[:-1], offsets[1:]
    if not len(data):
        return np.zeros(len(starts), dtype=bool)
    top = len(data) - 1
    first = data[np.minimum(starts, top)]
    last, second, third = (data[np.clip(ends - k, 0, top)] for k in (1, 2, 3))
    lead = (first <= 0x20) | (first == 0xC2) | ((first >= 0xE1) & (first <= 0xE3))
    tail = (last <= 0x20) | (second == 0xC2) | (
        (third >= 0xE1) & (third <= 0xE3) & ((second == 0x80) | (second == 0x81) | (second == 0x9A)))
    return (ends > starts) & (lead | tail)


@per_text
def controls(arr) -> np.ndarray:
    """The cells holding a control character (_CONTROL). Most columns hold none: their bytes are looked
    at first (a byte below the space but tab, line feed and carriage return, DEL, or C2 80-9F: U+0080
    to U+009F), and pyarrow's regular expression runs only when one is there."""
    cells = text_bytes(arr)
    if cells is not None:
        data = cells[1][cells[0][0]:cells[0][-1]] if len(cells[0]) else cells[1][:0]
        low = data < 0x20
        if not ((low & (data != 9) & (data != 10) & (data != 13)).any() or (data == 0x7F).any()
                or ((data[:-1] == 0xC2) & (data[1:] >= 0x80) & (data[1:] <= 0x9F)).any()):
            return np.zeros(len(arr), dtype=bool)
    return as_numpy(pc.match_substring_regex(arr, _CONTROL))


@per_text
def longer_than(arr, most: int) -> np.ndarray:
    if len(arr) == 0 or pc.max(pc.binary_length(arr)).as_py() <= most:    # no more characters than bytes
        return np.zeros(len(arr), dtype=bool)
    return as_numpy(pc.greater(pc.utf8_length(arr), most))


@per_text
def holding(arr, text: str) -> np.ndarray:
    return as_numpy(pc.match_substring(arr, text))


def uscc_valid(arr) -> tuple[np.ndarray, np.ndarray]:
    """cells.uscc_valid on a string array, on its bytes; with the id hash (cells.id_hashes) of each
    valid cell, NO_ID for the others, from the same bytes."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    n = len(arr)
    out = np.zeros(n, dtype=bool)
    hashes = np.full(n, NO_ID, dtype=np.int64)
    right = as_numpy(pc.equal(pc.binary_length(arr), 18))
    if not right.any():
        return out, hashes
    sub = arr.filter(pa.array(right)) if not right.all() else arr
    sub = pa.concat_arrays([sub])              # a fresh array: its bytes start at its first value
    offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32)[sub.offset:sub.offset + len(sub) + 1]
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(len(sub), 18)
    valid = uscc_codes_valid(data)
    out[right] = valid
    hashes[np.flatnonzero(right)[valid]] = id_hashes(data[valid])
    return out, hashes


def parse(parser: ColumnParser, arr) -> np.ndarray:
    """parser.parse(cells) for the cells of a string array (or a dictionary array of strings), or what
    parse_cell gives for a typed column's values (arrow_typed.py)."""
    if not arrow_typed.is_text(arr.type):
        return arrow_typed.parse(parser, arr)
    if parser.kind == "money" and places(parser.unit) <= 6:
        if pa.types.is_dictionary(arr.type):
            return _money(parser, arr.dictionary)[arr.indices.to_numpy(zero_copy_only=False)]
        return _money(parser, arr)
    encoded = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    texts = encoded.dictionary.to_pylist()
    table = parser.parse(texts)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    if table.dtype == object:
        return int_array([table[i] for i in indices.tolist()])
    return table[indices]


def _money(parser: ColumnParser, arr) -> np.ndarray:
    """Plain decimal money to fen through the exact decimal type (as cells.money_codes); others exactly."""
    p = places(parser.unit)
    sign = "-?" if parser.column.signed else ""
    pattern = f"^(?P<s>{sign})(?P<w>[0-9]{{1,12}})(?:\\.(?P<f>[0-9]{{1,{p}}}))?$"
    simple = as_numpy(pc.match_substring_regex(arr, pattern))
    empty = as_numpy(pc.equal(pc.binary_length(arr), 0))
    fen = np.full(len(arr), MISSING_NUM, dtype=np.int64)
    if simple.any():
        # At most 12 + 6 digits: exact in a decimal128 of scale p, whose 128-bit unscaled integer is the
        # amount in fen (units of 10^-p); its low 64 bits hold it whole.
        exact = pc.cast(arr.filter(pa.array(simple)), pa.decimal128(18, p))
        fen[simple] = np.frombuffer(exact.buffers()[1], dtype=np.int64).reshape(-1, 2)[
            exact.offset:exact.offset + len(exact), 0]
    rest = np.flatnonzero(~(simple | empty))
    if not len(rest):
        return fen
    values = parser.parse(arr.take(pa.array(rest)).to_pylist())
    if values.dtype != object:
        fen[rest] = values
        return fen
    out = fen.astype(object)
    out[rest] = values
    return int_array(out.tolist())


def is_utf8(path, block: int = 1 << 22) -> bool:
    """Whether the whole file is valid UTF-8, checked by pyarrow block by block (no Python text is made),
    two blocks at a time in two threads (pyarrow's check and the reads run without the interpreter's
    lock: the check of a 183 MB register took 0.18 s before the first worker could start, now 0.10).
    Each block is read into a buffer its thread uses again and checked in place; a character cut by a
    block's end is checked whole with that block (up to three continuation bytes past its end), which the
    next block skips."""
    size = os.path.getsize(path)
    local = threading.local()
    with open(path, "rb") as fh:
        def valid(k: int) -> bool:
            if not hasattr(local, "buffer"):
                local.buffer = bytearray(block + 6)
            buffer, start = local.buffer, k * block
            before = min(start, 3)              # bytes read before the block, to find where it starts
            got = os.preadv(fh.fileno(), [buffer], start - before)
            begin, end = before, min(before + block, got)
            while k and begin < got and begin - before < 3 and buffer[begin] & 0xC0 == 0x80:
                begin += 1                      # the end of the previous block's last character
            while end < got and end - before - block < 3 and buffer[end] & 0xC0 == 0x80:
                end += 1
            if begin >= end:
                return True
            offsets = pa.py_buffer(np.array([0, end - begin], dtype=np.int32))
            try:
                pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(buffer)[begin:end]]).cast(pa.string())
            except pa.ArrowInvalid:
                return False
            return True
        from concurrent.futures import ThreadPoolExecutor      # (this check alone uses threads)
        with ThreadPoolExecutor(2) as pool:
            return all(pool.map(valid, range(-(-size // block))))
