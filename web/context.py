"""What every page and route shares: the language of a request, dates from a request, the pages'
template environment, and turning a refusal into a message (JSON under /api/, a page elsewhere)."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Optional

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from engine import __version__
from web.problems import RequestProblem

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
            "csrf": request.app.state.csrf, "switch_url": "?" + request.url.include_query_params(lang=other).query,
            "money": lambda value: money(value, lang), "settings": request.app.state.settings}


def shown_error(request: Request, text: str) -> str:
    """A domain error's text with the upload's workspace path replaced by the file's own name."""
    upload = getattr(request.state, "upload", None)
    return upload.shown(text) if upload is not None else text
