"""The class report (backprop_kit/report.py): OUT/*/results.json summarised in OUT/report.html.

Every expectation is computed here from synthetic results written to the grader's schema
(no notebook is graded): the named mistakes ranked by how many submissions made them, with
an example; per-question and per-check pass rates; status counts; hostile student text left
inert; every figure an embedded PNG; nothing loaded from the network; the page rendered in
headless Chromium with every image decoded and every table present; and the folders that
hold no results, or only some readable ones.
"""

import base64
import io
import json
import re
from collections import Counter, defaultdict

import numpy as np
import pytest
from bs4 import BeautifulSoup

from backprop_kit.report import write_report
from conftest import chromium_dom

# Student-controlled text that would run if it reached the page as markup: each marks the DOM.
HOSTILE_SCRIPT = "<script>document.documentElement.setAttribute('data-pwned', 'script')</script>"
HOSTILE_IMG = "\"><img src=x onerror=\"document.documentElement.setAttribute('data-pwned', 'img')\">"
HOSTILE = f"ValueError: {HOSTILE_SCRIPT} {HOSTILE_IMG} see https://evil.example/steal.png"

POINTS = {"sigmoid": (1, 4), "relu": (1, 4), "network": (4, 16)}  # (visible, hidden)
CHECKS = {  # question -> part -> check titles
    "sigmoid": {"visible": ["sigmoid_forward matches", "sigmoid_backward matches"], "hidden": ["sigmoid extremes", "sigmoid shapes"]},
    "relu": {"visible": ["relu_backward matches"], "hidden": ["relu at zero", "relu shapes"]},
    "network": {"visible": ["forward matches"], "hidden": ["backward deep net", "backward shapes"]},
}
HINTS = {
    "relu-grad-at-0": ("relu", "relu at zero", "relu_backward at Z = 0 should be 0", "The derivative of ReLU at 0 is taken as 0."),
    "db-not-summed": ("network", "backward deep net", "db has shape (3, 5), expected (3, 1)", "Sum dZ over the batch for db."),
    "sigmoid-no-upstream": ("sigmoid", "sigmoid extremes", "sigmoid_backward ignores dA", "Multiply by the upstream gradient dA."),
}

# name -> (label: None falls back to the source, "" to the folder name; status, mistakes, other failed check titles, message, wall_seconds)
STUDENTS = {
    "alice": ("Alice A (101)", "ok", [], [], "All checks ran.", 8.0),
    "bob": ("Bob B (102)", "ok", ["relu-grad-at-0", "db-not-summed"], [], "All checks ran.", 9.5),
    "carol": (None, "ok", ["relu-grad-at-0"], ["forward matches"], "All checks ran.", 10.0),
    "dave": ("Dave D (104)", "ok", ["relu-grad-at-0", "db-not-summed", "sigmoid-no-upstream"], [], HOSTILE, 11.0),
    "erin": (None, "timeout", ["relu-grad-at-0", "db-not-summed"], ["backward shapes"], "stopped for running too long during the checks: train", 95.0),
    "frank": ("Frank <b>F</b> (106)", "kernel-died", [], ["relu at zero", "relu shapes", "sigmoid shapes"], "the process running your code died\x1b[31m " + HOSTILE, 12.5),
    "grace": ("", "malformed", None, None, "not a notebook: " + HOSTILE, 0.4),
}
EXPECTED_MISTAKES = [("relu-grad-at-0", 4), ("db-not-summed", 3), ("sigmoid-no-upstream", 1)]


def _checks(mistakes, failed):
    """Check records for one submission: each named mistake fails its check (relu's also fails the
    visible relu check, so one submission holds the same mistake twice), titles in `failed` fail unnamed."""
    where = {HINTS[m][1]: m for m in mistakes}
    if "relu-grad-at-0" in mistakes:
        where["relu_backward matches"] = "relu-grad-at-0"
    records = []
    for question, parts in CHECKS.items():
        for part, titles in parts.items():
            for title in titles:
                record = {"question": question, "part": part, "title": title, "passed": title not in where and title not in failed}
                if title in where:
                    mistake = where[title]
                    hint = HINTS[mistake][3] + (" " + HOSTILE if mistake == "sigmoid-no-upstream" else "")
                    record.update(mistake=mistake, message=HINTS[mistake][2], hint=hint)
                elif title in failed:
                    record.update(mistake=None, message=f"{title}: wrong values")
                records.append(record)
    return records


def _result(name):
    label, status, mistakes, failed, message, seconds = STUDENTS[name]
    extra = {"status": status, "message": message, "wall_seconds": seconds, "seconds": seconds - 0.3}
    if label != "":  # "" stands for a result with neither label nor source
        extra["source"] = f"/submissions/{name}.ipynb"
    if label:
        extra["label"] = label
    tests = []
    if mistakes is None:  # malformed: no checks, zero everywhere
        for question, (visible, hidden) in POINTS.items():
            tests += [_test(question, "visible", 0.0, visible), _test(question, "hidden", 0.0, hidden)]
    else:
        extra["checks"] = _checks(mistakes, failed)
        for question, (visible, hidden) in POINTS.items():
            for part, points in (("visible", visible), ("hidden", hidden)):
                mine = [c for c in extra["checks"] if c["question"] == question and c["part"] == part]
                tests.append(_test(question, part, round(points * sum(c["passed"] for c in mine) / len(mine), 4), points))
    tests.append({"name": "written_zero_init (written)", "score": 0, "max_score": 0, "output": "", "visibility": "visible"})
    return {"score": round(sum(t["score"] for t in tests), 4), "output": message, "tests": tests, "extra_data": extra}


def _test(question, part, score, max_score):
    return {"name": f"{question} ({part})", "score": score, "max_score": max_score, "output": "", "visibility": "visible" if part == "visible" else "after_published"}


def _write(out, results):
    for name, result in results.items():
        (out / name).mkdir(parents=True)
        (out / name / "results.json").write_text(result if isinstance(result, str) else json.dumps(result))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    results = {name: _result(name) for name in STUDENTS}
    _write(out, results)
    (out / "gradebook.csv").write_text("file,total\n")  # the batch's other files are not submissions
    path = write_report(out)
    assert path == out / "report.html"
    page = path.read_text()
    return {"out": out, "results": results, "page": page, "soup": BeautifulSoup(page, "html.parser")}


def _rows(soup, table_id):
    table = soup.find("table", id=table_id)
    assert table is not None, f"no table #{table_id}"
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]


def _pct(text):
    return float(text.rstrip("%")) / 100


def test_header_counts_submissions_and_gives_mean_and_median_out_of_the_max(report):
    scores = sorted(r["score"] for r in report["results"].values())
    top = sum(v + h for v, h in POINTS.values())
    text = report["soup"].find(id="summary").get_text(" ", strip=True)
    assert f"{len(STUDENTS)} submissions" in text
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text.split("submissions", 1)[1])]
    assert numbers == pytest.approx([sum(scores) / len(scores), top, scores[len(scores) // 2], top], abs=0.01)
    quartiles = np.percentile(scores, [25, 50, 75])  # linear interpolation between the nearest scores
    assert [float(x) for x in _rows(report["soup"], "score-table")[0]] == pytest.approx([scores[0], *quartiles, scores[-1], top], abs=0.01)


def test_named_mistakes_are_ranked_by_submissions_with_their_hint_and_message(report):
    counted = Counter()
    for result in report["results"].values():
        counted.update({c["mistake"] for c in result["extra_data"].get("checks", []) if c.get("mistake")})
    assert sorted(counted.items(), key=lambda kv: -kv[1]) == EXPECTED_MISTAKES  # the data is what the test means
    rows = _rows(report["soup"], "mistake-table")
    assert [(r[0], int(r[1])) for r in rows] == EXPECTED_MISTAKES
    for row in rows:
        question, _, message, hint = HINTS[row[0]]
        assert row[2] == question
        assert hint in row[3] and message in row[3]


def test_per_question_pass_rates_equal_the_mean_fraction_of_points_and_skip_written_questions(report):
    fractions = defaultdict(list)
    for result in report["results"].values():
        for test in result["tests"]:
            if test["max_score"]:
                question, part = test["name"][:-1].split(" (")
                fractions[(question, part)].append(test["score"] / test["max_score"])
    rows = {r[0]: r for r in _rows(report["soup"], "question-table")}
    assert set(rows) == set(POINTS)  # written_zero_init (max_score 0) is not a question here
    for question in POINTS:
        for column, part in ((1, "visible"), (2, "hidden")):
            expected = sum(fractions[(question, part)]) / len(STUDENTS)
            assert _pct(rows[question][column]) == pytest.approx(expected, abs=0.0006), (question, part)


def test_per_check_pass_rates_count_only_submissions_whose_checks_ran_worst_first(report):
    seen = defaultdict(list)
    for result in report["results"].values():
        for c in result["extra_data"].get("checks", []):
            seen[(c["question"], c["part"], c["title"])].append(c["passed"])
    rows = _rows(report["soup"], "check-table")
    assert len(rows) == len(seen) == sum(len(t) for parts in CHECKS.values() for t in parts.values())
    for question, part, title, rate, n in rows:
        passed = seen[(question, part, title)]
        assert int(n) == len(passed) == len(STUDENTS) - 1  # the malformed one has no checks
        assert _pct(rate) == pytest.approx(sum(passed) / len(passed), abs=0.0006)
    rates = [_pct(r[3]) for r in rows]
    assert rates == sorted(rates) and rows[0][2] == "relu at zero"  # 5 of 6 fail it, more than any other


def test_statuses_are_counted_and_every_submission_not_ok_is_listed_with_its_message(report):
    expected = Counter(s[1] for s in STUDENTS.values())
    assert {r[0]: int(r[1]) for r in _rows(report["soup"], "status-table")} == dict(expected)
    problems = _rows(report["soup"], "problem-table")
    assert [(r[0], r[1]) for r in problems] == [("/submissions/erin.ipynb", "timeout"), ("Frank <b>F</b> (106)", "kernel-died"), ("grace", "malformed")]
    assert problems[0][2] == STUDENTS["erin"][4]
    assert all(len(r[2]) <= 200 for r in problems)
    assert "\x1b" not in report["page"]  # frank's terminal escape is stripped


def test_grading_times_give_median_and_max_of_wall_seconds(report):
    times = sorted(s[5] for s in STUDENTS.values())
    text = report["soup"].find(id="times").get_text(" ", strip=True)
    assert f"median {times[len(times) // 2]:.1f} s" in text and f"max {times[-1]:.1f} s" in text


def test_hostile_student_text_is_escaped_and_inert(report):
    page, soup = report["page"], report["soup"]
    assert HOSTILE_SCRIPT not in page and "<img src=x" not in page and "<b>F</b>" not in page
    assert not soup.find_all("script") and not soup.find_all("b", string="F")
    assert all(set(img.attrs) == {"alt", "src"} for img in soup.find_all("img"))  # no onerror came through
    text = soup.get_text()
    assert text.count(HOSTILE_SCRIPT) >= 3 and HOSTILE_IMG in text  # shown as text: a check hint, frank's and grace's messages
    assert "Frank <b>F</b> (106)" in text


def test_every_figure_is_an_embedded_png_and_nothing_is_loaded_from_the_network(report):
    from PIL import Image

    soup = report["soup"]
    images = soup.find_all("img")
    assert len(images) >= 4  # scores, questions, statuses, times
    for img in images:
        assert img["src"].startswith("data:image/png;base64,")
        data = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            assert picture.size[0] > 100 and picture.size[1] > 50
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not re.match(r"\s*(https?:)?//", str(value)), (tag.name, name, value)
    assert not soup.find_all(["link", "iframe", "object", "embed", "base"])
    assert "url(" not in "".join(s.get_text() for s in soup.find_all("style"))


PROBE = """<script>
document.getElementById("probe").textContent = JSON.stringify(
  Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]));
</script>"""


def test_page_renders_in_headless_chromium_with_every_image_decoded_every_table_and_no_hostile_code_run(report, tmp_path):
    # A copy with a probe that writes each image's natural size into the DOM; the page's own
    # Content-Security-Policy (no scripts) is taken out so that hostile markup, had it got
    # through unescaped, would run here too and mark the document.
    page = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", report["page"])
    page = page.replace("</body>", '<pre id="probe">not run</pre>' + PROBE + "</body>")
    copy = tmp_path / "report.html"
    copy.write_text(page)
    dom = BeautifulSoup(chromium_dom(copy, tmp_path, budget_ms=3000), "html.parser")
    sizes = json.loads(dom.find(id="probe").get_text())
    assert len(sizes) == len(report["soup"].find_all("img")) >= 4
    assert all(complete and width > 0 and height > 0 for complete, width, height in sizes), sizes
    for table_id in ("score-table", "question-table", "check-table", "mistake-table", "status-table", "problem-table"):
        assert dom.find("table", id=table_id) is not None, table_id
    assert dom.find("html").get("data-pwned") is None
    assert HOSTILE_SCRIPT in dom.get_text()


def test_an_empty_folder_is_a_value_error_that_names_it_and_says_to_grade_first(tmp_path):
    (tmp_path / "no-results-here").mkdir()  # a folder without results.json is not a submission
    with pytest.raises(ValueError, match=r"no graded results in .*backprop-kit grade") as info:
        write_report(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert not (tmp_path / "report.html").exists()


def test_a_corrupt_results_json_is_skipped_and_the_report_comes_from_the_good_one(tmp_path):
    _write(tmp_path, {"broken": '{"score": 12, "tests": [', "good": _result("bob")})
    (tmp_path / "no-results").mkdir()
    soup = BeautifulSoup(write_report(tmp_path).read_text(), "html.parser")
    assert "1 submission;" in soup.find(id="summary").get_text(" ", strip=True)
    assert sorted((r[0], r[1]) for r in _rows(soup, "mistake-table")) == [("db-not-summed", "1"), ("relu-grad-at-0", "1")]
    assert {r[0]: r[1] for r in _rows(soup, "status-table")} == {"ok": "1"}


def test_odd_content_of_the_wrong_types_or_missing_keys_does_not_crash_the_report(tmp_path):
    odd = {
        "a-list": "[1, 2, 3]",
        "nothing": "{}",
        "wrong-types": json.dumps({
            "score": "lots", "tests": [None, 3, {"name": 7, "score": "x", "max_score": None}, {"name": "relu (visible)", "score": True, "max_score": 1}],
            "extra_data": {"status": ["ok"], "message": {"a": 1}, "wall_seconds": "slow", "label": 5,
                           "checks": [None, "x", {"question": None, "passed": "yes", "mistake": 3}, {"title": ["t"], "mistake": "m-1", "passed": False}]},
        }),  # fmt: skip
        "not-utf8": b"\xff\xfe{".decode("latin-1"),
        "extra-not-a-dict": json.dumps({"score": 3, "tests": "no", "extra_data": [1]}),
        "good": _result("alice"),
    }
    _write(tmp_path, odd)
    soup = BeautifulSoup(write_report(tmp_path).read_text(), "html.parser")
    assert "4 submissions;" in soup.find(id="summary").get_text(" ", strip=True)  # all but the list and the bad bytes
    assert [r[0] for r in _rows(soup, "mistake-table")] == ["m-1"]
    statuses = {r[0]: int(r[1]) for r in _rows(soup, "status-table")}
    assert statuses == {"ok": 1, "unknown": 3}  # a status that is no string, or none, is unknown
