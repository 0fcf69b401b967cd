"""The columnar engine writes NDJSON and JSON in batches of TEXT_CHUNK_ROWS rows by default (a compact
line is ~3 KB: a batch of 50,000 held ~450 MB of text), any other batch size giving the same bytes."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.columnar import pipeline
from engine.commands import columnar_stream

REGISTER = Path(__file__).resolve().parent.parent / "examples" / "register.csv"


@pytest.mark.parametrize("fmt, expected", [("ndjson", 7), ("json", 7), ("csv", 50_000)])
def test_text_lines_are_written_in_small_batches_by_default(tmp_path, monkeypatch, fmt, expected):
    monkeypatch.setattr(columnar_stream, "TEXT_CHUNK_ROWS", 7)
    seen = []
    real_run = pipeline.run

    def recording_run(stream, job, executor, writer, chunk_rows, on_batch=None):
        seen.append(chunk_rows)
        return real_run(stream, job, executor, writer, chunk_rows, on_batch)

    monkeypatch.setattr(pipeline, "run", recording_run)
    outputs = {}
    for chunk in (None, "1000"):
        out = tmp_path / f"out-{chunk}.{fmt}"
        args = ["check", str(REGISTER), "--as-of", "2024-12-31", "--engine", "columnar", "--format", fmt,
                "--out", str(out), "--workers", "1"] + (["--chunk-size", chunk] if chunk else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), result.output
        outputs[chunk] = out.read_bytes()
    assert seen == [expected, 1000]
    assert outputs[None] == outputs["1000"] and outputs[None]
