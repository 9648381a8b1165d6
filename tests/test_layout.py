"""The tree shows the two flows: the student's side (assignment/) apart from what grades and builds
(autograder/); every module has one job stated in its docstring's first line and stays small; the
packages import one another without a cycle; and the README's layout table names what is there."""

import ast
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"backprop_kit": REPO / "autograder" / "backprop_kit", "backprop_lab": REPO / "assignment" / "backprop_lab"}
MOST_LINES = 400


def _modules():
    """{dotted name: path} of every module of the two packages."""
    found = {}
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _import_statements(name, path):
    """(line, imported module, names imported from it) for every import in module `name`, anywhere in
    its code (lazy imports too), with relative imports resolved; `import x` imports no names."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, module, [alias.name for alias in node.names]


def _imports(name, path):
    """The modules of the two packages that `name` imports."""
    found = set()
    for _, module, names in _import_statements(name, path):
        # `from package import module` needs only that module (the package is already being imported)
        targets = [f"{module}.{n}" if f"{module}.{n}" in MODULES else module for n in names] or [module]
        found.update(t for t in targets if t in MODULES and t != name)
    return found


def test_the_student_side_lives_with_the_assignment_and_nothing_of_it_in_autograder():
    assert (REPO / "assignment" / "backprop.ipynb").is_file()
    assert (REPO / "assignment" / "backprop_lab" / "__init__.py").is_file()
    assert sorted(p.name for p in (REPO / "autograder").iterdir() if not p.name.endswith(".egg-info") and p.name != "__pycache__") == ["backprop_kit"]
    shipped = {n for n in MODULES if n.startswith("backprop_lab")}
    assert not any(i.startswith("backprop_kit") for n in shipped for i in _imports(n, MODULES[n]))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_states_its_job_in_one_line_and_stays_small(name):
    path = MODULES[name]
    text = path.read_text()
    if path.name == "__init__.py" and not text.strip():
        return  # an empty package marker has no job of its own
    doc = ast.get_docstring(ast.parse(text))
    assert doc and doc.splitlines()[0].strip(), f"{path} has no docstring saying its job"
    assert len(text.splitlines()) <= MOST_LINES, f"{path} has {len(text.splitlines())} lines"


def test_every_import_between_the_packages_names_a_module_that_exists():
    """Lazy imports inside functions too: a module or name moved without its importers fails here, not at grading."""
    broken = []
    for name, path in MODULES.items():
        for line, module, names in _import_statements(name, path):
            where = f"{path.relative_to(REPO)}:{line}"
            if module.split(".")[0] not in PACKAGES:
                continue
            if module not in MODULES:
                broken.append(f"{where} imports {module}")
                continue
            target = importlib.import_module(module)
            broken += [f"{where} imports {n} from {module}, which has none" for n in names if not hasattr(target, n) and f"{module}.{n}" not in MODULES]
    assert not broken, broken


def test_the_packages_import_one_another_without_a_cycle():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def _layout_table():
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]  # every table of the section
    assert rows, "the README has no layout table"
    return rows


def test_every_path_in_the_readmes_layout_table_exists():
    """A row's paths are from the top of the repository, or names inside one of the two packages."""
    roots = [REPO, *PACKAGES.values()]
    for row in _layout_table():
        first = row.split("|")[1]
        for path in re.findall(r"`([^`]+)`", first):
            assert any((root / path).exists() for root in roots), f"the README's layout table names {path}, which is not in the tree"


def test_the_readmes_layout_table_names_every_module():
    table = "\n".join(_layout_table())
    named = set(re.findall(r"`([^`]+)`", table))
    missing = []
    for name, path in MODULES.items():
        relative = str(path.relative_to(REPO))
        if path.name == "__init__.py":
            continue
        if relative not in named and path.name not in named and f"{path.parent.name}/{path.name}" not in named:
            missing.append(relative)
    assert not missing, f"the README's layout table does not name: {missing}"
