"""The package's layers: every import in dlbench/ goes down the data flow, never up.

contract <- store <- analysis; the runner and the importers use only the contract; cli may use all. Every
import counts, including those inside functions (parsed with `ast`, not imported), and relative imports are
resolved to absolute module names. The top-level `dlbench/__init__.py` is contract-level: all may import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "dlbench"
LAYERS = ("contract", "store", "analysis", "runner", "importers", "cli")
ALLOWED: dict[str, frozenset[str]] = {
    "contract": frozenset({"contract"}),
    "store": frozenset({"contract", "store"}),
    "analysis": frozenset({"contract", "store", "analysis"}),
    "runner": frozenset({"contract", "runner"}),
    "importers": frozenset({"contract", "importers"}),
    "cli": frozenset(LAYERS),
}


def _module_name(package_dir: Path, path: Path) -> tuple[str, bool]:
    """(absolute module name, is a package `__init__`) of a .py file under `package_dir`."""
    parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
    is_init = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_init else parts), is_init


def _layer(module: str, package: str) -> str | None:
    """The layer of an absolute module name inside `package`: its first component below the package.

    The package itself (its `__init__`) is contract-level; a module directly under the package, or a name
    that is no layer, has no layer (None).
    """
    parts = module.split(".")
    if parts == [package]:
        return "contract"
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _is_module(package_dir: Path, name: str) -> bool:
    """Whether the absolute name is a module or package of the package at `package_dir`."""
    path = package_dir.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported(tree: ast.AST, module: str, is_init: bool, package_dir: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import of the package in the tree, relative ones resolved, by line.

    `from X import a` counts as importing X.a when that is a module of the package, else as importing X.
    """
    package = package_dir.name
    here = module.split(".") if is_init else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if _is_module(package_dir, sub) else target))
    return sorted({(line, name) for line, name in found if name == package or name.startswith(package + ".")})


def layering_violations(package_dir: Path, root: Path | None = None) -> list[str]:
    """Every import under `package_dir` that breaks the layering rules, one message each (sorted)."""
    package = package_dir.name
    root = root or package_dir.parent
    problems = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        module, is_init = _module_name(package_dir, path)
        layer = _layer(module, package)
        if layer is None:
            problems.append(f"{rel}: module {module} is directly under {package}/ (or in no layer): "
                            f"put it in a layer ({', '.join(LAYERS)})")
            continue
        allowed = ALLOWED[layer]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for line, name in _imported(tree, module, is_init, package_dir):
            target = _layer(name, package)
            if target is None:
                problems.append(f"{rel}:{line}: imports {name}, which is in no layer "
                                f"(every module of {package} belongs to one of {', '.join(LAYERS)})")
            elif target not in allowed:
                problems.append(f"{rel}:{line}: imports {name}: the {layer} layer may import only "
                                f"{', '.join(sorted(allowed))}, not {target}")
    return problems


def test_dlbench_keeps_its_layers():
    problems = layering_violations(REPO / PACKAGE, REPO)
    assert not problems, "layering rules broken:\n" + "\n".join(problems)


def test_every_layer_is_a_package_with_its_rule_documented():
    for layer in LAYERS:
        init = REPO / PACKAGE / layer / "__init__.py"
        assert init.is_file(), f"{init} is missing"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init}: its docstring must say what the layer may import"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / PACKAGE


def test_the_check_reports_a_contract_module_importing_the_store(tmp_path):
    package = _write(tmp_path, {
        "dlbench/__init__.py": "",
        "dlbench/contract/__init__.py": "",
        "dlbench/contract/schema.py": "from . import paths\nimport dlbench\n",
        "dlbench/contract/paths.py": "",
        "dlbench/contract/fragment.py": ("from __future__ import annotations\n\nfrom .schema import load\n\n\n"
                                         "def write():\n    from dlbench.store.merge import merge\n"),
        "dlbench/store/__init__.py": "",
        "dlbench/store/merge.py": "from ..contract import fragment\nfrom ..contract.schema import load\n",
        "dlbench/cli/__init__.py": "",
        "dlbench/cli/run.py": "from ..store import merge\nfrom ..runner import run\n",
    })
    assert layering_violations(package, tmp_path) == [
        "dlbench/contract/fragment.py:7: imports dlbench.store.merge: the contract layer may import only contract, "
        "not store",
    ]


def test_the_check_resolves_relative_imports_and_flags_modules_outside_layers(tmp_path):
    package = _write(tmp_path, {
        "dlbench/__init__.py": "",
        "dlbench/helpers.py": "",
        "dlbench/runner/__init__.py": "",
        "dlbench/runner/system/__init__.py": "",
        "dlbench/runner/system/probe.py": "from ...contract.paths import REPO_ROOT\nfrom ...store import merge\n",
        "dlbench/store/__init__.py": "",
        "dlbench/store/merge.py": "from ..contract import paths\n",
        "dlbench/importers/__init__.py": "from .. import analysis\n",
        "dlbench/analysis/__init__.py": "from dlbench import helpers\n",
    })
    assert layering_violations(package, tmp_path) == [
        "dlbench/analysis/__init__.py:1: imports dlbench.helpers, which is in no layer (every module of dlbench "
        "belongs to one of contract, store, analysis, runner, importers, cli)",
        "dlbench/helpers.py: module dlbench.helpers is directly under dlbench/ (or in no layer): put it in a layer "
        "(contract, store, analysis, runner, importers, cli)",
        "dlbench/importers/__init__.py:1: imports dlbench.analysis: the importers layer may import only contract, "
        "importers, not analysis",
        "dlbench/runner/system/probe.py:2: imports dlbench.store.merge: the runner layer may import only contract, "
        "runner, not store",
    ]
