"""Helpers of the web tests: an app with its own data folder, and uploads of the bundled examples."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from fastapi.testclient import TestClient

from web.app import create_app
from web.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = "2024-12-31"


def client_for(data_dir: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(data_dir=data_dir, **settings)), base_url="http://127.0.0.1:8000",
                      follow_redirects=False)


def check(client: TestClient, path: Path, *, as_of: str = AS_OF, name: Optional[str] = None, policy: str = "",
          content: Optional[bytes] = None, fmt: str = "json"):
    """POST /api/v1/check with a file (its own content, or `content` under `name`)."""
    data = content if content is not None else path.read_bytes()
    fields = {"as_of": as_of, **({"policy": policy} if policy else {})}
    return client.post(f"/api/v1/check?format={fmt}", files={"file": (name or path.name, data)}, data=fields)


def upload_page(client: TestClient, path: Path, *, as_of: str = AS_OF) -> str:
    """The 评价 page's upload form; returns the upload id the app redirects to."""
    with open(path, "rb") as fh:
        response = client.post("/evaluate", files={"file": (path.name, fh)}, data={"as_of": as_of})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("u=", 1)[1]
