"""Uploads, each in its own temporary folder under one private root made when the app starts.

The file is saved under a fixed name chosen here (register.csv, register.xlsx or register.json): no
part of a path ever comes from the request. The name the user gave is kept for display only. A
workspace is deleted `upload_ttl_seconds` after it was made (swept on every new upload and every
minute a page is requested), and the root with everything in it when the app stops."""
from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Optional

from web.problems import RequestProblem

SUFFIXES = {".csv": "register.csv", ".xlsx": "register.xlsx", ".json": "register.json"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CHUNK = 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Upload:
    id: str
    folder: Path
    path: Path
    display_name: str
    created: float
    evaluation: Any = None                       # web.service.Evaluation once evaluated

    def shown(self, text: str) -> str:
        """An engine message names the file by its path in the workspace; the user knows it by its name."""
        return str(text).replace(str(self.path), self.display_name)

    def output(self, name: str) -> Path:
        """A file the app writes for this upload; `name` is always one of the app's own constants."""
        return self.folder / name


def display_name(filename: Optional[str]) -> str:
    """The uploaded file's own name, for messages only: its last path part, printable characters only."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ").strip()
    return base[:120] or "register"


class Workspaces:
    def __init__(self, ttl_seconds: int, max_bytes: int, clock: Callable[[], float] = time.monotonic):
        self.root = Path(tempfile.mkdtemp(prefix="scaleup-web-"))
        self.ttl, self.max_bytes, self.clock = ttl_seconds, max_bytes, clock
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def save(self, stream: IO[bytes], filename: Optional[str]) -> Upload:
        """A new workspace holding the uploaded register, or RequestProblem (type, size)."""
        suffix = Path(display_name(filename)).suffix.lower()
        if suffix not in SUFFIXES:
            raise RequestProblem(415, "wrong_type", name=display_name(filename), allowed=", ".join(SUFFIXES))
        upload = self._new(SUFFIXES[suffix], filename)
        try:
            self._copy(stream, upload.path)
            if suffix == ".xlsx" and not upload.path.read_bytes()[:4] == XLSX_MAGIC:
                raise RequestProblem(415, "not_xlsx", name=upload.display_name)
        except BaseException:
            self.discard(upload.id)
            raise
        return upload

    def save_records(self, records: list) -> Upload:
        """JSON records (the API's alternative to a file) as a JSON register in a new workspace."""
        import json
        text = json.dumps(records, ensure_ascii=False)
        if len(text.encode("utf-8")) > self.max_bytes:
            raise RequestProblem(413, "too_large", limit_mb=self.max_bytes // (1024 * 1024))
        upload = self._new(SUFFIXES[".json"], "records.json")
        upload.path.write_text(text, encoding="utf-8")
        return upload

    def _new(self, fixed_name: str, filename: Optional[str]) -> Upload:
        self.sweep()
        upload_id = secrets.token_urlsafe(18)
        folder = self.root / upload_id
        folder.mkdir(mode=0o700)
        upload = Upload(upload_id, folder, folder / fixed_name, display_name(filename), self.clock())
        with self._lock:
            self._uploads[upload_id] = upload
        return upload

    def _copy(self, stream: IO[bytes], target: Path) -> None:
        written = 0
        with open(target, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > self.max_bytes:
                    raise RequestProblem(413, "too_large", limit_mb=self.max_bytes // (1024 * 1024))
                out.write(chunk)
        if written == 0:
            raise RequestProblem(400, "empty_file")

    def get(self, upload_id: str) -> Upload:
        self.sweep_now_and_then()
        upload = self._uploads.get(upload_id) if ID_PATTERN.match(upload_id or "") else None
        if upload is None:
            raise RequestProblem(404, "upload_gone", hours=self.ttl / 3600)
        return upload

    def latest(self) -> Optional[Upload]:
        with self._lock:
            ready = [u for u in self._uploads.values() if u.evaluation is not None]
        return max(ready, key=lambda u: u.created, default=None)

    def discard(self, upload_id: str) -> None:
        with self._lock:
            upload = self._uploads.pop(upload_id, None)
        if upload is not None:
            shutil.rmtree(upload.folder, ignore_errors=True)

    def sweep(self) -> int:
        """Delete every workspace older than the time limit; returns how many."""
        now = self.clock()
        self._last_sweep = now
        with self._lock:
            old = [u.id for u in self._uploads.values() if now - u.created >= self.ttl]
        for upload_id in old:
            self.discard(upload_id)
        return len(old)

    def sweep_now_and_then(self) -> None:
        if self.clock() - self._last_sweep >= 60:
            self.sweep()

    def close(self) -> None:
        with self._lock:
            self._uploads.clear()
        shutil.rmtree(self.root, ignore_errors=True)
