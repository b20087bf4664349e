"""`welcomebot stats`: the statistics of a period as terminal text, a static HTML page with charts
(matplotlib, embedded as SVG so that the page is one self-contained file) and a CSV."""
from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .store import FallbackText, FeedbackCount, QuestionCount, StatsStore


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


@dataclass
class StatsReport:
    period: Period
    questions: list[QuestionCount]
    feedback: list[FeedbackCount]
    fallbacks: list[FallbackText]

    @classmethod
    def load(cls, store: StatsStore, period: Period) -> "StatsReport":
        return cls(period, store.question_counts(period.start, period.end),
                   store.feedback_counts(period.start, period.end), store.fallback_texts(period.start, period.end))

    @property
    def total(self) -> int:
        return sum(q.count for q in self.questions)

    def by(self, field: str) -> Counter:
        counts: Counter = Counter()
        for q in self.questions:
            counts[getattr(q, field)] += q.count
        return counts

    def feedback_by_intent(self) -> dict[tuple[str, str], dict[str, int]]:
        """(intent, language) -> {"up": n, "down": n}."""
        table: dict[tuple[str, str], dict[str, int]] = {}
        for f in self.feedback:
            table.setdefault((f.intent, f.language), {"up": 0, "down": 0})[f.rating] += f.count
        return dict(sorted(table.items()))


# -- text ---------------------------------------------------------------------------------------

def text_report(report: StatsReport) -> str:
    lines = [f"Questions {report.period.label()}: {report.total}"]
    for title, field in (("per day", "day"), ("per language", "language"),
                         ("per municipality", "municipality"), ("per intent", "intent")):
        lines.append(f"\n{title}:")
        counts = report.by(field)
        ordered = sorted(counts.items()) if field == "day" else counts.most_common()
        lines += [f"  {str(key):<28} {value:>6}" for key, value in ordered] or ["  (none)"]
    lines.append("\nfeedback (intent, language: 👍 / 👎):")
    table = report.feedback_by_intent()
    lines += [f"  {intent}, {language}: {v['up']} / {v['down']}" for (intent, language), v in table.items()] or ["  (none)"]
    lines.append(f"\nquestions the bot could not answer: {len(report.fallbacks)}")
    lines += [f"  {f.day} {f.language} {f.municipality}: {f.text}" for f in report.fallbacks[-20:]]
    if len(report.fallbacks) > 20:
        lines.append(f"  ... the {len(report.fallbacks) - 20} earlier ones are in the HTML and CSV reports")
    return "\n".join(lines)


# -- CSV ----------------------------------------------------------------------------------------

def write_csv(report: StatsReport, path: Path) -> None:
    """One row per count: kind, day, language, municipality, intent, rating, count."""
    with Path(path).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["kind", "day", "language", "municipality", "intent", "rating", "count"])
        for q in report.questions:
            writer.writerow(["question", q.day.isoformat(), q.language, q.municipality, q.intent, "", q.count])
        for f in report.feedback:
            writer.writerow(["feedback", f.day.isoformat(), f.language, "", f.intent, f.rating, f.count])


# -- HTML ---------------------------------------------------------------------------------------

def _figure_svg(draw) -> str:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 3.6))
    try:
        draw(axes)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg")
    finally:
        plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/svg+xml;base64,{encoded}">'


def _bar_chart(counts: Counter, title: str, horizontal: bool = False) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    labels, values = [str(k) for k, _ in items], [v for _, v in items]

    def draw(axes) -> None:
        if horizontal:
            axes.barh(labels[::-1], values[::-1], color="#3b6ea5")
        else:
            axes.bar(labels, values, color="#3b6ea5")
        axes.set_title(title)

    return _figure_svg(draw)


def _daily_chart(report: StatsReport) -> str:
    per_day = report.by("day")
    days, day = [], report.period.start
    while day <= report.period.end:
        days.append(day)
        day += dt.timedelta(days=1)

    def draw(axes) -> None:
        axes.plot(days, [per_day.get(d, 0) for d in days], marker="o", color="#3b6ea5")
        axes.set_title("Questions per day")
        axes.set_ylim(bottom=0)
        axes.figure.autofmt_xdate()

    return _figure_svg(draw)


def _feedback_chart(report: StatsReport) -> str:
    table: dict[str, dict[str, int]] = {}
    for (intent, _language), v in report.feedback_by_intent().items():
        row = table.setdefault(intent, {"up": 0, "down": 0})
        row["up"] += v["up"]
        row["down"] += v["down"]
    intents = sorted(table)

    def draw(axes) -> None:
        positions = range(len(intents))
        axes.barh([p + 0.2 for p in positions], [table[i]["up"] for i in intents], height=0.4, label="helpful", color="#2e8b57")
        axes.barh([p - 0.2 for p in positions], [table[i]["down"] for i in intents], height=0.4, label="not helpful", color="#c0392b")
        axes.set_yticks(list(positions))
        axes.set_yticklabels(intents)
        axes.legend()
        axes.set_title("Feedback per intent")

    return _figure_svg(draw)


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(report: StatsReport) -> str:
    sections = [f"<h1>welcomebot statistics</h1><p>{html.escape(report.period.label())}: "
                f"<strong>{report.total}</strong> questions.</p>"]
    if report.questions:
        sections += [
            _daily_chart(report),
            _bar_chart(report.by("intent"), "Questions per intent", horizontal=True),
            _bar_chart(report.by("language"), "Questions per language"),
            _bar_chart(report.by("municipality"), "Questions per municipality"),
        ]
    else:
        sections.append("<p>No questions in this period.</p>")
    sections.append("<h2>Feedback</h2>")
    table = report.feedback_by_intent()
    if table:
        sections.append(_feedback_chart(report))
        sections.append(_table(["intent", "language", "helpful", "not helpful"],
                               [[i, lang, v["up"], v["down"]] for (i, lang), v in table.items()]))
    else:
        sections.append("<p>No feedback in this period.</p>")
    sections.append("<h2>Questions the bot could not answer</h2><p>Numbers, e-mail addresses, links and "
                    "names the bot knows are removed before a text is stored.</p>")
    sections.append(_table(["day", "language", "municipality", "text"],
                           [[f.day, f.language, f.municipality, f.text] for f in report.fallbacks]))
    style = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "img{max-width:100%;display:block;margin:1rem 0}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>welcomebot statistics</title>'
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")
