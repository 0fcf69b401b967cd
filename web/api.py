"""/api/v1/: the engine's answers as JSON (the output contract of `scaleup ... --format json`).

Upload a register once (POST /api/v1/check, a file or JSON records), then ask about it by the upload
id it returns: explain, review, audit, awards, targets, diff. Uploads are deleted after the time
limit (docs/web.md); a later request for one answers 404 upload_gone."""
from __future__ import annotations

import json
from typing import Any, Literal, Optional

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, StreamingResponse

from engine.output import result_json
from web import service
from web.context import language, parse_date
from web.problems import RequestProblem
from web.security import check_change_allowed

router = APIRouter(prefix="/api/v1", tags=["api"])
CHECK_BODY = {"requestBody": {"content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file", "as_of"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "register: .csv, .xlsx or .json"},
        "as_of": {"type": "string", "format": "date"}, "policy": {"type": "string"}}}},
    "application/json": {"schema": {"type": "object", "required": ["records", "as_of"], "properties": {
        "records": {"type": "array", "items": {"type": "object"},
                    "description": "register rows, keyed by column name as in a JSON register"},
        "as_of": {"type": "string", "format": "date"}, "policy": {"type": "string"}}}}}}}


def upload_of(request: Request, upload_id: str):
    upload = request.app.state.workspaces.get(upload_id)
    request.state.upload = upload
    return upload


def settings(request: Request):
    return request.app.state.settings


@router.get("/policies", summary="The bundled policies (scaleup policy list)")
def list_policies() -> list[dict]:
    return service.policies()


@router.get("/policies/{policy_id}", summary="One policy: clauses verbatim, parameters with provenance, "
                                             "targets, interpretations, what is not modelled")
def show_policy(policy_id: str, as_of: Optional[str] = None) -> dict:
    return service.plain(service.policy_document(policy_id, parse_date(as_of, "as_of") if as_of else None))


@router.get("/policies/{policy_id}/check", summary="Static checks of a policy (scaleup policy check)")
def check_policy(policy_id: str) -> dict:
    findings = service.policy_findings(policy_id)
    return {"policy": policy_id, "errors": sum(1 for f in findings if f["severity"] == "error"),
            "findings": findings}


@router.get("/csrf", summary="This instance's CSRF token, for X-CSRF-Token on commit and pay")
def csrf(request: Request) -> dict:
    return {"csrf": request.app.state.csrf}


async def receive_upload(request: Request):
    """The register of a check request (multipart file or JSON records) in a new workspace, and the
    as-of date and policy that came with it."""
    limits, workspaces = settings(request), request.app.state.workspaces
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise RequestProblem(400, "file_needed")
        upload = await run_in_threadpool(workspaces.save, file.file, file.filename)
        fields: dict[str, Any] = dict(form)
    elif kind.startswith("application/json"):
        try:
            fields = json.loads(await request.body())
        except ValueError:
            raise RequestProblem(400, "bad_json") from None
        if not isinstance(fields, dict) or not isinstance(fields.get("records"), list):
            raise RequestProblem(400, "records_needed")
        upload = await run_in_threadpool(workspaces.save_records, fields["records"])
    else:
        raise RequestProblem(415, "wrong_content_type")
    request.state.upload = upload
    try:
        as_of = parse_date(fields.get("as_of"), "as_of")
        policy_id = service.known_policy(str(fields.get("policy") or limits.default_policy))
    except RequestProblem:
        workspaces.discard(upload.id)
        raise
    return upload, as_of, policy_id


@router.post("/check", summary="Evaluate a register: every enterprise's six decisions", openapi_extra=CHECK_BODY,
             responses={200: {"description": "JSON, or NDJSON with ?format=ndjson (one result per line; "
                                             "the upload id and counts in X-Scaleup-* headers)"}})
async def check(request: Request, format: Literal["json", "ndjson"] = "json"):
    upload, as_of, policy_id = await receive_upload(request)
    workspaces, limits, lang = request.app.state.workspaces, settings(request), language(request)
    try:
        ev = await run_in_threadpool(service.read_upload, upload, policy_id, as_of, limits.max_rows)
        if format == "json":
            await run_in_threadpool(service.evaluate_rest, ev, upload)
    except BaseException:
        workspaces.discard(upload.id)
        raise
    head = {"upload": upload.id, "policy": policy_id, "as_of": as_of.isoformat(),
            "total_rows": ev.read.total_rows, "accepted": len(ev.read.accepted), "rejected": len(ev.read.rejected)}
    if format == "ndjson":
        # Each line leaves as soon as its enterprise is evaluated: a large register answers at once.
        headers = {f"X-Scaleup-{k.replace('_', '-').title()}": str(v) for k, v in head.items()}
        return StreamingResponse(service.ndjson_lines(ev, lang, service.evaluated(ev, upload)),
                                 media_type="application/x-ndjson", headers=headers)
    return {**head, "warnings": [upload.shown(w) for w in ev.read.warnings],
            "rejected_rows": service.rejected_json(upload),
            "results": [result_json(r, ev.book, lang) for r in ev.results]}


@router.get("/uploads/{upload_id}/rejected", summary="The rejected rows of an upload, with every problem")
def rejected(request: Request, upload_id: str) -> list[dict]:
    return service.rejected_json(upload_of(request, upload_id))


@router.get("/uploads/{upload_id}/explain/{enterprise_id}", summary="Every decision about one enterprise, "
                                                                    "explained (scaleup explain --format json)")
def explain(request: Request, upload_id: str, enterprise_id: str) -> dict:
    ev = service.evaluation_of(upload_of(request, upload_id))
    return result_json(ev.results[ev.find(enterprise_id)], ev.book, language(request))


@router.get("/uploads/{upload_id}/review/{enterprise_id}", summary="The review sheet (审核表) of one award")
def review(request: Request, upload_id: str, enterprise_id: str, type: str = "enterprise_award",
           format: str = "md"):
    text = service.review_sheet(upload_of(request, upload_id), enterprise_id, type, language(request), format)
    return PlainTextResponse(text, media_type="text/html" if format == "html" else "text/markdown")


@router.get("/uploads/{upload_id}/audit/{enterprise_id}", summary="The audit record of one decision "
                                                                  "(check it with scaleup verify)")
def audit(request: Request, upload_id: str, enterprise_id: str, type: str = "enterprise_award") -> dict:
    return service.audit_record(upload_of(request, upload_id), enterprise_id, type)


@router.get("/uploads/{upload_id}/awards", summary="The year's award run, dry: nothing is written")
def awards_dry_run(request: Request, upload_id: str, year: int = Query(ge=1990, le=2200)) -> dict:
    from engine.awards.present import plan_json
    upload = upload_of(request, upload_id)
    plan = service.award_plan(upload, settings(request).ledger_path, year, commit=False)
    return service.plain(plan_json(plan, upload.evaluation.policy))


@router.post("/uploads/{upload_id}/awards/commit", summary="Record the year's award run in the ledger "
                                                           "(X-CSRF-Token and confirm: true)")
def awards_commit(request: Request, upload_id: str, year: int = Body(ge=1990, le=2200),
                  confirm: bool = Body(False)) -> dict:
    from engine.awards.present import plan_json
    check_change_allowed(request, request.app.state.csrf, None, confirm)
    upload = upload_of(request, upload_id)
    plan = service.award_plan(upload, settings(request).ledger_path, year, commit=True)
    return {"run_id": plan.run_id, **service.plain(plan_json(plan, upload.evaluation.policy))}


@router.get("/ledger", summary="The award ledger: runs, instalments by status, consistency (scaleup ledger show)")
def ledger(request: Request) -> dict:
    summary = service.ledger_summary(settings(request).ledger_path)
    if summary is None:
        raise RequestProblem(404, "no_ledger")
    return summary


@router.post("/ledger/pay", summary="Record payable instalments as paid, with the voucher number (文号) and "
                                    "date (X-CSRF-Token and confirm: true)")
def ledger_pay(request: Request, paid_on: str = Body(), reference: str = Body(), year: Optional[int] = Body(None),
               confirm: bool = Body(False)) -> dict:
    check_change_allowed(request, request.app.state.csrf, None, confirm)
    rows = service.record_payment(settings(request).ledger_path, parse_date(paid_on, "paid_on"), reference,
                                  year, commit=True)
    return {"paid": service.plain(rows)}


@router.get("/uploads/{upload_id}/targets", summary="The plan's targets beside actuals (scaleup targets)")
def targets(request: Request, upload_id: str, year: Optional[int] = Query(None, ge=1990, le=2100)) -> dict:
    ev = service.evaluation_of(upload_of(request, upload_id))
    table = service.targets(ev, year)
    return service.plain({**table, "chart": service.targets_chart(table)["series"]})


@router.post("/uploads/{upload_id}/diff", summary="What a parameter change does (scaleup diff --set)")
def diff(request: Request, upload_id: str, set: list[str] = Body(embed=True)) -> dict:
    from engine.analysis.whatif import diff_json
    ev = service.evaluation_of(upload_of(request, upload_id))
    return service.plain(diff_json(service.whatif(ev, set)))


