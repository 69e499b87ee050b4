"""The geometry of the Team page's server-drawn SVG charts: bars and a line as coordinates, axis
ticks and labels, which templates/team/_charts.html draws. No styles here: each series has a
number, which the stylesheet colours and the chart marks with a pattern too (never colour alone)."""

import math
from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 150  # the left column of a bar chart, where each row's name is
VALUE_WIDTH = 56  # right of the bars: each row's total
ROW_HEIGHT = 28
BAR_HEIGHT = 18
AXIS_HEIGHT = 28
LINE_HEIGHT = 220
LINE_LEFT, LINE_BOTTOM, LINE_TOP, LINE_RIGHT = 48, 36, 14, 32
# Patterns laid over the series' colours, so that neighbouring segments differ in more than colour.
PATTERNS = ("solid", "stripes", "dots", "grid")


def nice_ticks(highest, count=5):
    """Round axis ticks from 0 to at least `highest`: steps of 1, 2 or 5 times a power of ten."""
    if highest <= 0:
        return [0, 1]
    raw = highest / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw)
    if step < 1 and float(highest).is_integer():
        step = 1
    ticks = [0]
    while ticks[-1] < highest:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str
    value: float
    label: str = ""

    @property
    def pattern(self):
        return PATTERNS[self.series % len(PATTERNS)]


@dataclass
class BarRow:
    label: str
    y: float
    total_label: str
    bars: list = field(default_factory=list)


@dataclass
class BarChart:
    """Horizontal bars, one row per label: segments stacked end to end, or side by side (grouped)."""

    rows: list
    ticks: list  # (x, label)
    height: float
    plot_left: float = LABEL_WIDTH
    plot_right: float = WIDTH - VALUE_WIDTH
    width: float = WIDTH


def bar_chart(rows, stacked=True, unit=lambda value: f"{value:g}"):
    """rows: [(label, [(series number, value, title)])]; each row stacks its values (stacked) or
    draws each as a bar of its own under the others (grouped). `unit` words a value."""
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    if stacked:
        highest = max((sum(v for _, v, _ in values) for _, values in rows), default=0)
    else:
        highest = max((v for _, values in rows for _, v, _ in values), default=0)
    ticks = nice_ticks(highest)
    scale = plot / ticks[-1]
    chart_rows, y = [], 4
    for label, values in rows:
        bar_height = BAR_HEIGHT if stacked else BAR_HEIGHT * 0.75
        row = BarRow(label, y, unit(sum(v for _, v, _ in values)) if stacked else "")
        x = LABEL_WIDTH
        for index, (series, value, title) in enumerate(values):
            width = value * scale
            top = y if stacked else y + index * bar_height
            row.bars.append(Bar(x, top, width, bar_height, series, title, value, unit(value)))
            if stacked:
                x += width
        chart_rows.append(row)
        y += ROW_HEIGHT if stacked else bar_height * len(values) + ROW_HEIGHT - BAR_HEIGHT
    tick_marks = [(LABEL_WIDTH + t * scale, unit(t)) for t in ticks]
    return BarChart(chart_rows, tick_marks, y + AXIS_HEIGHT)


@dataclass
class LineChart:
    points: list  # (x, y, title)
    path: str
    y_ticks: list  # (y, label)
    x_labels: list  # (x, label)
    baseline: float
    plot_left: float = LINE_LEFT
    plot_right: float = WIDTH - LINE_RIGHT
    width: float = WIDTH
    height: float = LINE_HEIGHT


def line_chart(values, x_label, title, every=5):
    """A line through `values` (numbers, left to right); x_label(i) names point i on the axis, every
    `every` points and the last; title(i, value) is the point's own text."""
    ticks = nice_ticks(max(values, default=0))
    bottom = LINE_HEIGHT - LINE_BOTTOM
    span_y = bottom - LINE_TOP
    span_x = WIDTH - LINE_RIGHT - LINE_LEFT
    step = span_x / max(len(values) - 1, 1)

    def y_of(value):
        return bottom - value / ticks[-1] * span_y

    points = [(LINE_LEFT + i * step, y_of(v), title(i, v)) for i, v in enumerate(values)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _) in enumerate(points))
    last = len(values) - 1
    shown = [i for i in range(len(values)) if (last - i) % every == 0]
    return LineChart(
        points,
        path,
        [(y_of(t), f"{t:g}") for t in ticks],
        [(LINE_LEFT + i * step, x_label(i)) for i in shown],
        bottom,
    )


def duration_text(seconds):
    """A time to complete as people say it: "40 min", "3.5 h", "2.1 days"."""
    if seconds < 3600:
        return f"{max(seconds / 60, 0):.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
