"""The written (hand-graded) answers: taken from a notebook, carried in results, laid out for marking.

In the handout each written question is a prompt cell that opens with `<!-- BEGIN QUESTION -->`,
then the student's answer cells, then a cell that opens with `<!-- END QUESTION -->`; the k-th
such prompt is the k-th question of config.WRITTEN_POINTS (the build checks that order).
Results carry each answer as a visible 0-point test, so that a Gradescope grader reads it beside
the manual rubric; locally, `write_pages` lays every student's answers out, one page per question.
"""

import html
import json
from pathlib import Path

from backprop_lab import config

BEGIN, END = "<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"
PLACEHOLDER = "_Type your answer here, replacing this text._"
NO_ANSWER = "(no answer: the answer cell is empty or still holds the placeholder)"
PART = "written"
MOST_CHARS = 20_000  # of one answer
PROMPTS_FILE = "written_prompts.json"  # written by the build beside this module in the autograder zip


def answers(raw, prompts=None):
    """{question: answer text, or None if the notebook has no such question} from notebook bytes.

    `prompts` ({question: the handout's prompt cell}, default: the build's written_prompts.json)
    finds each question by its own prompt, so an answer quoting a marker moves nothing, and text
    typed into the prompt cell itself still counts. Without them, the k-th marker is question k."""
    found = dict.fromkeys(config.WRITTEN_POINTS)
    try:
        cells = json.loads(raw.decode("utf-8-sig"))["cells"]
        texts = [(c.get("cell_type"), _text(c.get("source", ""))) for c in cells if isinstance(c, dict)]
    except Exception:  # noqa: BLE001 - no notebook, no answers; the grading says why
        return found
    prompts = _prompts() if prompts is None else prompts
    if prompts and set(prompts) == set(config.WRITTEN_POINTS):
        return _by_prompt(texts, prompts)
    names = iter(config.WRITTEN_POINTS)
    inside, name, parts = False, None, []
    for kind, text in texts:
        if kind != "code" and text.lstrip().startswith(END) and inside:
            found[name], inside = _joined(parts), False
        if kind != "code" and BEGIN in text:
            if inside:  # the END marker was deleted: the answer is what came before the next question
                found[name] = _joined(parts)
            name = next(names, None)
            if name is None:
                break
            inside, parts = True, []
            continue
        if inside:
            parts.append(text)
    if inside and name is not None:
        found[name] = _joined(parts)
    return found


def prompts_of(template_raw):
    """{question: prompt cell} of the handout, for the build to ship with the grader."""
    cells = json.loads(template_raw)["cells"]
    begins = [_text(c.get("source", "")) for c in cells if c.get("cell_type") != "code" and BEGIN in _text(c.get("source", ""))]
    if len(begins) != len(config.WRITTEN_POINTS):
        raise ValueError(f"the handout has {len(begins)} written questions, config.WRITTEN_POINTS {len(config.WRITTEN_POINTS)}")
    return dict(zip(config.WRITTEN_POINTS, begins))


def _key(prompt):
    """The line that tells a question's prompt cell apart: its first line of text."""
    return next((line.strip() for line in prompt.replace(BEGIN, "").replace(END, "").splitlines() if line.strip()), prompt.strip())


def _by_prompt(texts, prompts):
    keys = {name: _key(prompt) for name, prompt in prompts.items()}
    at = {}
    for i, (kind, text) in enumerate(texts):
        for name, key in keys.items():
            if kind != "code" and key in text and name not in at:
                at[name] = i
    starts = set(at.values())
    found = dict.fromkeys(config.WRITTEN_POINTS)
    for name, i in at.items():
        parts = []
        extra = texts[i][1].replace(prompts[name].strip(), "") if prompts[name].strip() in texts[i][1] else texts[i][1].replace(keys[name], "")
        extra = extra.replace(BEGIN, "").replace(END, "").strip()
        if extra:
            parts.append(extra)  # typed into the prompt cell itself
        for j in range(i + 1, len(texts)):
            kind, text = texts[j]
            if j in starts or kind != "code" and text.lstrip().startswith(END):
                break
            parts.append(text)
        found[name] = _joined(parts)
    return found


def _prompts():
    path = Path(__file__).with_name(PROMPTS_FILE)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tests(found):
    """The results.json entries: one visible 0-point test per written question, holding the answer."""
    entries = []
    for name, points in config.WRITTEN_POINTS.items():
        text = found.get(name)
        output = (text or NO_ANSWER) if text is not None else "(no answer: this question was not found in the notebook)"
        entries.append({"name": f"{name} ({PART})", "score": 0.0, "max_score": 0, "visibility": "visible",
                        "output": f"Graded by hand ({points} points on the manual rubric). The answer submitted:\n\n{output}"})
    return entries


def answer_of(result, name):
    """The answer text a result carries for written question `name` (None if it carries none)."""
    tests = result.get("tests") if isinstance(result.get("tests"), list) else []
    for test in tests:
        if isinstance(test, dict) and test.get("name") == f"{name} ({PART})":
            text = str(test.get("output", ""))
            return text.split("\n\n", 1)[1] if "\n\n" in text else text
    return None


def write_pages(out_dir, graded):
    """OUT/written/<question>.html: every student's answer to the question, for marking by hand.
    `graded` is [(label, result)]. Returns the pages' paths."""
    folder = Path(out_dir) / "written"
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for name, points in config.WRITTEN_POINTS.items():
        blocks = []
        for label, result in graded:
            answer = answer_of(result, name)
            blocks.append(f"<section><h2>{html.escape(label)}</h2><pre>{html.escape(answer or NO_ANSWER)}</pre>"
                          f"<p class=mark>points (of {points}): ____</p></section>")
        page = (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(name)}</title><style>"
                "body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}"
                f"section{{border-top:1px solid #ccc}}</style></head><body><h1>{html.escape(name)} ({points} points)</h1>"
                f"<p>{len(graded)} submission(s). Enter the points in the gradebook's <code>{html.escape(name)}</code> column.</p>"
                + "".join(blocks) + "</body></html>\n")
        path = folder / f"{name}.html"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(page)
        tmp.replace(path)
        pages.append(path)
    return pages


def _text(source):
    return "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)


def _joined(parts):
    text = "\n\n".join(p.strip() for p in parts if p.strip() and p.strip() != PLACEHOLDER).strip()
    return text[:MOST_CHARS] + ("\n... (cut)" if len(text) > MOST_CHARS else "")
