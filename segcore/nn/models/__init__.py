"""The U-Net checkpoints shipped with segcore, and where to find them.

Each shipped model is a checkpoint ``NAME.pt`` beside its card ``NAME.json`` in this
package folder; they are installed as package data and located with
:mod:`importlib.resources`, so they are found wherever segcore is installed. The
environment variable ``SEGLAB_MODELS`` names another folder to read them from instead.

This module imports neither torch nor any method, so asking for a path is cheap.
The training script and the cards' documentation live in the repository's ``models/``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from importlib import resources
from pathlib import Path

__all__ = ["BUILTIN_MODELS", "CONTOUR_MODEL", "models_dir", "model_file", "shipped_dir"]

#: The shipped segmentation models, in the order the app's U-Net method offers them.
BUILTIN_MODELS = ("membrane", "horse")
#: The shipped boundary model (BSDS500 contours), which hierarchical merging uses
#: (:mod:`segcore.nn.contours`); not a segmentation the U-Net method offers.
CONTOUR_MODEL = "contours"

# Files extracted from a zipped install (see _real_path), kept until the process ends.
_EXTRACTED = contextlib.ExitStack()
_COPIES: dict[str, Path] = {}
_COPIES_LOCK = threading.Lock()
atexit.register(_EXTRACTED.close)


def _real_path(resource) -> Path:
    """A file system path for a resource: the resource itself when installed as files
    (a wheel install is), otherwise one temporary copy per resource for the process."""
    if isinstance(resource, Path):
        return resource
    with _COPIES_LOCK:
        key = str(resource)
        if key not in _COPIES:
            _COPIES[key] = _EXTRACTED.enter_context(resources.as_file(resource))
        return _COPIES[key]


def shipped_dir() -> Path:
    """The package folder that holds the shipped checkpoints and cards.

    ``SEGLAB_MODELS`` does not change it; see :func:`models_dir` for that.

    Examples
    --------
    >>> sorted(p.name for p in shipped_dir().glob("horse.*"))
    ['horse.json', 'horse.pt']
    """
    return _real_path(resources.files(__name__))


def models_dir() -> Path:
    """Folder the shipped models are read from: ``$SEGLAB_MODELS`` if set, else :func:`shipped_dir`.

    Examples
    --------
    >>> (models_dir() / "membrane.json").name
    'membrane.json'
    """
    env = os.environ.get("SEGLAB_MODELS")
    if env:
        return Path(env).expanduser()
    return shipped_dir()


def model_file(name: str, suffix: str = ".pt") -> Path:
    """Path of a shipped model's checkpoint (``suffix=".pt"``) or card (``".json"``).

    Honours ``SEGLAB_MODELS`` like :func:`models_dir`. The file is not opened here,
    so the path may not exist when ``SEGLAB_MODELS`` points at an incomplete folder.

    Parameters
    ----------
    name : str
        One of :data:`BUILTIN_MODELS` or :data:`CONTOUR_MODEL`.
    suffix : str
        ``".pt"`` for the weights, ``".json"`` for the card.

    Examples
    --------
    >>> model_file("horse", ".json").name
    'horse.json'
    >>> model_file("zebra")
    Traceback (most recent call last):
    ...
    ValueError: there is no shipped model 'zebra'; the shipped models are membrane, horse, contours
    """
    if name not in BUILTIN_MODELS + (CONTOUR_MODEL,):
        raise ValueError(
            f"there is no shipped model {name!r}; the shipped models are "
            + ", ".join(BUILTIN_MODELS + (CONTOUR_MODEL,))
        )
    if suffix not in (".pt", ".json"):
        raise ValueError(f"suffix must be '.pt' or '.json', got {suffix!r}")
    if os.environ.get("SEGLAB_MODELS"):
        return models_dir() / f"{name}{suffix}"
    return _real_path(resources.files(__name__).joinpath(f"{name}{suffix}"))
