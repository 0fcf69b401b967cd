"""Who may call the app, and what a state-changing request must carry.

- Bound to a loopback address the app answers only this machine; any other address needs a bearer
  token (`--token`), checked on every request: the `Authorization: Bearer` header (API clients) or
  the cookie a browser gets by opening any page once with `?token=...`.
- Commit and pay change the ledger: each needs the CSRF token of this app instance (a hidden form
  field on the pages, the `X-CSRF-Token` header for API clients, from GET /api/v1/csrf) and an
  explicit confirmation. A page on another site can neither read the token nor forge the request."""
from __future__ import annotations

import hmac
import secrets
from typing import Optional

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web.problems import RequestProblem

TOKEN_COOKIE = "scaleup_token"
CSRF_HEADER = "X-CSRF-Token"


def same(a: Optional[str], b: Optional[str]) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class BearerTokenMiddleware(BaseHTTPMiddleware):
    """Every request carries the token (header or cookie); `?token=` on a page sets the cookie."""

    def __init__(self, app, token: str, on_refusal):
        super().__init__(app)
        self.token, self.on_refusal = token, on_refusal

    async def dispatch(self, request: Request, call_next) -> Response:
        header = request.headers.get("authorization", "")
        offered = header[7:].strip() if header.lower().startswith("bearer ") else None
        if same(offered, self.token) or same(request.cookies.get(TOKEN_COOKIE), self.token):
            return await call_next(request)
        if same(request.query_params.get("token"), self.token) and request.method == "GET":
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return self.on_refusal(request, RequestProblem(401, "token_needed"))


def check_change_allowed(request: Request, csrf: str, offered: Optional[str], confirmed: bool) -> None:
    """A commit or a payment: the CSRF token of this instance and an explicit confirmation."""
    if not same(offered or request.headers.get(CSRF_HEADER), csrf):
        raise RequestProblem(403, "csrf_refused")
    if not confirmed:
        raise RequestProblem(400, "confirm_needed")
