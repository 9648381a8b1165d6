"""The class report: every OUT/*/results.json summarised in one self-contained OUT/report.html."""

import base64
import html
import io
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .results import STATUSES, strip_controls  # noqa: E402

REPORT = "report.html"
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } tr:nth-child(even) td { background: #fafafa; }
td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
.summary { font-size: 1.15em; } .muted { color: #777; }
"""


def write_report(out_dir):
    """Read OUT/*/results.json and write OUT/report.html; returns its path."""
    out_dir = Path(out_dir)
    subs = load_results(out_dir)
    if not subs:
        raise ValueError(f"no graded results in {out_dir}; run `backprop-kit grade ... --out {out_dir}` first")
    page = render(subs)
    target = out_dir / REPORT
    tmp = out_dir / (REPORT + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target


# -- reading -----------------------------------------------------------------------------------


def load_results(out_dir):
    """One normalised dict per readable OUT/<name>/results.json, in folder-name order."""
    subs = []
    folders = sorted(p for p in Path(out_dir).iterdir() if p.is_dir()) if Path(out_dir).is_dir() else []
    for folder in folders:
        try:
            raw = json.loads((folder / "results.json").read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(raw, dict):
            subs.append(_normalise(raw, folder.name))
    return subs


def _num(value, default=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        return default
    return float(value)


def _text(value):
    return "" if value is None else strip_controls(value if isinstance(value, str) else str(value))


def _str(value):
    return _text(value) if isinstance(value, str) else ""


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _normalise(raw, folder):
    extra = _dict(raw.get("extra_data"))
    tests = []
    for test in _list(raw.get("tests")):
        test = _dict(test)
        name = _text(test.get("name"))
        question, _, rest = name.partition(" (")
        part = rest.rstrip(")") if rest else ("visible" if test.get("visibility") == "visible" else "hidden")
        tests.append({"question": question.strip(), "part": part, "score": _num(test.get("score")), "max": _num(test.get("max_score"))})
    checks = []
    for check in _list(extra.get("checks")):
        if isinstance(check, dict):
            checks.append({
                "question": _text(check.get("question")), "part": _text(check.get("part")), "title": _text(check.get("title")),
                "passed": check.get("passed") is True, "mistake": _str(check.get("mistake")).strip() or None,
                "message": _text(check.get("message")), "hint": _text(check.get("hint")),
            })  # fmt: skip
    seconds = extra.get("wall_seconds", extra.get("seconds"))
    return {
        "label": _str(extra.get("label")).strip() or _str(extra.get("source")).strip() or folder,
        "score": _num(raw.get("score")),
        "max": sum(t["max"] for t in tests if t["max"] > 0),
        "tests": tests,
        "checks": checks,
        "status": _str(extra.get("status")).strip() or "unknown",
        "message": _text(extra.get("message")),
        "seconds": _num(seconds, None),
    }


# -- numbers -----------------------------------------------------------------------------------


def _quantiles(values):
    values = sorted(values)
    if len(values) == 1:
        return [values[0]] * 3
    return statistics.quantiles(values, n=4, method="inclusive")


def question_rates(subs):
    """{(question, part): [fraction earned per submission]} over scored tests (max_score > 0)."""
    rates = defaultdict(list)
    for sub in subs:
        for test in sub["tests"]:
            if test["max"] > 0:
                rates[(test["question"], test["part"])].append(test["score"] / test["max"])
    return rates


def check_rates(subs):
    """[(rate, n, question, part, title)] worst first; only submissions that have checks."""
    seen = defaultdict(list)
    for sub in subs:
        for c in sub["checks"]:
            seen[(c["question"], c["part"], c["title"])].append(c["passed"])
    rows = [(sum(v) / len(v), len(v), *key) for key, v in seen.items()]
    return sorted(rows, key=lambda r: (r[0], r[2], r[3], r[4]))


def mistakes(subs):
    """[(mistake, submissions, questions, example check)] most common first."""
    who, example, where = Counter(), {}, defaultdict(Counter)
    for sub in subs:
        ids = set()
        for c in sub["checks"]:
            if c["mistake"] and not c["passed"]:
                ids.add(c["mistake"])
                where[c["mistake"]][c["question"]] += 1
                example.setdefault(c["mistake"], c)
        who.update(ids)
    return [(m, n, [q for q, _ in where[m].most_common()], example[m]) for m, n in sorted(who.items(), key=lambda kv: (-kv[1], kv[0]))]


# -- figures -----------------------------------------------------------------------------------


def _png(fig):
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    fig.clear()
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(fig, alt):
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def _hist(values, xlabel, title, upper=None):
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.add_subplot()
    if values:
        top = max(values) if upper is None else max(upper, max(values))
        ax.hist(values, bins=min(20, max(5, len(values))), range=(0, top or 1), color="#4c78a8", edgecolor="white")
    ax.set(xlabel=xlabel, ylabel="submissions", title=title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _bars(labels, series, ylabel, title):
    fig = Figure(figsize=(max(6, 0.6 * len(labels) + 2), 3.4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for i, (name, values, colour) in enumerate(series):
        ax.bar([x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))], values, width, label=name, color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
    ax.set(ylabel=ylabel, title=title)
    if len(series) > 1:
        ax.legend()
    else:  # counts
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


# -- html --------------------------------------------------------------------------------------


def _e(value, limit=None):
    text = _text(value)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def _f(x, digits=2):
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"


def _table(table_id, header, rows, numeric=()):
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:  # cells are already-escaped HTML
        body.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _pct(x):
    return f"{100 * x:.1f}%"


def render(subs):
    n = len(subs)
    scores = [s["score"] for s in subs]
    top = max(s["max"] for s in subs)
    parts = ["<h1>Class report</h1>"]
    mean, median = statistics.fmean(scores), statistics.median(scores)
    parts.append(
        f'<p class="summary" id="summary"><b>{n}</b> submission{"s" if n != 1 else ""}; '
        f"mean score <b>{_f(mean)}</b> / {_f(top)}, median <b>{_f(median)}</b> / {_f(top)}.</p>"
    )

    # 2. score distribution
    q1, q2, q3 = _quantiles(scores)
    parts.append("<h2>Score distribution</h2>")
    parts.append(_img(_hist(scores, f"score (out of {_f(top)})", "Scores", upper=top), "histogram of scores"))
    parts.append(_table("score-table", ["min", "Q1", "median", "Q3", "max", "out of"], [[_f(v) for v in (min(scores), q1, q2, q3, max(scores), top)]], range(6)))

    # 3. per-question pass rates
    rates = question_rates(subs)
    questions = list(dict.fromkeys(q for q, _ in rates))
    parts.append("<h2>Per-question pass rates</h2><p class=\"muted\">Mean fraction of the points earned; written questions are left out.</p>")
    if questions:
        def rate(q, p):
            v = rates.get((q, p))
            return (statistics.fmean(v), len(v)) if v else (None, 0)

        rows = []
        for q in questions:
            (v, nv), (h, nh) = rate(q, "visible"), rate(q, "hidden")
            rows.append([_e(q), _pct(v) if v is not None else "–", _pct(h) if h is not None else "–", str(max(nv, nh))])
        parts.append(_table("question-table", ["question", "visible", "hidden", "n"], rows, (1, 2, 3)))
        series = [(p, [100 * (rate(q, p)[0] or 0) for q in questions], c) for p, c in (("visible", "#4c78a8"), ("hidden", "#f58518"))]
        parts.append(_img(_bars(questions, series, "% of points earned", "Per-question pass rates"), "per-question pass rates"))

    # 4. per-check pass rates
    checks = check_rates(subs)
    with_checks = sum(1 for s in subs if s["checks"])
    parts.append(f"<h2>Per-check pass rates</h2><p class=\"muted\">Over the {with_checks} submission(s) whose checks ran; worst first.</p>")
    rows = [[_e(q), _e(p), _e(t, 300), _pct(r), str(k)] for r, k, q, p, t in checks]
    parts.append(_table("check-table", ["question", "part", "check", "pass rate", "n"], rows, (3, 4)))

    # 5. named mistakes
    named = mistakes(subs)
    parts.append("<h2>Named mistakes</h2><p class=\"muted\">Ranked by the number of submissions that made them.</p>")
    rows = [[_e(m), str(k), _e(", ".join(qs)), f"{_e(ex['hint'], 300)}<br><span class=\"muted\">{_e(ex['message'], 300)}</span>"] for m, k, qs, ex in named]
    parts.append(_table("mistake-table", ["mistake", "submissions", "question", "example (hint, then message)"], rows, (1,)))

    # 6. statuses
    counts = Counter(s["status"] for s in subs)
    order = [s for s in STATUSES if counts[s]] + sorted(s for s in counts if s not in STATUSES)
    parts.append("<h2>Statuses</h2>")
    parts.append(_table("status-table", ["status", "submissions"], [[_e(s), str(counts[s])] for s in order], (1,)))
    parts.append(_img(_bars(order, [("submissions", [counts[s] for s in order], "#54a24b")], "submissions", "Statuses"), "submission statuses"))
    bad = [s for s in subs if s["status"] != "ok"]
    parts.append(_table("problem-table", ["submission", "status", "message"], [[_e(s["label"], 200), _e(s["status"]), _e(s["message"], 200)] for s in bad]))

    # 7. grading times
    times = [s["seconds"] for s in subs if s["seconds"] is not None]
    parts.append("<h2>Grading times</h2>")
    if times:
        parts.append(f'<p id="times">median <b>{statistics.median(times):.1f} s</b>, max <b>{max(times):.1f} s</b> over {len(times)} submission(s).</p>')
        parts.append(_img(_hist(times, "seconds", "Grading time per submission"), "histogram of grading times"))
    else:
        parts.append('<p id="times" class="muted">No timings recorded.</p>')

    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>Class report</title><style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
