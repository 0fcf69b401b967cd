"""The officer's pages: 评价, 企业, 奖励, 目标, 政策, 假如, and the API docs. Each page calls the engine
through web/service.py and lays out what it returns; the words are in the templates."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from engine.families import AWARD_TYPES
from web import service
from web.context import environment, language, page_globals, parse_date
from web.problems import RequestProblem
from web.security import check_change_allowed

router = APIRouter(include_in_schema=False)
SORTABLE = ("enterprise_id", "name", "town", "in_park")     # and each family's outcome and amount


def page(request: Request, template: str, **values) -> HTMLResponse:
    from engine.render import environment as engine_environment
    lang = language(request)
    words = engine_environment().get_template(f"_words_{lang}.j2").module
    html = environment().get_template(template).render(OUTCOME=words.OUTCOME, OP=words.OP, **page_globals(request),
                                                       **values)
    return HTMLResponse(html)


def upload_of(request: Request, upload_id: Optional[str]):
    if not upload_id:
        latest = request.app.state.workspaces.latest()
        if latest is None:
            raise RequestProblem(404, "upload_first")
        upload_id = latest.id
    upload = request.app.state.workspaces.get(upload_id)
    request.state.upload = upload
    return upload


def family_labels(book, lang: str) -> dict:
    return {k: (f.spec.label_zh if lang == "zh" else f.spec.label_en) for k, f in book.families.items()}


@router.get("/")
def home():
    return RedirectResponse("/evaluate", status_code=303)


@router.get("/evaluate")
def evaluate_page(request: Request, u: Optional[str] = None, town: str = "", family: str = "", outcome: str = "",
                  park: str = "", sort: str = "", order: str = "asc", page_no: int = 1):
    listing = None
    if u:
        upload = upload_of(request, u)
        ev = service.evaluation_of(upload)
        listing = decisions_listing(ev, request.app.state.settings.page_size, town=town, family=family,
                                    outcome=outcome, park=park, sort=sort, order=order, page_no=page_no)
        listing.update(upload=upload, ev=ev, labels=family_labels(ev.book, language(request)),
                       rejected=service.rejected_json(upload),
                       warnings=[upload.shown(w) for w in ev.read.warnings])
    return page(request, "evaluate.html.j2", listing=listing, policies=service.policies(),
                default_policy=request.app.state.settings.default_policy,
                filters={"town": town, "family": family, "outcome": outcome, "park": park, "sort": sort,
                         "order": order})


def decisions_listing(ev, page_size: int, *, town: str, family: str, outcome: str, park: str, sort: str,
                      order: str, page_no: int) -> dict:
    """The rows the filters keep, sorted, one page of them. Rows are the engine's summary rows."""
    rows, families = ev.rows, tuple(ev.book.families)      # the policy's families, in output order
    if town:
        rows = [r for r in rows if r["town"] == town]
    if park in ("in", "out"):
        rows = [r for r in rows if r["in_park"] is (park == "in")]
    if family in families:
        rows = [r for r in rows if (r[family] == outcome if outcome else r[family] != "not_applicable")]
    elif outcome:
        rows = [r for r in rows if any(r[f] == outcome for f in families)]
    if sort in SORTABLE + families + tuple(f"{t}.amount_yuan" for t in AWARD_TYPES):
        def key(r):
            value = r.get(sort)
            if sort.endswith("amount_yuan"):
                return Decimal(value) if value else Decimal(-1)
            return str(value)
        rows = sorted(rows, key=key, reverse=(order == "desc"))
    pages = max(1, -(-len(rows) // page_size))
    page_no = min(max(1, page_no), pages)
    return {"rows": rows[(page_no - 1) * page_size: page_no * page_size], "matching": len(rows),
            "page_no": page_no, "pages": pages, "towns": sorted({r["town"] for r in ev.rows}),
            "outcomes": sorted({r[f] for r in ev.rows for f in families}), "families": families,
            "award_types": AWARD_TYPES}


@router.post("/evaluate")
async def evaluate_upload(request: Request, file: UploadFile, as_of: str = Form(""), policy: str = Form("")):
    settings, workspaces = request.app.state.settings, request.app.state.workspaces
    day = parse_date(as_of, "as_of")
    policy_id = service.known_policy(policy or settings.default_policy)
    upload = await run_in_threadpool(workspaces.save, file.file, file.filename)
    request.state.upload = upload
    try:
        await run_in_threadpool(service.evaluate, upload, policy_id, day, settings.max_rows)
    except BaseException:
        workspaces.discard(upload.id)
        raise
    return RedirectResponse(f"/evaluate?u={upload.id}", status_code=303)


@router.get("/uploads/{upload_id}/download/{kind}")
def download(request: Request, upload_id: str, kind: str):
    upload = upload_of(request, upload_id)
    path = service.write_download(upload, kind, language(request))
    stem = upload.display_name.rsplit(".", 1)[0]
    return FileResponse(path, filename=f"{stem}-{service.DOWNLOADS[kind]}")


@router.get("/enterprise/{upload_id}/{enterprise_id}")
def enterprise_page(request: Request, upload_id: str, enterprise_id: str):
    upload = upload_of(request, upload_id)
    ev = service.evaluation_of(upload)
    view = service.enterprise_view(ev, enterprise_id, language(request))
    return page(request, "enterprise.html.j2", upload=upload, ev=ev, view=view, award_types=AWARD_TYPES,
                labels=family_labels(ev.book, language(request)))


@router.get("/enterprise/{upload_id}/{enterprise_id}/review")
def review_page(request: Request, upload_id: str, enterprise_id: str, type: str = "enterprise_award"):
    text = service.review_sheet(upload_of(request, upload_id), enterprise_id, type, language(request), "html")
    return HTMLResponse(text)


@router.get("/enterprise/{upload_id}/{enterprise_id}/audit")
def audit_download(request: Request, upload_id: str, enterprise_id: str, type: str = "enterprise_award"):
    from engine.awards.audit import record_file_name
    record = service.audit_record(upload_of(request, upload_id), enterprise_id, type)
    return JSONResponse(record, headers={"Content-Disposition": f'attachment; filename="{record_file_name(record)}"'})


@router.get("/awards")
def awards_page(request: Request, u: Optional[str] = None, year: Optional[int] = None):
    from engine.awards.present import render_ledger_summary, render_plan, town_table
    lang, ledger_path = language(request), request.app.state.settings.ledger_path
    upload = upload_of(request, u) if u or request.app.state.workspaces.latest() else None
    plan_text = town = None
    if upload is not None:
        ev = service.evaluation_of(upload)
        year = year or ev.as_of.year
        plan = service.award_plan(upload, ledger_path, year, commit=False)
        plan_text = render_plan(plan, ev.policy, lang, "run", False)
        town = town_table(plan, ev.policy, lang, with_basis=True)   # the basis of each row's money (#15)
    summary = service.ledger_summary(ledger_path)
    return page(request, "awards.html.j2", upload=upload, year=year, plan_text=plan_text, town=town,
                summary=summary, summary_text=render_ledger_summary(summary, lang) if summary else None)


@router.post("/awards/commit")
def awards_commit(request: Request, u: str = Form(), year: int = Form(), csrf: str = Form(""),
                  confirm: str = Form("")):
    from engine.awards.present import render_plan
    check_change_allowed(request, request.app.state.csrf, csrf, confirm == "yes")
    upload = upload_of(request, u)
    plan = service.award_plan(upload, request.app.state.settings.ledger_path, year, commit=True)
    text = render_plan(plan, upload.evaluation.policy, language(request), "run", True)
    return page(request, "done.html.j2", title_key="committed", text=text, back=f"/awards?u={upload.id}&year={year}")


@router.post("/awards/pay")
def awards_pay(request: Request, paid_on: str = Form(""), reference: str = Form(""), year: str = Form(""),
               csrf: str = Form(""), confirm: str = Form("")):
    from engine.awards.present import render_payments
    check_change_allowed(request, request.app.state.csrf, csrf, confirm == "yes")
    day = parse_date(paid_on, "paid_on")
    due_year = int(year) if year.strip().isdigit() else None
    rows = service.record_payment(request.app.state.settings.ledger_path, day, reference, due_year, commit=True)
    text = render_payments(rows, language(request), committed=True, paid_on=day, reference=reference)
    return page(request, "done.html.j2", title_key="paid", text=text, back="/awards")


@router.get("/targets")
def targets_page(request: Request, u: Optional[str] = None, year: Optional[int] = None):
    from engine.analysis.targets import render_targets
    upload = upload_of(request, u)
    ev = service.evaluation_of(upload)
    table = service.targets(ev, year)
    chart = service.targets_chart(table)
    rows = [r for r in table["rows"] if r["in_annex"]]
    return page(request, "targets.html.j2", upload=upload, table=table, rows=rows, chart=chart["chart"],
                text=render_targets(table, language(request)))


@router.get("/policy")
def policy_page(request: Request, id: Optional[str] = None, as_of: str = ""):
    policy_id = id or request.app.state.settings.default_policy
    day = parse_date(as_of, "as_of") if as_of else None
    doc = service.policy_document(policy_id, day)
    findings = service.policy_findings(policy_id)
    return page(request, "policy.html.j2", doc=doc, findings=findings, policies=service.policies(),
                as_of=as_of)


@router.get("/whatif")
def whatif_page(request: Request, u: Optional[str] = None, set: str = ""):
    from engine.analysis.whatif import diff_json, render_diff
    upload = upload_of(request, u)
    ev = service.evaluation_of(upload)
    result = text = None
    if set.strip():
        d = service.whatif(ev, set.splitlines())
        result, text = diff_json(d), render_diff(d, ev.policy, ev.book, language(request))
    from engine.awards.present import words
    names = sorted(n for n, p in ev.policy.parameters.items() if p.type in ("money", "ratio", "count"))
    return page(request, "whatif.html.j2", upload=upload, ev=ev, set_text=set, result=result, text=text,
                names=names, labels=family_labels(ev.book, language(request)), BTYPE=words(language(request)).BTYPE)


@router.get("/api/docs")
def api_docs(request: Request):
    """The API's reference, generated from its own OpenAPI document: no script, nothing fetched."""
    return page(request, "api_docs.html.j2", spec=request.app.openapi())
