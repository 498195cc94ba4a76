"""The package's import structure, as docs/development.md draws it: floors, bottom to top.

A folder (or a module at the top of ``observe/``) stands on a floor; it may import what stands
on its own floor's folder or lower. An import that runs up a floor is allowed only if it says
why on its line (``# up: …``), and there are at most three of them. Imports made only for the
type checker (under ``if TYPE_CHECKING:``) are not counted: nothing runs them.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from dataclasses import dataclass
from pathlib import Path

import observe

PACKAGE = Path(observe.__file__).parent

# Bottom to top. Each entry is one floor: the parts of observe/ that stand on it.
FLOORS: list[tuple[str, ...]] = [
    # The plumbing: shared column types, permissions, hooks, the change feed, PDF and charts;
    # the extensions, settings, errors and paths; the API blueprint itself.
    ("core", "extensions", "config", "errors", "paths", "api"),
    ("audit",),
    ("roster",),
    ("accounts",),
    ("rubrics",),
    ("observations",),
    ("photos",),
    ("calibration",),
    ("reports",),
    ("sync",),
    ("tablet", "home", "backup"),
    # The app itself: the factory, the command, the model registry, the demo district.
    ("__init__", "commands", "models", "demo"),
    ("cli",),
]
FLOOR = {part: level for level, parts in enumerate(FLOORS) for part in parts}
MAX_UPWARD = 3


@dataclass(frozen=True)
class Import:
    source: str  # the importing file, relative to observe/
    line: int
    target: str  # the module imported, e.g. observe.sync.push
    comment: str  # the text after "#" on the import's first line

    @property
    def source_part(self) -> str:
        return _part_of(self.source)

    @property
    def target_part(self) -> str:
        rest = self.target.split(".")[1:]
        return rest[0] if rest else "__init__"


def _is_module(name: str) -> bool:
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _part_of(relative: str) -> str:
    first = relative.split("/")[0]
    return first.removesuffix(".py")


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """The lines only the type checker reads: the body of ``if TYPE_CHECKING:`` (exactly that
    test: ``if not TYPE_CHECKING:`` runs)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in _TYPE_CHECKING:
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


_TYPE_CHECKING = {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
_DYNAMIC = {"import_module", "importlib.import_module", "__import__"}


def _dynamic_target(node: ast.AST) -> str | None:
    """The module an ``import_module("observe.…")`` or ``__import__("observe.…")`` call
    imports, when it is named by a constant: it runs as surely as an import statement."""
    if not isinstance(node, ast.Call) or ast.unparse(node.func) not in _DYNAMIC or not node.args:
        return None
    name = node.args[0]
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value
    return None


def imports() -> list[Import]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("migrations/") or relative.startswith("_site/"):
            continue
        found += imports_in(path.read_text(encoding="utf-8"), relative)
    return found


def imports_in(text: str, relative: str) -> list[Import]:
    """The imports of observe's modules that the file at ``relative`` (to observe/) makes."""
    found = []
    lines = text.splitlines()
    tree = ast.parse(text)
    typing_only = _type_checking_lines(tree)
    module = "observe." + relative.removesuffix(".py").replace("/", ".")
    package = module if relative.endswith("__init__.py") else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    for node in ast.walk(tree):
        dynamic = _dynamic_target(node)
        if dynamic is not None and node.lineno not in typing_only:
            line = lines[node.lineno - 1]
            comment = line.split("#", 1)[1].strip() if "#" in line else ""
            if dynamic == "observe" or dynamic.startswith("observe."):
                found.append(Import(relative, node.lineno, dynamic, comment))
            continue
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # "from observe.sync import push" imports the module observe.sync.push.
            targets = [
                f"{stem}.{alias.name}" if _is_module(f"{stem}.{alias.name}") else stem
                for alias in node.names
            ]
        else:
            targets = [alias.name for alias in node.names]
        line = lines[node.lineno - 1] if targets else ""
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        for target in targets:
            if target == "observe" or target.startswith("observe."):
                found.append(Import(relative, node.lineno, target, comment))
    return found


def _cross(found: list[Import]) -> list[Import]:
    return [i for i in found if i.source_part != i.target_part]


def test_every_part_of_the_package_stands_on_a_floor() -> None:
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts |= {p.stem for p in PACKAGE.glob("*.py")}
    parts -= {"migrations"}
    assert parts - set(FLOOR) == set(), "add the new folder to FLOORS (and docs/development.md)"
    assert set(FLOOR) - parts == set()


def test_core_imports_no_feature() -> None:
    bottom = set(FLOORS[0])
    wrong = [
        i for i in _cross(imports()) if i.source_part in bottom and i.target_part not in bottom
    ]
    assert wrong == [], "\n".join(f"{i.source}:{i.line} imports {i.target}" for i in wrong)


def test_sync_stands_above_observations_above_core() -> None:
    assert FLOOR["core"] < FLOOR["observations"] < FLOOR["sync"]


def test_imports_run_down_but_for_three_that_say_why() -> None:
    upward = [i for i in _cross(imports()) if FLOOR[i.target_part] > FLOOR[i.source_part]]
    unexplained = [i for i in upward if not i.comment.startswith("up:")]
    assert unexplained == [], "\n".join(
        f"{i.source}:{i.line} imports {i.target}, which stands higher; give the reason on the "
        "line as '# up: …', or restructure"
        for i in unexplained
    )
    assert len(upward) <= MAX_UPWARD, "\n".join(f"{i.source}:{i.line} {i.target}" for i in upward)


def test_no_two_parts_import_each_other_even_by_way_of_others() -> None:
    edges: dict[str, set[str]] = {}
    for i in _cross(imports()):
        edges.setdefault(i.source_part, set()).add(i.target_part)
    upward = {
        (i.source_part, i.target_part)
        for i in _cross(imports())
        if FLOOR[i.target_part] > FLOOR[i.source_part]
    }

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            for there in edges.get(here, ()):
                if (here, there) in upward:
                    continue  # the named exceptions above; each is checked there
                if there == goal:
                    return True
                if there not in seen:
                    seen.add(there)
                    todo.append(there)
        return False

    circles = [
        (a, b) for a, b in itertools.permutations(FLOOR, 2) if reaches(a, b) and reaches(b, a)
    ]
    assert circles == []


def test_module_circles_none_at_all() -> None:
    """No module imports itself by way of others (imports inside functions included)."""
    edges: dict[str, set[str]] = {}
    modules = set()
    for i in imports():
        source = "observe." + i.source.removesuffix(".py").replace("/", ".")
        source = source.removesuffix(".__init__")
        modules.add(source)
        edges.setdefault(source, set()).add(i.target)
    index = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in modules:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    assert circles == []


def test_the_sync_rules_are_pure() -> None:
    tree = ast.parse((PACKAGE / "sync" / "checks.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif (dynamic := _dynamic_target(node)) is not None:
            imported.add(dynamic.split(".")[0])
    assert not imported & {"flask", "sqlalchemy", "flask_sqlalchemy", "flask_login"}
    own = [i.target for i in imports() if i.source == "sync/checks.py"]
    assert own == ["observe.core.timestamps"], "the rules use plain helpers only"


def test_every_feature_lays_out_its_routes_alike() -> None:
    """JSON routes in api.py, pages in views.py: no feature mixes them."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        json_routes = _adds_api_routes(ast.parse(text))
        if json_routes:
            assert path.name == "api.py", f"{relative} adds JSON routes; put them in api.py"
        if "Blueprint(" in text:
            assert path.name == "views.py" or relative.startswith("api/"), relative


def _adds_api_routes(tree: ast.Module) -> bool:
    """Whether a module decorates a view with the API blueprint, under whatever name."""
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "observe.api"
        for alias in node.names
        if alias.name == "bp"
    }
    return any(
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and ast.unparse(decorator.func.value) in names
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for decorator in node.decorator_list
    )


def test_the_checks_see_every_import_that_runs() -> None:
    """What the tests above count: an import under ``if not TYPE_CHECKING`` runs, and so does
    ``import_module`` with a module's name; JSON routes are found under any name of the API's
    blueprint."""
    source = textwrap.dedent(
        """
        import importlib
        import typing
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from observe.reports import goals
        if typing.TYPE_CHECKING:
            from observe.reports import export
        if not TYPE_CHECKING:
            from observe.reports import rollups
        summary = importlib.import_module("observe.reports.summary")
        views = __import__("observe.reports.views")
        """
    )
    found = sorted(i.target for i in imports_in(source, "core/example.py"))
    assert found == ["observe.reports.rollups", "observe.reports.summary", "observe.reports.views"]
    routes = "from observe.api import bp as api\n\n@api.get('/x')\ndef x():\n    return ''\n"
    assert _adds_api_routes(ast.parse(routes))
    assert not _adds_api_routes(ast.parse("from observe.api import bp\n"))


def test_the_tests_mirror_the_package() -> None:
    """A test folder per feature folder (docs/development.md: where a new feature's pieces go)."""
    tests = Path(__file__).parent
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    missing = sorted(f for f in folders - {"migrations"} if not (tests / f).is_dir())
    assert missing == []
