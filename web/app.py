"""The FastAPI application: pages (web/pages.py), the API (web/api.py), static files from the
package, and one way of turning a refused request or a domain error into a message."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Optional

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from engine import __version__
from engine.errors import EngineError, ScaleupError
from web.problems import RequestProblem
from web.security import BearerTokenMiddleware, new_secret
from web.settings import Settings
from web.workspace import Workspaces

HERE = Path(__file__).parent
LANGS = ("zh", "en")


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, auto_reload=False)
    return env


def language(request: Request) -> str:
    """?lang= (the switch), then the cookie it sets, then Chinese."""
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in LANGS else "zh"


def message(key: str, lang: str, params: Optional[dict] = None) -> str:
    words = environment().get_template(f"_messages_{lang}.j2").module
    return words.M.get(key, key).format(**(params or {}))


def parse_date(text: Optional[str], field: str) -> date:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        raise RequestProblem(400, "bad_date", field=field, value=str(text or "")[:40]) from None


def problem_response(request: Request, problem: RequestProblem, text: Optional[str] = None):
    lang = language(request)
    shown = text if text is not None else message(problem.key, lang, problem.params)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": problem.key, "message": shown}, status_code=problem.status)
    page = environment().get_template("error.html.j2").render(
        message=shown, status=problem.status, **page_globals(request))
    return HTMLResponse(page, status_code=problem.status)


def page_globals(request: Request) -> dict:
    from engine.render import money
    lang = language(request)
    other = "en" if lang == "zh" else "zh"
    return {"lang": lang, "T": environment().get_template(f"_words_{lang}.j2").module.T,
            "path": request.url.path, "query": request.url.query, "version": __version__,
            "csrf": request.app.state.csrf, "switch_url": str(request.url.include_query_params(lang=other)),
            "money": lambda value: money(value, lang), "settings": request.app.state.settings}


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
        chosen = request.query_params.get("lang")
        if chosen in LANGS:
            response.set_cookie("lang", chosen, samesite="strict")
        return response

    if settings.token:   # added last, so it runs first: nothing else answers a request without the token
        app.add_middleware(BearerTokenMiddleware, token=settings.token, on_refusal=problem_response)

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
    from web import api, pages
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def shown_error(request: Request, text: str) -> str:
    """A domain error's text with the upload's workspace path replaced by the file's own name."""
    upload = getattr(request.state, "upload", None)
    return upload.shown(text) if upload is not None else text
