"""The Team page: how the account's coordinators are doing, as charts, tables and CSV downloads,
for everyone signed in to the account; /api/team gives the same figures as JSON."""

import csv
import io

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from .. import charts
from ..insight import MEDIAN, P90, WINDOW_DAYS, team_figures
from ..models import utcnow
from ..timezones import zone_of
from .forms import signed_in_only

bp = Blueprint("team", __name__, url_prefix="/team")
signed_in_only(bp)

# The figures each have a CSV download, /team/<name>.csv.
FIGURES = ("open-by-coordinator", "time-to-complete", "open-over-time", "overdue")
NOBODY = "Unassigned"
# The overdue chart's series: red and striped, grey and plain (see the stylesheet's series-N).
OVERDUE, ON_TIME = 5, 8
# A spreadsheet runs a cell that starts with one of these as a formula: such text gets a quote first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def figures_of(account, person):
    """The account's figures as of now, with days in the person's time zone."""
    return team_figures(account, utcnow(), zone_of(person))


@bp.get("")
def index():
    """The team's figures: open tasks by coordinator and category, time to complete, open over time, overdue."""
    figures = figures_of(current_user.account_id, current_user)
    return render_template("team/index.html", figures=figures, charts=chart_data(figures), window_days=WINDOW_DAYS)


@bp.get("/<figure>.csv")
def download(figure):
    """One figure of the Team page as CSV."""
    if figure not in FIGURES:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv_rows(figures_of(current_user.account_id, current_user), figure):
        writer.writerow([_cell(value) for value in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="team-{figure}.csv"'
    return response


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _name(coordinator):
    return coordinator.display_name if coordinator else NOBODY


def csv_rows(figures, figure):
    """The header and rows of one figure's CSV."""
    if figure == "open-by-coordinator":
        yield ("coordinator", "email", "category", "open", "overdue")
        for who, by_category, _, _ in figures.coordinators:
            for category, count in sorted(by_category.items()):
                yield (_name(who), who.email if who else "", category, count.open, count.overdue)
    elif figure == "overdue":
        yield ("coordinator", "email", "open", "overdue")
        for who, _, open_count, overdue in figures.coordinators:
            yield (_name(who), who.email if who else "", open_count, overdue)
        yield ("Everyone", "", figures.open_total, figures.overdue_total)
    elif figure == "time-to-complete":
        yield ("category", "completed", "median_seconds", "p90_seconds")
        for times in figures.completion_times:
            yield (times.category, times.completed, round(times.median), round(times.p90))
    else:
        yield ("date", "open")
        for day in figures.open_by_day:
            yield (day.day.isoformat(), day.open)


def team_json(figures):
    """The figures as /api/team gives them (times in seconds, days in the token's person's zone)."""

    def person(user):
        return {"email": user.email, "name": user.name} if user else None

    return {
        "as_of": figures.now.isoformat().replace("+00:00", "Z"),
        "time_zone": str(figures.zone),
        "open_by_coordinator": [
            {"coordinator": person(c.coordinator), "category": c.category, "open": c.open, "overdue": c.overdue}
            for c in figures.open_counts
        ],
        "overdue": {
            "total": figures.overdue_total,
            "open": figures.open_total,
            "by_coordinator": [
                {"coordinator": person(who), "open": open_count, "overdue": overdue}
                for who, _, open_count, overdue in figures.coordinators
            ],
        },
        "time_to_complete": {
            "days": WINDOW_DAYS,
            "categories": [
                {
                    "category": t.category,
                    "completed": t.completed,
                    "median_seconds": round(t.median),
                    "p90_seconds": round(t.p90),
                }
                for t in figures.completion_times
            ],
        },
        "open_over_time": [{"date": d.day.isoformat(), "open": d.open} for d in figures.open_by_day],
    }


def chart_data(figures):
    """The geometry of the page's four charts."""
    categories = figures.categories
    series = {category: n for n, category in enumerate(categories)}
    by_coordinator = [
        (
            _name(who),
            [
                (series[c], by_category[c].open, f"{_name(who)}, {c}: {by_category[c].open} open")
                for c in categories
                if c in by_category
            ],
        )
        for who, by_category, _, _ in figures.coordinators
    ]
    overdue = [
        (
            _name(who),
            [
                (OVERDUE, late, f"{_name(who)}: {late} overdue"),
                (ON_TIME, open_count - late, f"{_name(who)}: {open_count - late} not overdue"),
            ],
        )
        for who, _, open_count, late in figures.coordinators
    ]

    def hours(value):
        return f"{round(value, 1):g} h"

    completion = [
        (
            t.category,
            [
                (0, t.median / 3600, f"{t.category}: median {charts.duration_text(t.median)}"),
                (1, t.p90 / 3600, f"{t.category}: p90 {charts.duration_text(t.p90)}"),
            ],
        )
        for t in figures.completion_times
    ]
    days = figures.open_by_day
    return {
        "series": list(enumerate(categories)),
        "overdue_key": [(OVERDUE, "Overdue"), (ON_TIME, "Not overdue")],
        "completion_key": [(0, "Median"), (1, "90th percentile")],
        "by_coordinator": charts.bar_chart(by_coordinator),
        "overdue": charts.bar_chart(overdue),
        "completion": charts.bar_chart(completion, stacked=False, unit=hours),
        "percentiles": (MEDIAN, P90),
        "over_time": charts.line_chart(
            [d.open for d in days],
            lambda i: days[i].day.strftime("%d %b"),
            lambda i, value: f"{days[i].day.strftime('%a %d %b')}: {value} open",
        ),
    }


@bp.app_template_filter("duration")
def _duration(seconds):
    return charts.duration_text(seconds)
