"""The HTML report's targets, priority and what-if sections."""
from __future__ import annotations

from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = str(ROOT / "examples" / "register.csv")


def test_report_has_targets_and_priority_sections(tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", REGISTER, "--as-of", "2024-12-31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'id="chart-targets"' in html and "规上企业培育目标与实际" in html
    assert "用地、用电优先保障排序" in html and "重庆万州昱辰新材料有限公司" in html
    assert 'id="whatif"' not in html          # no reform given: no what-if section
    assert "<script" not in html


def test_report_with_a_reform_and_a_sweep(tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", REGISTER, "--as-of", "2024-12-31", "--out", str(out), "--lang", "en",
                                       "--overrides", str(ROOT / "examples/reforms/lower-pool-bound.yaml"),
                                       "--sweep", "scale_threshold:15000000:25000000:3"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'id="whatif"' in html and "培育库下限降至800万元" in html and "pool_revenue_lower_bound" in html
    assert 'id="chart-sweep"' in html and html.count("<rect class=\"bar\"") > 9


def test_a_bad_sweep_spec_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["report", REGISTER, "--as-of", "2024-12-31", "--out", str(tmp_path / "r.html"),
                                       "--sweep", "scale_threshold:1"])
    assert result.exit_code == 1 and "expected PARAM:FROM:TO:STEPS" in result.output
