"""segcore as a user gets it: a wheel built from the sources, installed on its own.

The wheel carries the shipped checkpoints and cards (package data, read with
importlib.resources), so ``segment(image, "unet", model="horse")`` works from an install
that has no checkout beside it. ``import segcore`` stays quick: torch and scikit-learn load
only when a method that needs them runs. Every module in ``segcore/methods/`` registers
itself, with no list to edit.

The venv running these tests has segcore installed in editable mode (pointing at this
checkout), so each subprocess checks that the copy it imported is the one under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [f"segcore/nn/models/{name}{suffix}"
           for name in ("membrane", "horse") for suffix in (".pt", ".json")]


def _env(pythonpath: Path | None = None) -> dict:
    """The test's environment without anything that would point segcore elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in ("SEGLAB_MODELS", "PYTHONPATH")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _python(code: str, *args: str, cwd: Path, pythonpath: Path | None = None,
            timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter of this venv; its stdout, or fail with its stderr."""
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd,
                         env=_env(pythonpath), capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"subprocess failed:\n{run.stdout}\n{run.stderr[-3000:]}"
    return run.stdout


def _pip(*args: str, cwd: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    run = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{' '.join(cmd)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> SimpleNamespace:
    """The wheel built from a copy of the sources, installed with ``pip --target``."""
    pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools")
    tmp = tmp_path_factory.mktemp("packaging")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "segcore", src / "segcore",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    # No build isolation and no index: the venv's setuptools builds it, nothing is downloaded.
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(dist),
         str(src), cwd=tmp)
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    target = tmp / "site"
    _pip("install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheels[0]),
         cwd=tmp)
    return SimpleNamespace(wheel=wheels[0], target=target, cwd=tmp)


def test_wheel_ships_the_checkpoints_and_cards(installed):
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, f"the wheel lacks {missing}"
    assert "segcore/nn/models/__init__.py" in names
    assert "segcore/py.typed" in names
    print(f"wheel {installed.wheel.name}: {installed.wheel.stat().st_size / 1e6:.1f} MB")


def test_installed_wheel_segments_with_the_shipped_horse_model(installed):
    out = _python("""
        import os, sys
        assert "SEGLAB_MODELS" not in os.environ
        target = os.path.realpath(sys.argv[1])
        import segcore
        where = os.path.realpath(segcore.__file__)
        assert where.startswith(target + os.sep), f"imported segcore from {where}, not the wheel"
        from segcore.nn.models import model_file
        for suffix in (".pt", ".json"):
            path = os.path.realpath(model_file("horse", suffix))
            assert path.startswith(target + os.sep) and os.path.isfile(path), path
        import numpy as np
        img = np.random.default_rng(0).random((48, 64, 3)).astype(np.float32)
        seg = segcore.segment(img, "unet", model="horse")
        print(seg.labels.shape, seg.extras["classes"])
        """, str(installed.target), cwd=installed.cwd, pythonpath=installed.target)
    assert out.strip().splitlines()[-1] == "(48, 64) ['background', 'horse']"


def test_a_new_method_file_registers_itself(installed):
    """A module dropped into segcore/methods/ is found without editing any list."""
    new = installed.target / "segcore" / "methods" / "doc_new_method.py"
    new.write_text(textwrap.dedent('''
        """A method added by dropping this file into segcore/methods/."""
        import numpy as np

        from segcore.registry import Segmentation, register


        @register("doc_new_method", label="New method")
        def doc_new_method(image):
            """Label bright pixels 2 and the rest 1."""
            return Segmentation(labels=np.where(image[:, :, 0] > 0.5, 2, 1).astype(np.int32))
        '''))
    try:
        out = _python("""
            import os, sys
            import numpy as np
            target = os.path.realpath(sys.argv[1])
            import segcore.registry
            assert os.path.realpath(segcore.registry.__file__).startswith(target + os.sep)
            names = [m.name for m in segcore.registry.list_methods()]
            img = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
            labels = segcore.registry.segment(img, "doc_new_method").labels.tolist()
            print(names[0], names[-1], labels)
            """, str(installed.target), cwd=installed.cwd, pythonpath=installed.target)
    finally:
        new.unlink()
    # Known families keep the app's order; a new module follows them.
    assert out.split() == ["threshold", "doc_new_method", "[[1,", "2],", "[2,", "1]]"]


def test_import_registry_alone_lists_every_method_module_in_order():
    out = _python("""
        import pkgutil
        import segcore.registry
        import segcore.methods
        modules = []
        for spec in segcore.registry.list_methods():
            module = spec.func.__module__.rpartition(".")[2]
            if module not in modules:
                modules.append(module)
        found = sorted(m.name for m in pkgutil.iter_modules(segcore.methods.__path__)
                       if not m.name.startswith("_"))
        print(" ".join(modules))
        print(" ".join(found))
        print(" ".join(segcore.methods.ORDER))
        """, cwd=ROOT)
    modules, found, order = (line.split() for line in out.strip().splitlines())
    assert sorted(modules) == found, "every module of segcore/methods registers a method"
    known = [m for m in order if m in found]
    assert modules == known + sorted(set(found) - set(order))


def test_import_segcore_loads_no_app_or_heavy_optional_library():
    """``import segcore`` stays light for a notebook or the CLI, and free of the app:
    Streamlit, Plotly, torch, scikit-learn, PyAMG and Dask load only where used.
    (It was a wall-clock bound of 2 s, which failed on a busy machine: the brief
    wants no timed tests.)"""
    heavy = ("streamlit", "plotly", "torch", "sklearn", "pyamg", "dask", "distributed")
    out = _python(f"""
        import sys
        import segcore
        print(sorted(m for m in {heavy!r} if m in sys.modules))
        """, cwd=ROOT)
    assert out.strip() == "[]", f"import segcore imported {out.strip()}"


def test_torch_and_sklearn_load_only_when_a_method_needs_them():
    out = _python("""
        import sys
        import segcore
        segcore.list_methods()
        print(sorted(m for m in ("torch", "sklearn") if m in sys.modules))
        """, cwd=ROOT)
    assert out.strip() == "[]", f"import segcore; segcore.list_methods() imported {out.strip()}"
    out = _python("""
        import sys
        import segcore.nn.infer
        print("sklearn" in sys.modules, "segcore.methods.clustering" in sys.modules)
        """, cwd=ROOT)
    assert out.split() == ["False", "False"], "import segcore.nn.infer imported methods or sklearn"
