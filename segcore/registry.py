"""The method registry: one declarative spec per method drives the app's widgets,
the CLI's ``--set k=v``, validation and the contract tests.

A method is a plain function ``f(image, *, <params>) -> Segmentation`` decorated
with :func:`register`. Its :class:`Param` tuple says which parameters it takes,
their kinds, defaults and ranges. :func:`segment` looks the method up, validates
and fills in parameters, turns seeds into a marker image, times the call and
stamps the result with the method name and the full resolved parameter set.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

__all__ = [
    "Param",
    "MethodSpec",
    "Segmentation",
    "register",
    "list_methods",
    "get_method",
    "segment",
    "as_markers",
    "scale_seeds",
    "check_image",
]

Kind = Literal["int", "float", "choice", "bool"]
SeedUse = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class Segmentation:
    """The result of one segmentation.

    Attributes
    ----------
    labels : (H, W) int32 ndarray
        ``0`` means unlabelled (watershed lines, edge pixels); regions are ``1..N``.
    probabilities : (H, W, K) float32 ndarray or None
        Per-class probabilities where the method has them (GMM posteriors,
        random-walker probabilities, U-Net softmax); channel ``k`` belongs to label ``k + 1``.
    method : str
        Registry name of the method that made it.
    params : dict
        The full resolved parameter set (defaults filled in).
    extras : dict
        Method-specific results: thresholds, centres, EM history, ...
    elapsed_s : float
        Wall-clock seconds the method took.

    Examples
    --------
    >>> seg = Segmentation(labels=np.array([[0, 1], [2, 2]], np.int32))
    >>> seg.n_regions
    2
    """

    labels: np.ndarray
    probabilities: np.ndarray | None = None
    method: str = ""
    params: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def n_regions(self) -> int:
        """Number of distinct non-zero labels."""
        return int(np.count_nonzero(np.unique(self.labels)))


@dataclass(frozen=True)
class Param:
    """One parameter of a method, declared as data.

    ``kind`` is ``"int"``, ``"float"``, ``"choice"`` or ``"bool"``. Numbers live in
    ``[low, high]``; ``log`` asks the UI for a logarithmic slider; ``step`` is the
    slider step. A ``choice`` takes one of ``choices``; with ``paths=True`` it also
    takes the path of an existing file (a user's own model checkpoint).
    ``when=(name, values)`` says the parameter only matters while the choice
    parameter ``name`` has one of ``values`` (the app hides it otherwise).

    Examples
    --------
    >>> p = Param("k", "int", 3, low=2, high=12, help="Number of clusters.")
    >>> p.validate("5")
    5
    >>> p.validate(40)
    Traceback (most recent call last):
    ...
    ValueError: parameter 'k' must be between 2 and 12, got 40
    """

    name: str
    kind: Kind
    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    log: bool = False
    help: str = ""
    paths: bool = False
    when: tuple | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("int", "float", "choice", "bool"):
            raise ValueError(f"Param {self.name!r}: unknown kind {self.kind!r}")
        if self.kind in ("int", "float") and (self.low is None or self.high is None):
            raise ValueError(f"Param {self.name!r}: numeric params need low and high")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Param {self.name!r}: a choice needs choices")
        if self.log and (self.low is None or self.low <= 0):
            raise ValueError(f"Param {self.name!r}: a log scale needs low > 0")
        # The default must itself be valid: a spec that contradicts itself is a bug.
        self.validate(self.default)

    def validate(self, value: Any) -> Any:
        """Coerce ``value`` to this parameter's kind and check its range.

        Strings are accepted (the CLI passes ``--set k=4``). Raises ``ValueError``
        naming what is valid.
        """
        name = self.name
        if self.kind == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError(f"parameter {name!r} must be true or false, got {value!r}")
            if isinstance(value, (bool, np.bool_)) or value in (0, 1):
                return bool(value)
            raise ValueError(f"parameter {name!r} must be true or false, got {value!r}")
        if self.kind == "choice":
            if value in self.choices:
                return value
            text = str(value)
            for c in self.choices:
                if str(c) == text:
                    return c
            if self.paths and Path(text).expanduser().is_file():
                return text
            extra = " or the path of an existing file" if self.paths else ""
            raise ValueError(
                f"parameter {name!r} must be one of {', '.join(map(str, self.choices))}{extra}; "
                f"got {value!r}"
            )
        # numeric
        try:
            if isinstance(value, (bool, np.bool_)):
                raise TypeError
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {name!r} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"parameter {name!r} must be a finite number, got {value!r}")
        if self.kind == "int":
            if number != int(number):
                raise ValueError(f"parameter {name!r} must be a whole number, got {value!r}")
            number = int(number)
        if not (self.low <= number <= self.high):
            lo, hi = _fmt(self.low), _fmt(self.high)
            raise ValueError(f"parameter {name!r} must be between {lo} and {hi}, got {value!r}")
        return number


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class MethodSpec:
    """What the registry knows about a method.

    Attributes
    ----------
    name, label, description : str
        Registry name (public API), human label, one-paragraph explanation.
    params : tuple of Param
    seeds : {"none", "optional", "required"}
        Whether the method takes seeds (a marker image or ``(row, col, label)`` list).
    gray_only : bool
        The method works on intensity; a colour image is reduced to gray first.
    func : callable
        The implementation, ``func(image, *, [seeds,] **params) -> Segmentation``.

    Examples
    --------
    >>> spec = get_method("kmeans")
    >>> spec.defaults()["k"], spec.takes_seeds
    (3, False)
    >>> spec.resolve({"k": "4"})["k"]
    4
    >>> get_method("threshold").is_active("level", {"algorithm": "otsu"})
    False
    """

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    seeds: SeedUse
    gray_only: bool
    func: Callable[..., Segmentation] = dataclasses.field(repr=False, compare=False)

    @property
    def takes_seeds(self) -> bool:
        return self.seeds != "none"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def is_active(self, name: str, values: dict) -> bool:
        """Whether parameter ``name`` matters given the other ``values`` (see ``Param.when``)."""
        p = self.param(name)
        if p.when is None:
            return True
        other, allowed = p.when
        return values.get(other, self.param(other).default) in allowed

    def resolve(self, params: dict) -> dict:
        """Validate ``params`` against the spec and fill in defaults."""
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            valid = ", ".join(sorted(known)) or "none"
            raise ValueError(
                f"method {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"valid parameters: {valid}"
            )
        return {p.name: p.validate(params.get(p.name, p.default)) for p in self.params}


_REGISTRY: dict[str, MethodSpec] = {}


def register(
    name: str,
    *,
    label: str,
    params: Sequence[Param] = (),
    seeds: SeedUse = "none",
    gray_only: bool = False,
    description: str | None = None,
):
    """Add a method to the registry.

    The decorated function is returned wrapped so that calling it directly goes
    through :func:`segment` too (validation, defaults, timing). The description
    defaults to the first paragraph of the function's docstring.

    Examples
    --------
    >>> @register("doc_example_invert", label="Inverted halves", params=(
    ...     Param("level", "float", 0.5, low=0.0, high=1.0),))
    ... def invert(image, *, level):
    ...     'Label dark pixels 2 and bright pixels 1.'
    ...     return Segmentation(labels=np.where(image[:, :, 0] > level, 1, 2))
    >>> invert(np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)).labels.tolist()
    [[2, 1], [2, 1]]
    >>> _ = _REGISTRY.pop("doc_example_invert")  # keep the registry to the real methods
    """

    def decorate(func):
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} is registered twice")
        doc = inspect.getdoc(func) or ""
        spec = MethodSpec(
            name=name,
            label=label,
            description=description or doc.split("\n\n")[0].replace("\n", " "),
            params=tuple(params),
            seeds=seeds,
            gray_only=gray_only,
            func=func,
        )
        _REGISTRY[name] = spec

        @functools.wraps(func)
        def wrapper(image, *, seeds=None, progress=None, **kwargs):
            return segment(image, name, seeds=seeds, progress=progress, **kwargs)

        wrapper.spec = spec
        return wrapper

    return decorate


def _load_builtin_methods() -> None:
    # Importing the package registers every built-in method exactly once.
    import segcore.methods  # noqa: F401


def list_methods() -> list[MethodSpec]:
    """All registered methods, in registration order.

    Examples
    --------
    >>> names = [m.name for m in list_methods()]
    >>> "otsu" in names, "threshold" in names
    (False, True)
    """
    _load_builtin_methods()
    return list(_REGISTRY.values())


def get_method(name: str) -> MethodSpec:
    """The spec of one method; ``ValueError`` naming the valid ones if unknown.

    Examples
    --------
    >>> get_method("slic").label
    'SLIC superpixels'
    """
    _load_builtin_methods()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        valid = ", ".join(_REGISTRY)
        raise ValueError(f"unknown method {name!r}; valid methods: {valid}") from None


def check_image(image: Any) -> np.ndarray:
    """Validate an image for the engine: ``(H, W, C)`` float in ``[0, 1]``, ``C`` 1 or 3.

    A 2-D array is taken as one channel. Nothing is rescaled: images from files
    go through :func:`segcore.load_image`, the one place that converts.

    Examples
    --------
    >>> check_image(np.zeros((4, 5), np.float32)).shape
    (4, 5, 1)
    >>> check_image(np.full((2, 2, 3), 255, np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: image must be float with values in [0, 1], got uint8; use segcore.load_image to convert
    """
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise ValueError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"image must be at least 2x2 pixels, got {arr.shape[0]}x{arr.shape[1]}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"image must be float with values in [0, 1], got {arr.dtype}; "
            "use segcore.load_image to convert"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("image contains NaN or infinite values")
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(
            f"image values must lie in [0, 1], got [{arr.min():g}, {arr.max():g}]; "
            "use segcore.load_image to convert"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def as_markers(seeds: Any, shape: tuple[int, int]) -> np.ndarray:
    """Turn seeds into an ``int32 (H, W)`` marker image (``0`` = no seed).

    ``seeds`` is either a marker image of that shape or a sequence of
    ``(row, col, label)`` with ``label >= 1``.

    Examples
    --------
    >>> as_markers([(0, 1, 2)], (2, 3))
    array([[0, 2, 0],
           [0, 0, 0]], dtype=int32)
    """
    h, w = shape
    if isinstance(seeds, np.ndarray) and seeds.ndim == 2:
        if seeds.shape != (h, w):
            raise ValueError(f"seed marker image must have shape {(h, w)}, got {seeds.shape}")
        if not np.issubdtype(seeds.dtype, np.integer) and not np.all(seeds == np.round(seeds)):
            raise ValueError("seed marker image must hold whole-number labels")
        if seeds.min() < 0:
            raise ValueError("seed labels must be >= 1 (0 means no seed)")
        return seeds.astype(np.int32)
    markers = np.zeros((h, w), np.int32)
    try:
        items = list(seeds)
    except TypeError:
        raise ValueError("seeds must be a list of (row, col, label) or an (H, W) marker image") from None
    for item in items:
        try:
            r, c, lab = (int(v) for v in item)
        except (TypeError, ValueError):
            raise ValueError(f"each seed must be (row, col, label), got {item!r}") from None
        if not (0 <= r < h and 0 <= c < w):
            raise ValueError(f"seed ({r}, {c}) lies outside the {h}x{w} image")
        if lab < 1:
            raise ValueError(f"seed labels must be >= 1 (0 means no seed), got {lab}")
        markers[r, c] = lab
    return markers


def scale_seeds(seeds, from_shape: tuple[int, int], to_shape: tuple[int, int]) -> list[tuple[int, int, int]]:
    """Seeds ``(row, col, label)`` moved from an image of one size to another
    (a preview and the full image, or the picture on screen).

    Examples
    --------
    >>> scale_seeds([(99, 199, 2)], (100, 200), (50, 100))
    [(49, 99, 2)]
    """
    fh, fw = from_shape
    th, tw = to_shape
    return [(min(int((r + 0.5) * th / fh), th - 1), min(int((c + 0.5) * tw / fw), tw - 1), int(lab))
            for r, c, lab in seeds]


def segment(image: Any, method: str, *, seeds: Any = None, progress: Callable | None = None,
            **params: Any) -> Segmentation:
    """Segment ``image`` with a registered method.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
        ``C`` is 1 or 3; a 2-D array is taken as one channel.
    method : str
        A name from :func:`list_methods`.
    seeds : list of (row, col, label) or (H, W) int ndarray, optional
        For methods that take seeds; ``0`` in a marker image means no seed.
    progress : callable, optional
        ``progress(fraction)`` for slow methods that report progress.
    **params
        The method's parameters; missing ones take their defaults.

    Returns
    -------
    Segmentation

    Raises
    ------
    ValueError
        Unknown method or parameter, a value out of range, bad seeds or image.

    Examples
    --------
    >>> img = np.zeros((16, 16, 1), np.float32); img[:, 8:] = 1
    >>> seg = segment(img, "threshold", algorithm="otsu")
    >>> seg.n_regions, seg.method, seg.params["algorithm"]
    (2, 'threshold', 'otsu')
    """
    spec = get_method(method)
    img = check_image(image)
    resolved = spec.resolve(params)
    kwargs = dict(resolved)
    if spec.takes_seeds:
        markers = None if seeds is None else as_markers(seeds, img.shape[:2])
        if markers is not None and not markers.any():
            markers = None
        if markers is None and spec.seeds == "required":
            raise ValueError(f"method {spec.name!r} needs at least one seed")
        kwargs["seeds"] = markers
    elif seeds is not None:
        raise ValueError(f"method {spec.name!r} does not take seeds")
    if progress is not None and "progress" in inspect.signature(spec.func).parameters:
        kwargs["progress"] = progress
    start = time.perf_counter()
    result = spec.func(img, **kwargs)
    elapsed = time.perf_counter() - start
    labels = np.ascontiguousarray(result.labels, dtype=np.int32)
    probs = result.probabilities
    if probs is not None:
        probs = np.ascontiguousarray(probs, dtype=np.float32)
    return dataclasses.replace(result, labels=labels, probabilities=probs, method=spec.name,
                               params=resolved, elapsed_s=elapsed)
