"""The FastAPI application: pages (web/pages.py), the API (web/api.py) and static files from the
package; refusals and domain errors become messages (web/context.py), never a traceback."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from engine import __version__
from engine.errors import EngineError, ScaleupError
from web import api, pages
from web.context import HERE, LANGS, problem_response, shown_error
from web.problems import RequestProblem
from web.security import BearerTokenMiddleware, new_secret
from web.settings import LOOPBACK_NAMES, Settings
from web.workspace import Workspaces



# No page may be framed by another site (a hidden frame could click 确认记录 for the officer), load
# anything from elsewhere, or send its address (which may carry ?token=) to another site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}


def create_app(settings: Settings) -> FastAPI:
    workspaces = Workspaces(settings.upload_ttl_seconds, settings.max_upload_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        workspaces.close()

    app = FastAPI(title="scaleup", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json",
                  description="The scaleup engine over HTTP: policies, register checks, explanations, review "
                              "sheets, award runs, plan targets and what-if. Upload once (POST /api/v1/check), "
                              "then ask about the upload by its id.")
    app.state.settings, app.state.workspaces, app.state.csrf = settings, workspaces, new_secret()

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        # Refused before the body is read; a body without Content-Length is counted as it is saved.
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
            return problem_response(request, RequestProblem(413, "too_large",
                                                            limit_mb=settings.max_upload_bytes // (1024 * 1024)))
        return await call_next(request)

    @app.middleware("http")
    async def remember_language(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        chosen = request.query_params.get("lang")
        if chosen in LANGS:
            response.set_cookie("lang", chosen, samesite="strict")
        return response

    if settings.token:   # added last, so it runs first: nothing else answers a request without the token
        app.add_middleware(BearerTokenMiddleware, token=settings.token, on_refusal=problem_response)
    if settings.loopback:
        # A page on another site whose name is made to resolve to 127.0.0.1 (DNS rebinding) would be
        # "same origin" and could read the CSRF token: on loopback only loopback names are answered.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_NAMES))

    @app.exception_handler(RequestProblem)
    async def refused(request: Request, exc: RequestProblem):
        return problem_response(request, exc)

    @app.exception_handler(ScaleupError)
    async def bad_input(request: Request, exc: ScaleupError):
        return problem_response(request, RequestProblem(400, "bad_input"), shown_error(request, str(exc)))

    @app.exception_handler(EngineError)
    async def internal(request: Request, exc: EngineError):
        return problem_response(request, RequestProblem(500, "internal", detail=str(exc)[:300]))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem_response(request, RequestProblem(422, "invalid_request", where=where,
                                                        detail=first.get("msg", "")))

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    return app
