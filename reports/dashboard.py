"""What the dashboard pages show, read off a csat_report result: cards, funnel, sparklines.

No figure is computed here (they all come from reports.service / reports.metrics); this module
only picks, formats and words them, so the page and the API always agree.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _

from surveys import scales
from surveys.models import Question

from . import metrics
from .responses import question_bands

LOW_COVERAGE = 50.0  # seed 004: 250 answers from 1,000 customers is not a true picture


def rounded(value: float, digits: int) -> Decimal:
    """Half up, as the floatformat filter of the tables rounds (number_format alone would cut
    64.37 to 64.3 where the table says 64.4)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{number_format(rounded(value, digits), digits)}{suffix}"


@dataclass(frozen=True)
class Change:
    text: str
    direction: str  # up, down, flat
    significant: bool
    note: str


def change_of(report: dict) -> Change | None:
    previous = report.get("previous") or {}
    change = previous.get("change")
    if change is None:
        return None
    direction = "flat" if abs(change) < 0.05 else ("up" if change > 0 else "down")
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    significant = bool(previous.get("significant"))
    note = (
        _("significant change vs the previous period")
        if significant
        else _("not significant: could be noise")
    )
    # Translators: a change of CSAT in percentage points, e.g. "+2.3 pts".
    text = _("%(change)s pts") % {"change": f"{sign}{fmt(abs(change), 1)}"}
    return Change(text, direction, significant, note)


def scale_wording(question: dict) -> str:
    """How to read a mean on the question's scale, e.g. "on 1-5, higher is better"."""
    scale = question.get("scale", "")
    if question.get("reversed"):
        low = scales.get_scale(scale).low if scale in scales.SCALES else 1
        return _("on %(scale)s, %(best)s is best") % {"scale": scale, "best": low}
    return _("on %(scale)s, higher is better") % {"scale": scale}


def cards(report: dict) -> dict:
    """The figures of the card row, formatted, with their explanations."""
    sent, answered = report.get("sent", 0), report.get("answered", 0)
    respondents, customers = report.get("respondents", 0), report.get("customers", 0)
    coverage = report.get("coverage")
    # More respondents than customers with a touchpoint: answers (an imported history, say)
    # whose touchpoints were never recorded. A share above 100 % would mean nothing.
    incomplete = bool(customers) and respondents > customers
    out = {
        "csat": fmt(report["csat"], 1, " %"),
        "interval": (
            _("95 %% interval %(low)s–%(high)s %%")
            % {"low": fmt(report["ci_low"]), "high": fmt(report["ci_high"])}
            if report["ci_low"] is not None
            else _("no answers in this period")
        ),
        "change": change_of(report),
        "previous_csat": fmt((report.get("previous") or {}).get("csat"), 1, " %"),
        "n": number_format(report["n"], force_grouping=True),
        "satisfied": number_format(report["satisfied"], force_grouping=True),
        "small_sample": report.get("small_sample", False),
        "response_rate": fmt(report.get("response_rate"), 1, " %"),
        "response_rate_detail": _("%(answered)s of %(sent)s invitations answered")
        % {
            "answered": number_format(answered, force_grouping=True),
            "sent": number_format(sent, force_grouping=True),
        },
        "coverage": fmt(coverage if not incomplete else None, 1, " %"),
        "coverage_detail": (
            _(
                "%(respondents)s respondents but only %(customers)s customers with a "
                "touchpoint: touchpoints are missing for part of this period"
            )
            if incomplete
            else _("%(respondents)s of %(customers)s customers with a touchpoint")
            if customers
            else _("no touchpoint events recorded in this period")
        )
        % {
            "respondents": number_format(respondents, force_grouping=True),
            "customers": number_format(customers, force_grouping=True),
        },
        "coverage_low": coverage is not None and not incomplete and coverage < LOW_COVERAGE,
        "mean": fmt(report.get("mean"), 2),
        "mean_scale": scale_wording(report.get("question") or {}),
        "target": fmt(report.get("target"), 0, " %") if report.get("target") is not None else "",
        "above_target": report.get("above_target"),
        "nps": None,
        "ces": None,
    }
    nps = report.get("nps")
    if nps:
        out["nps"] = {
            "score": _nps_text(nps["score"]),
            "detail": _("%(p)s promoters, %(d)s detractors of %(n)s")
            % {"p": nps["promoters"], "d": nps["detractors"], "n": nps["n"]},
        }
    ces = report.get("ces")
    if ces:
        out["ces"] = {
            "mean": fmt(ces["mean"], 2),
            "detail": _("on %(scale)s · %(easy)s found it easy")
            % {"scale": ces["scale"], "easy": fmt(ces["easy_percent"], 0, " %")},
        }
    return out


def one_decimal():
    """A fast "64.4" formatter in the current language's decimal separator: the series and
    breakdown tables format hundreds of figures per page (the floatformat filter is slow)."""
    separator = get_format("DECIMAL_SEPARATOR")

    def format_one(value: float | None) -> str:
        return "–" if value is None else str(rounded(value, 1)).replace(".", separator)

    return format_one


def table_rows(rows: list[dict]) -> list[dict]:
    """Series or breakdown rows with their CSAT and interval as display text."""
    one = one_decimal()
    return [
        {
            **row,
            "csat_text": "–" if row["csat"] is None else f"{one(row['csat'])} %",
            "interval_text": ""
            if row["ci_low"] is None
            else f"{one(row['ci_low'])}–{one(row['ci_high'])}",
        }
        for row in rows
    ]


def distribution_rows(report: dict, question: Question | None) -> list[dict]:
    """The distribution table: label, count, share of answers (for the bar) and the score's
    band (unhappy / neutral / happy, as on the comments page)."""
    total = sum(d["count"] for d in report["distribution"]) or 0
    satisfied = set(question.satisfied) if question else set()
    bands = question_bands(question)
    return [
        {
            **d,
            "share": round(100 * d["count"] / total, 1) if total else 0,
            "satisfied": d["score"] in satisfied,
            "band": bands.get(d["score"], ""),
        }
        for d in report["distribution"]
    ]


def funnel(report: dict) -> dict | None:
    """Sent → delivered → clicked → answered → commented for invitations sent in the range (the
    same invitations as the response rate, from the report); None when there are none."""
    counts = report["funnel"]
    if not counts["sent"]:
        return None
    steps = []
    for key, label in (
        ("sent", _("Sent")),
        ("delivered", _("Delivered")),
        ("clicked", _("Clicked")),
        ("answered", _("Answered")),
        ("commented", _("Commented")),
    ):
        share = 100 * counts[key] / counts["sent"]
        steps.append(
            {
                "key": key,
                "label": label,
                "n": number_format(counts[key], force_grouping=True),
                "count": counts[key],
                "share": fmt(share, 0, " %"),
            }
        )
    return {"steps": steps, **counts}


SPARK_W, SPARK_H, SPARK_PAD = 140, 44, 4


def sparkline(series: list[dict], target: float | None) -> dict:
    """SVG polyline points for a CSAT series (periods without answers are skipped)."""
    values = [(i, s["csat"]) for i, s in enumerate(series) if s.get("csat") is not None]
    if not values:
        return {"points": "", "target_y": None}
    lo = min([v for _i, v in values] + ([target] if target is not None else []))
    hi = max([v for _i, v in values] + ([target] if target is not None else []))
    if hi - lo < 10:
        mid = (hi + lo) / 2
        lo, hi = mid - 5, mid + 5
    span_x = max(len(series) - 1, 1)

    def y(v: float) -> float:
        return round(SPARK_H - SPARK_PAD - (v - lo) / (hi - lo) * (SPARK_H - 2 * SPARK_PAD), 1)

    points = " ".join(f"{round(i / span_x * SPARK_W, 1)},{y(v)}" for i, v in values)
    return {"points": points, "target_y": y(target) if target is not None else None}


def question_rows(table: list[dict], questions, language: str) -> list[dict]:
    """The "every question" table (reports.service.question_table) as display text: the
    question's text, its headline (CSAT %, NPS or CES easy %), mean, n, interval and change."""
    texts = {q.key: q.text_in(language) for q in questions}
    rows = []
    for row in table:
        if row["nps"]:
            measure, headline = _("NPS"), _nps_text(row["nps"]["score"])
        elif row["ces"]:
            measure, headline = _("CES"), fmt(row["ces"]["mean"], 2)
        else:
            measure, headline = _("CSAT"), fmt(row["csat"], 1, " %")
        rows.append(
            {
                "key": row["key"],
                "text": texts.get(row["key"], row["key"]),
                "measure": measure,
                "headline": headline,
                "mean": fmt(row["mean"], 2),
                "scale": scale_wording(row),
                "n": number_format(row["n"], force_grouping=True),
                "interval": ""
                if row["ci_low"] is None
                else f"{fmt(row['ci_low'])}–{fmt(row['ci_high'])} %",
                "change": change_of(row),
                "small_sample": bool(row["n"]) and metrics.is_small_sample(row["n"]),
            }
        )
    return rows


def _nps_text(score: float | None) -> str:
    return "–" if score is None else f"{score:+.0f}"
