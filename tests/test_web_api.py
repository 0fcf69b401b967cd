"""The HTTP API (/api/v1/) through FastAPI's TestClient: every route's answer, and its refusals of bad
input (file type, missing column, bad date, unknown policy), of limits, and of state changes without
the CSRF token and a confirmation. Two commits racing for the same year award each enterprise once."""
from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from tests.web_support import AS_OF, EXAMPLES, check, client_for, upload_page

REGISTER = EXAMPLES / "register.csv"
AWARDED = "915001017P5X326G0R"      # awarded in examples/register.csv as of 2024-12-31


@pytest.fixture()
def client(tmp_path):
    with client_for(tmp_path / "data") as c:
        (tmp_path / "data").mkdir()
        yield c


@pytest.fixture()
def upload(client):
    """The example register, uploaded and evaluated (through the page's form: the API's check answers
    with every explanation, which the tests of check itself read)."""
    return upload_page(client, REGISTER)


def csrf(client) -> str:
    return client.get("/api/v1/csrf").json()["csrf"]


# ------------------------------------------------------------------------------------ policies
def test_policies_lists_the_bundled_policy_with_its_document_number(client):
    policies = {p["id"]: p for p in client.get("/api/v1/policies").json()}
    assert policies["wanzhou-2022-80"]["document_number"] == "万州府办发〔2022〕80号"


def test_policy_shows_clauses_parameters_with_provenance_and_what_is_not_modelled(client):
    doc = client.get("/api/v1/policies/wanzhou-2022-80", params={"as_of": AS_OF}).json()
    assert doc["as_of"] == AS_OF
    assert any("升规" in c["text"] for c in doc["clauses"])
    assert {p["provenance"] for p in doc["parameters"]} >= {"source", "assumed"}
    assert doc["not_modelled"] and all(r["reason"] for r in doc["not_modelled"])


def test_unknown_policy_and_bad_date_are_refused_with_a_message(client):
    unknown = client.get("/api/v1/policies/no-such-policy")
    assert unknown.status_code == 404 and "no-such-policy" in unknown.json()["message"]
    bad = client.get("/api/v1/policies/wanzhou-2022-80", params={"as_of": "2024-02-30"})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_date" and "2024-02-30" in bad.json()["message"]


def test_policy_check_reports_no_errors_for_the_bundled_policy(client):
    body = client.get("/api/v1/policies/wanzhou-2022-80/check").json()
    assert body["errors"] == 0 and body["findings"]


# ------------------------------------------------------------------------------------ check
def test_check_evaluates_every_enterprise_of_a_csv_register(client):
    body = check(client, REGISTER).json()
    assert (body["total_rows"], body["accepted"], body["rejected"]) == (50, 50, 0)
    assert len(body["results"]) == 50
    first = body["results"][0]
    assert [d["type"] for d in first["decisions"]][:2] == ["upgrade_eligibility", "pool_entry"]
    assert first["decisions"][0]["explanation"]


def test_check_reads_xlsx_and_json_records_with_the_same_results(client):
    from_csv = check(client, REGISTER).json()["results"]
    from_xlsx = check(client, EXAMPLES / "register.xlsx").json()["results"]
    records = json.loads((EXAMPLES / "register.json").read_text(encoding="utf-8"))
    from_json = client.post("/api/v1/check", json={"as_of": AS_OF, "records": records}).json()["results"]
    outcomes = [[[d["outcome"], d["amount_yuan"]] for d in r["decisions"]] for r in from_csv]
    assert outcomes == [[[d["outcome"], d["amount_yuan"]] for d in r["decisions"]] for r in from_xlsx]
    assert outcomes == [[[d["outcome"], d["amount_yuan"]] for d in r["decisions"]] for r in from_json]


def test_check_streams_ndjson_one_enterprise_per_line(client):
    response = check(client, REGISTER, fmt="ndjson")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.text.splitlines()
    assert len(lines) == 50 == int(response.headers["x-scaleup-accepted"])
    assert json.loads(lines[0])["enterprise_id"] == "9150010171EW5LMGRM"


def test_wrong_file_type_is_refused(client):
    response = check(client, REGISTER, name="register.txt")
    assert response.status_code == 415 and "register.txt" in response.json()["message"]
    fake = check(client, REGISTER, name="register.xlsx")            # CSV bytes under an .xlsx name
    assert fake.status_code == 415 and fake.json()["error"] == "not_xlsx"


def test_missing_column_names_the_column_and_the_users_file_not_the_workspace(client, tmp_path):
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    drop = header.index("统一社会信用代码")
    cut = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines)
    response = check(client, REGISTER, name="my register.csv", content=cut.encode("utf-8"))
    assert response.status_code == 400
    message = response.json()["message"]
    assert "统一社会信用代码" in message and "my register.csv" in message
    assert "scaleup-web-" not in message


def test_bad_as_of_and_unknown_policy_are_refused_and_leave_no_workspace(client):
    bad_date = check(client, REGISTER, as_of="31/12/2024")
    assert bad_date.status_code == 400 and bad_date.json()["error"] == "bad_date"
    unknown = check(client, REGISTER, policy="../../etc")
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_policy"
    assert not any(client.app.state.workspaces.root.iterdir())


def test_rejected_rows_come_back_with_their_row_and_problem(client):
    body = check(client, EXAMPLES / "register_with_errors.csv").json()
    assert body["rejected"] == len(body["rejected_rows"]) > 0
    first = body["rejected_rows"][0]
    assert first["row"] > 1 and first["problems"][0].startswith("register_with_errors.csv row ")
    again = client.get(f"/api/v1/uploads/{body['upload']}/rejected").json()
    assert again == body["rejected_rows"]


def test_upload_size_and_row_limits_are_refused_with_the_limit(tmp_path):
    with client_for(tmp_path, max_upload_bytes=1024) as small:
        big = check(small, REGISTER)
        assert big.status_code == 413 and "MB" in big.json()["message"]
    with client_for(tmp_path, max_rows=10) as few:
        many = check(few, REGISTER)
        assert many.status_code == 413 and "50" in many.json()["message"] and "10" in many.json()["message"]
        assert not any(few.app.state.workspaces.root.iterdir())


def test_a_hostile_file_name_never_reaches_a_path(client):
    body = check(client, REGISTER, name="../../../../tmp/evil.csv").json()
    workspace = client.app.state.workspaces.get(body["upload"])
    assert workspace.path.name == "register.csv" and workspace.path.parent.parent == client.app.state.workspaces.root
    assert workspace.display_name == "evil.csv"


# ------------------------------------------------------------------------------------ one enterprise
def test_explain_returns_every_decision_with_its_explanation(client, upload):
    body = client.get(f"/api/v1/uploads/{upload}/explain/{AWARDED.lower()}").json()
    award = next(d for d in body["decisions"] if d["type"] == "enterprise_award")
    assert award["outcome"] == "awarded" and award["amount_yuan"] and "三(一)" in award["explanation"]
    missing = client.get(f"/api/v1/uploads/{upload}/explain/NOSUCHFIRM")
    assert missing.status_code == 404 and "NOSUCHFIRM" in missing.json()["message"]
    gone = client.get(f"/api/v1/uploads/{'x' * 24}/explain/{AWARDED}")
    assert gone.status_code == 404 and gone.json()["error"] == "upload_gone"


def test_review_sheet_marks_assumed_figures(client, upload):
    sheet = client.get(f"/api/v1/uploads/{upload}/review/{AWARDED}", params={"type": "enterprise_award"})
    assert sheet.status_code == 200 and "假定值" in sheet.text and AWARDED in sheet.text
    english = client.get(f"/api/v1/uploads/{upload}/review/{AWARDED}", params={"format": "html", "lang": "en"})
    assert "ASSUMED" in english.text and english.text.lstrip().startswith("<!DOCTYPE html>")
    wrong = client.get(f"/api/v1/uploads/{upload}/review/{AWARDED}", params={"type": "pool_entry"})
    assert wrong.status_code == 400 and "pool_entry" in wrong.json()["message"]


def test_audit_record_verifies_against_the_installed_policy(client, upload):
    from engine.awards.audit import Verifier
    record = client.get(f"/api/v1/uploads/{upload}/audit/{AWARDED}").json()
    assert record["input"]["source"]["file"] == "register.csv"
    assert Verifier().verify(record).status == "ok"


# ------------------------------------------------------------------------------------ awards and the ledger
def test_awards_dry_run_writes_nothing(client, upload, tmp_path):
    plan = client.get(f"/api/v1/uploads/{upload}/awards", params={"year": 2024}).json()
    assert plan["new_awards"] and all(a["amount_yuan"] for a in plan["new_awards"])
    assert not (tmp_path / "data" / "scaleup.db").exists()
    mismatch = client.get(f"/api/v1/uploads/{upload}/awards", params={"year": 2023})
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "year_mismatch"
    assert client.get("/api/v1/ledger").status_code == 404


def test_commit_needs_the_csrf_token_and_a_confirmation(client, upload, tmp_path):
    url = f"/api/v1/uploads/{upload}/awards/commit"
    no_token = client.post(url, json={"year": 2024, "confirm": True})
    assert no_token.status_code == 403 and no_token.json()["error"] == "csrf_refused"
    wrong = client.post(url, json={"year": 2024, "confirm": True}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    unconfirmed = client.post(url, json={"year": 2024}, headers={"X-CSRF-Token": csrf(client)})
    assert unconfirmed.status_code == 400 and unconfirmed.json()["error"] == "confirm_needed"
    assert not (tmp_path / "data" / "scaleup.db").exists()
    done = client.post(url, json={"year": 2024, "confirm": True}, headers={"X-CSRF-Token": csrf(client)})
    assert done.status_code == 200 and done.json()["run_id"] == 1
    again = client.post(url, json={"year": 2024, "confirm": True}, headers={"X-CSRF-Token": csrf(client)})
    assert again.json()["run_id"] is None and not again.json()["new_awards"]
    ledger = client.get("/api/v1/ledger").json()
    assert len(ledger["runs"]) == 1 and ledger["problems"] == []


def test_two_concurrent_commits_award_each_enterprise_once(client, upload, tmp_path, monkeypatch):
    # The first commit holds the write lock a second (a pause before COMMIT, planted in SQLite from
    # outside the money path, as tests/faults/sqlite_hook.py does): the two requests overlap.
    real_connect = sqlite3.connect

    def connect_with_slow_commit(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: time.sleep(1) if sql.strip().upper().startswith("COMMIT") else None)
        return conn
    monkeypatch.setattr(sqlite3, "connect", connect_with_slow_commit)
    token, answers = csrf(client), []

    def commit():
        answers.append(client.post(f"/api/v1/uploads/{upload}/awards/commit", json={"year": 2024, "confirm": True},
                                   headers={"X-CSRF-Token": token}).json())

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("run_id" in a for a in answers), answers
    assert sorted(a["run_id"] is None for a in answers) == [False, True]
    with sqlite3.connect(tmp_path / "data" / "scaleup.db") as db:
        counts = db.execute("SELECT enterprise_id, kind, count(*) FROM awards GROUP BY enterprise_id, kind").fetchall()
    assert counts and all(n == 1 for _, _, n in counts)


def test_pay_records_the_voucher_and_date_once(client, upload):
    token = csrf(client)
    client.post(f"/api/v1/uploads/{upload}/awards/commit", json={"year": 2024, "confirm": True},
                headers={"X-CSRF-Token": token})
    pay = {"paid_on": "2025-03-20", "reference": "财拨〔2025〕12号", "year": 2024}
    refused = client.post("/api/v1/ledger/pay", json=pay, headers={"X-CSRF-Token": token})
    assert refused.status_code == 400 and refused.json()["error"] == "confirm_needed"
    paid = client.post("/api/v1/ledger/pay", json={**pay, "confirm": True}, headers={"X-CSRF-Token": token}).json()
    assert paid["paid"] and {r["status"] for r in paid["paid"]} == {"payable"}    # the rows as they were paid
    twice = client.post("/api/v1/ledger/pay", json={**pay, "confirm": True}, headers={"X-CSRF-Token": token}).json()
    assert twice["paid"] == []
    status = client.get("/api/v1/ledger").json()
    assert status["instalments"]["paid"]["count"] == len(paid["paid"]) and status["problems"] == []
    bad = client.post("/api/v1/ledger/pay", json={**pay, "paid_on": "20.3.2025", "confirm": True},
                      headers={"X-CSRF-Token": token})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_date"


# ------------------------------------------------------------------------------------ plan and what-if
def test_targets_beside_actuals_with_the_chart_series(client, upload):
    body = client.get(f"/api/v1/uploads/{upload}/targets").json()
    assert body["chart"]["years"] and len(body["chart"]["plan"]) == len(body["chart"]["years"])
    assert any(r["in_annex"] for r in body["rows"])


def test_diff_shows_changed_decisions_and_budget_by_town(client, upload):
    body = client.post(f"/api/v1/uploads/{upload}/diff", json={"set": ["enterprise_award_industrial=150000"]}).json()
    assert body["changes"] and all(c["type"] in ("enterprise_award", "town_award") for c in body["changes"])
    assert any(b["delta"] != "0.00" for b in body["budget_by_town"])
    unknown = client.post(f"/api/v1/uploads/{upload}/diff", json={"set": ["no_such_parameter=1"]})
    assert unknown.status_code == 400 and "no_such_parameter" in unknown.json()["message"]
    bad = client.post(f"/api/v1/uploads/{upload}/diff", json={"set": ["enterprise_award_industrial=lots"]})
    assert bad.status_code == 400 and "lots" in bad.json()["message"]


# ------------------------------------------------------------------------------------ docs and access
def test_openapi_document_and_offline_docs_page_cover_every_route(client):
    spec = client.get("/api/v1/openapi.json").json()
    routes = [r.path for r in client.app.routes if getattr(r, "path", "").startswith("/api/v1/")
              and r.path != "/api/v1/openapi.json"]
    assert set(routes) <= set(spec["paths"])
    page = client.get("/api/docs").text
    assert all(path in page for path in spec["paths"])
    assert "http://" not in page and "https://" not in page          # nothing fetched from elsewhere


def test_off_loopback_every_request_needs_the_bearer_token(tmp_path):
    from web.server import BindingRefused, check_binding
    from web.settings import Settings
    with pytest.raises(BindingRefused, match="--token"):
        check_binding(Settings(host="0.0.0.0"))
    check_binding(Settings(host="127.0.0.1"))
    token = "s3cret-token-of-24-chars"
    with client_for(tmp_path, host="0.0.0.0", token=token) as c:
        assert c.get("/api/v1/policies").status_code == 401
        assert c.get("/api/v1/policies", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/v1/policies", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        login = c.get(f"/policy?token={token}")
        assert login.status_code == 303 and "token" not in login.headers["location"]
        assert c.get("/policy").status_code == 200          # the cookie set by ?token= now answers


def test_on_loopback_only_loopback_host_names_are_answered(client):
    # DNS rebinding: a site whose name resolves to 127.0.0.1 must not read the app (nor its CSRF token).
    assert client.get("/api/v1/csrf", headers={"Host": "attacker.example:8000"}).status_code == 400
    assert client.get("/api/v1/csrf", headers={"Host": "localhost:8000"}).status_code == 200


def test_scaleup_serve_refuses_another_address_without_a_token(monkeypatch, tmp_path):
    import uvicorn
    from click.testing import CliRunner
    from cli import main
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))    # never listens in a test
    refused = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--data", str(tmp_path)])
    assert refused.exit_code == 2 and "--token" in refused.output and started == []
    ok = CliRunner().invoke(main, ["serve", "--port", "8123", "--data", str(tmp_path / "d")], env={"SCALEUP_TOKEN": ""})
    assert ok.exit_code == 0 and started == [{"host": "127.0.0.1", "port": 8123, "log_level": "info",
                                              "access_log": False}]
    assert (tmp_path / "d").is_dir()
