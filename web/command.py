"""`scaleup serve`: the web app's command, registered on the `scaleup` group by cli.py. It imports
only click at module level, so `scaleup -h` stays fast; the app (FastAPI, uvicorn) loads when it runs."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs --token.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="Folder of the award ledger (DATA/scaleup.db), created if missing.")
@click.option("--token", envvar="SCALEUP_TOKEN", default=None, metavar="SECRET",
              help="Bearer token every request must carry (env SCALEUP_TOKEN); required off loopback.")
def serve(host: str, port: int, data_dir: Path, token: Optional[str]):
    """Serve the web app and the HTTP API (/api/v1/) over the same engine (docs/web.md).

    \b
    Example:
      scaleup serve                                  # http://127.0.0.1:8000
      scaleup serve --port 8080 --data ~/scaleup-data
    """
    from web.server import serve as run
    from web.settings import Settings
    run(Settings(data_dir=data_dir, host=host, port=port, token=token))
