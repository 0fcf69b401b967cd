"""Report sections for plan targets, land/power priority and what-if, plugged into the HTML report
through its extension point (engine/report.register_section). Importing this module registers them.
They only lay out what engine/analysis/targets.py, engine/analysis/priority.py and engine/analysis/whatif.py computed."""
from __future__ import annotations

from datetime import date
from typing import Optional

from markupsafe import Markup

from engine.analysis.priority import priority_provided, rank_eligible
from engine.render import environment, money
from engine.report.report import ReportData, Section, grouped_bar_chart, register_section
from engine.analysis.targets import chart_series, targets_from_results

PRIORITY_ROWS = 30


def _render(macro: str, lang: str, **values) -> Markup:
    template = environment().get_template("report_sections.html.j2")
    module = template.make_module({"lang": lang})
    return Markup(getattr(module, macro)(**values))


@register_section
def targets_section(data: ReportData, lang: str) -> Optional[Section]:
    if data.policy.targets.annex is None:
        return None
    table = targets_from_results(data.results, data.policy, data.book, date.fromisoformat(data.as_of))
    series = chart_series(table, "new_total")
    chart = grouped_bar_chart(series["years"], [("plan", [v or 0 for v in series["plan"]]),
                                                 ("actual", [v or 0 for v in series["actual"]])])
    rows = [r for r in table["rows"] if r["in_annex"]]
    html = _render("targets", lang, chart=chart, rows=rows, series=series, table=table)
    return Section("targets", "规上企业培育目标与实际" if lang == "zh" else "Plan targets and actuals", html)


@register_section
def priority_section(data: ReportData, lang: str) -> Optional[Section]:
    if not priority_provided(data.policy, data.book):
        return None             # the policy does not provide priority land and power: no section
    ranked = rank_eligible(data.results, data.policy, data.book, date.fromisoformat(data.as_of))
    html = _render("priority", lang, ranked=ranked[:PRIORITY_ROWS], total=len(ranked))
    return Section("priority", "用地、用电优先保障排序" if lang == "zh" else "Land and power priority ranking", html)


@register_section
def whatif_section(data: ReportData, lang: str) -> Optional[Section]:
    d = data.view.get("whatif_diff")
    points = data.view.get("sweep_points")
    if d is None and points is None:
        return None
    sweep_chart = None
    if points:
        sweep_chart = grouped_bar_chart([p.value for p in points],
                                        [("eligible", [p.eligible for p in points]),
                                         ("pool", [p.pool for p in points]),
                                         ("awards", [p.enterprise_awards for p in points])])
    html = _render("whatif", lang, d=d, points=points, sweep_chart=sweep_chart,
                   sweep_param=data.view.get("sweep_param"), money=lambda v: money(v, lang))
    return Section("whatif", "政策调整测算" if lang == "zh" else "What-if", html)
