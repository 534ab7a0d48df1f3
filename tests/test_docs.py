"""Every public function and class of segcore documents itself with a runnable example
(pytest's --doctest-modules runs them)."""

import importlib
import inspect
import pkgutil

import segcore


def _public_objects():
    for info in pkgutil.walk_packages(segcore.__path__, "segcore."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{module.__name__}.{name}", obj


def test_every_public_function_has_an_example():
    missing = [name for name, obj in _public_objects() if ">>>" not in (inspect.getdoc(obj) or "")]
    assert not missing, f"no Examples section in: {', '.join(missing)}"
