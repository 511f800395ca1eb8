"""The house's rules, checked on the source: the kit imports no service and nothing of
deploy/; a service imports of another service only its contracts: its events
(``events.py``) and its RPCs' argument and result schemas (``schemas.py``, which the gateway
names in its routes and its OpenAPI document); no service.py grows past a table of
contents."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_FILE_LINES = 320  # "under ~300": a table of contents, not the work


def imported_modules(path):
    """Every module ``path`` imports (at any depth: imports inside functions count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def python_files(folder):
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts
                  or p.name == "env.py")


def test_the_kit_imports_neither_services_nor_deploy():
    offending = {str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p)
                                                  if m.split(".")[0] in ("services", "deploy"))
                 for p in python_files("gonghui")}
    assert {p: m for p, m in offending.items() if m} == {}


CONTRACTS = (["events"], ["schemas"])


def test_a_service_imports_only_the_contracts_of_another():
    offending = {}
    for path in python_files("services"):
        own = path.relative_to(ROOT / "services").parts[0]
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] != "services" or len(parts) < 2 or parts[1] == own:
                continue
            if parts[2:] == [] or parts[2:] in CONTRACTS:  # ``from services.x import events``
                continue
            offending.setdefault(str(path.relative_to(ROOT)), []).append(module)
    # ``from services.deeds import events`` is recorded as both services.deeds and
    # services.deeds.events; a name other than a contract's would show up here.
    assert offending == {}


def test_service_files_read_like_a_table_of_contents():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in sorted((ROOT / "services").glob("*/service.py"))}
    assert sizes and {p: n for p, n in sizes.items() if n > SERVICE_FILE_LINES} == {}
