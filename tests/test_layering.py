"""The model never imports plotting or widget code (model / view separation)."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "kms_teach"
VIEW_MODULES = {"matplotlib", "ipywidgets", "IPython"}
MODEL_MODULES = ["_assets", "_content", "workup", "parameters", "treatments", "cases", "labs", "model", "cli", "reference",
                 "questions", "progress", "check", "markup", "describe"]


def imported_roots(path):
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", MODEL_MODULES)
def test_model_layer_source_imports_no_view_library(module):
    path = PACKAGE / f"{module}.py"
    assert path.exists(), path
    assert not imported_roots(path) & VIEW_MODULES


def test_importing_the_model_layer_loads_no_view_library():
    code = (
        "import sys; import kms_teach, kms_teach.model, kms_teach.cli; "
        "import kms_teach.model as m; m.simulate('khe-kms', days=1); "
        f"print(sorted(set(sys.modules) & set({sorted(VIEW_MODULES)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
