"""Starting the app: `scaleup serve` calls `serve(settings)`."""
from __future__ import annotations

from engine.errors import UsageConflict
from web.settings import Settings


class BindingRefused(UsageConflict):
    """Asked to listen beyond this machine without a token (a usage error: exit 2)."""


def check_binding(settings: Settings) -> None:
    """Only this machine may reach an app without a token: any other address needs --token."""
    if not settings.loopback and not settings.token:
        raise BindingRefused(f"--host {settings.host} would let other machines reach the app: give --token "
                             f"SECRET (clients send Authorization: Bearer SECRET), or bind 127.0.0.1")
    if settings.token is not None and len(settings.token) < 16:
        raise BindingRefused("--token is too short: use at least 16 characters (e.g. python -c "
                             "\"import secrets; print(secrets.token_urlsafe(24))\")")


def serve(settings: Settings) -> None:
    import uvicorn
    from web.app import create_app
    check_binding(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                access_log=False)
