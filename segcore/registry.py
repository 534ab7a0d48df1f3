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
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

from segcore import _parallel

__all__ = [
    "OFFERS",
    "FileChoice",
    "Param",
    "format_value",
    "MethodSpec",
    "Segmentation",
    "register",
    "list_methods",
    "get_method",
    "segment",
    "as_markers",
    "scale_seeds",
    "check_image",
    "label_values",
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
        Method-specific results: thresholds, centres, EM history, ... (the keys a
        method offers are listed in its spec's ``offers``, see :data:`OFFERS`).
    notes : tuple of str
        Plain-words facts about this result the method wants a person to read
        (the threshold it picked, the model it chose, what that model's card measured).
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
    notes: tuple = ()
    elapsed_s: float = 0.0
    # (labels array, its values), for labels that cannot change (see label_values)
    _values: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def label_values(self) -> np.ndarray:
        """The distinct labels, sorted (:func:`label_values`). Worked out once for
        read-only labels (a result the app keeps and shows on every rerun asks for
        them three times, 4 ms each at 1 MP); always afresh for labels that can change.

        Examples
        --------
        >>> Segmentation(labels=np.array([[0, 5], [2, 2]], np.int32)).label_values.tolist()
        [0, 2, 5]
        """
        kept = self._values
        if kept is not None and kept[0] is self.labels and not self.labels.flags.writeable:
            return kept[1]
        values = label_values(self.labels)
        if not self.labels.flags.writeable:
            values.flags.writeable = False
            object.__setattr__(self, "_values", (self.labels, values))  # a frozen dataclass
        return values

    @property
    def n_regions(self) -> int:
        """Number of distinct non-zero labels."""
        return int(np.count_nonzero(self.label_values))


def label_values(labels: np.ndarray) -> np.ndarray:
    """The distinct values of a label image, sorted: ``np.unique(labels)``.

    Labels are small non-negative integers, so counting them (one pass) answers
    what ``np.unique`` answers by sorting every pixel: 4 ms instead of 15 ms at
    1 MP, on every rerun of a page that shows a result.

    Examples
    --------
    >>> label_values(np.array([[3, 0], [3, 7]], np.int32)).tolist()
    [0, 3, 7]
    >>> label_values(np.array([-1, 2])).tolist()
    [-1, 2]
    """
    labels = np.asarray(labels)
    if labels.dtype.kind in "iub" and labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low >= 0 and high <= 4 * labels.size + 1024:
            return np.flatnonzero(np.bincount(labels.ravel().astype(np.intp, copy=False)))\
                .astype(labels.dtype)
    return np.unique(labels)


@dataclass(frozen=True)
class FileChoice:
    """A choice parameter that also takes a file the user brings (their own model).

    The app offers ``"your own file…"`` beside the listed choices and saves the
    upload (with an optional ``companion`` file of the same stem, such as a
    checkpoint's card) to a private folder; the saved path becomes the value.

    Examples
    --------
    >>> FileChoice("Checkpoint", ("pt",)).types
    ('pt',)
    """

    label: str
    types: tuple[str, ...]
    help: str = ""
    companion_label: str = ""
    companion_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Param:
    """One parameter of a method, declared as data.

    ``label`` is the short human name the app shows on the widget; the code
    ``name`` stays in the help text, the CLI's ``--set name=value`` and exported
    scripts. ``kind`` is ``"int"``, ``"float"``, ``"choice"`` or ``"bool"``.
    Numbers live in ``[low, high]``; ``log`` asks the UI for a logarithmic
    slider; ``step`` is the slider step. A ``choice`` takes one of ``choices``;
    with ``file`` set it also takes the path of an existing file (a user's own
    model checkpoint). ``groups`` names subsets of the choices (``(("global",
    (...)),)``). ``when=(name, values)`` says the parameter only matters while
    the choice parameter ``name`` has one of ``values`` (the app hides it otherwise).

    Examples
    --------
    >>> p = Param("k", "int", 3, label="Clusters", low=2, high=12, help="Number of clusters.")
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
    label: str = ""
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    log: bool = False
    help: str = ""
    file: FileChoice | None = None
    when: tuple | None = None
    groups: tuple = ()

    def __post_init__(self) -> None:
        if not self.label:
            raise ValueError(f"Param {self.name!r}: give it a short human label for the app")
        if self.kind not in ("int", "float", "choice", "bool"):
            raise ValueError(f"Param {self.name!r}: unknown kind {self.kind!r}")
        if self.kind in ("int", "float") and (self.low is None or self.high is None):
            raise ValueError(f"Param {self.name!r}: numeric params need low and high")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Param {self.name!r}: a choice needs choices")
        if self.log and (self.low is None or self.low <= 0):
            raise ValueError(f"Param {self.name!r}: a log scale needs low > 0")
        for group, members in self.groups:
            if not set(members) <= set(self.choices):
                raise ValueError(f"Param {self.name!r}: group {group!r} names values that are "
                                 "not among its choices")
        # The default must itself be valid: a spec that contradicts itself is a bug.
        self.validate(self.default)

    def group(self, name: str) -> tuple:
        """The choices in the group called ``name``.

        Examples
        --------
        >>> Param("a", "choice", "x", label="A", choices=("x", "y", "z"),
        ...       groups=(("late", ("y", "z")),)).group("late")
        ('y', 'z')
        """
        for group, members in self.groups:
            if group == name:
                return tuple(members)
        raise KeyError(f"parameter {self.name!r} has no group {name!r}")

    def grid(self, n: int = 49) -> list:
        """Values for a slider over a log-scale parameter: a geometric grid from
        ``low`` to ``high``, rounded to three significant digits, with the default.

        Examples
        --------
        >>> p = Param("n", "int", 100, label="N", low=10, high=1000, log=True)
        >>> g = p.grid(5)
        >>> g[0], g[-1], 100 in g
        (10, 1000, True)
        """
        raw = np.geomspace(self.low, self.high, n)
        if self.kind == "int":
            values = {int(round(v)) for v in raw} | {int(self.low), int(self.high),
                                                     int(self.default)}
        else:
            values = {float(f"{v:.3g}") for v in raw} | {float(self.low), float(self.high),
                                                         float(self.default)}
        return sorted(v for v in values if self.low <= v <= self.high)

    def slider_step(self) -> float:
        """The step of a slider over this number: ``step``, or about a hundredth
        of the range, rounded down to a power of ten.

        Examples
        --------
        >>> Param("a", "float", 0.5, label="A", low=0.0, high=1.0).slider_step()
        0.01
        """
        if self.step:
            return float(self.step)
        span = self.high - self.low
        return 10.0 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01

    def validate(self, value: Any) -> Any:
        """Coerce ``value`` to this parameter's kind and check its range.

        Strings are accepted (the CLI passes ``--set k=4``). Raises ``ValueError``
        naming what is valid, whatever arrives (``None``, text, an array, NaN, a
        number too large for a float).
        """
        name = self.name
        shown = _shown(value)
        if self.kind == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
            elif isinstance(value, (bool, np.bool_)):
                return bool(value)
            elif isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
                return bool(value)
            raise ValueError(f"parameter {name!r} must be true or false, got {shown}")
        if self.kind == "choice":
            if not isinstance(value, (bool, np.bool_, np.ndarray)):
                for c in self.choices:
                    try:
                        if value == c:
                            return c
                    except Exception:  # an object that cannot be compared is no choice
                        break
            try:
                text = str(value)
            except Exception:  # str() of an int past 4300 digits refuses
                text = None
            if text is not None and not isinstance(value, (bool, np.bool_, np.ndarray)):
                for c in self.choices:
                    if str(c) == text:
                        return c
                if self.file is not None and isinstance(value, (str, os.PathLike)) \
                        and _is_file(text):
                    return text
            extra = " or the path of an existing file" if self.file is not None else ""
            raise ValueError(
                f"parameter {name!r} must be one of {', '.join(map(str, self.choices))}{extra}; "
                f"got {shown}"
            )
        # numeric
        lo, hi = _fmt(self.low), _fmt(self.high)
        try:
            if isinstance(value, (bool, np.bool_, bytes, bytearray)) or (
                    isinstance(value, np.ndarray) and value.ndim > 0):
                raise TypeError
            number = float(value)
        except OverflowError:  # a whole number too large for a float
            raise ValueError(f"parameter {name!r} must be between {lo} and {hi}, "
                             f"got {shown}") from None
        except (TypeError, ValueError):
            raise ValueError(f"parameter {name!r} must be a number, got {shown}") from None
        if not math.isfinite(number):
            raise ValueError(f"parameter {name!r} must be a finite number, got {shown}")
        if self.kind == "int":
            if number != int(number):
                raise ValueError(f"parameter {name!r} must be a whole number, got {shown}")
            number = int(number)
        if not (self.low <= number <= self.high):
            raise ValueError(f"parameter {name!r} must be between {lo} and {hi}, got {shown}")
        return number


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (whatever a user typed
    can be long, and an int past 4300 digits has no repr at all)."""
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__} that cannot be shown"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _is_file(text: str) -> bool:
    """Whether ``text`` names an existing file; ``False`` for anything that cannot be a
    path here (too long, an unknown ``~user``, a NUL byte)."""
    try:
        return Path(text).expanduser().is_file()
    except (OSError, RuntimeError, ValueError):
        return False


def format_value(value: Any) -> str:
    """A parameter value as a person reads it.

    Examples
    --------
    >>> format_value(0.123456), format_value(12000.0), format_value("lab")
    ('0.1235', '1.2e+04', 'lab')
    """
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000 or abs(value) < 0.001:
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


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
    offers : tuple of str
        What its results hold beyond labels, from :data:`OFFERS` (pages ask this
        instead of testing method names; the contract test checks it).
    settings_notes : callable or None
        ``settings_notes(image, params) -> list[str]``: what these settings will do,
        in plain words, before the method runs (the classes of the chosen model);
        raises ``ValueError`` where they cannot run.

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
    offers: tuple[str, ...] = ()
    settings_notes: Callable[[np.ndarray, dict], list] | None = dataclasses.field(
        default=None, repr=False, compare=False)

    @property
    def takes_seeds(self) -> bool:
        return self.seeds != "none"

    @property
    def reports_progress(self) -> bool:
        """Whether the method calls ``progress(fraction)`` while it runs (so a long
        run can show how far it is, and be stopped between two calls)."""
        return "progress" in inspect.signature(self.func).parameters

    def describe_settings(self, image: np.ndarray, params: dict) -> list[str]:
        """Plain-words notes on what ``params`` will do on ``image``, before running;
        ``ValueError`` in words where they cannot run.

        Examples
        --------
        >>> get_method("kmeans").describe_settings(np.zeros((4, 4, 1), np.float32), {})
        []
        """
        if self.settings_notes is None:
            return []
        return list(self.settings_notes(check_image(image), self.resolve(params)))

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

#: What a method's results may hold beyond labels, and where. A spec's ``offers``
#: names these; pages and figures ask for them instead of a method's name.
OFFERS = {
    "thresholds": "extras['thresholds']: gray value(s) where the method cut the histogram "
                  "(with extras['threshold_map'] a threshold per pixel, local thresholds)",
    "centres": "extras['centres'] (k, F) in the feature space extras['features']",
    "mixture": "extras['weights'], ['means'], ['covariances'] of Gaussians in extras['features']",
    "history": "extras['history']: the state at every iteration, for stepping through",
    "probabilities": "probabilities (H, W, K): how sure the method is of each label",
    "classes": "extras['classes']: names of labels 1..K",
    "model_card": "extras['card_metrics']: what the model's card measured on held-out data",
}


def register(
    name: str,
    *,
    label: str,
    params: Sequence[Param] = (),
    seeds: SeedUse = "none",
    gray_only: bool = False,
    description: str | None = None,
    offers: Sequence[str] = (),
    settings_notes: Callable[[np.ndarray, dict], list] | None = None,
):
    """Add a method to the registry.

    The decorated function is returned wrapped so that calling it directly goes
    through :func:`segment` too (validation, defaults, timing). The description
    defaults to the first paragraph of the function's docstring.

    Examples
    --------
    >>> @register("doc_example_invert", label="Inverted halves", params=(
    ...     Param("level", "float", 0.5, label="Level", low=0.0, high=1.0),))
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
            offers=tuple(offers),
            settings_notes=settings_notes,
        )
        unknown = sorted(set(spec.offers) - set(OFFERS))
        if unknown:
            raise ValueError(f"method {name!r} offers {unknown}; known offers: {', '.join(OFFERS)}")
        _REGISTRY[name] = spec

        @functools.wraps(func)
        def wrapper(image, *, seeds=None, progress=None, **kwargs):
            return segment(image, name, seeds=seeds, progress=progress, **kwargs)

        wrapper.spec = spec
        return wrapper

    return decorate


@functools.cache  # once per process; a failed import is retried on the next call
def _load_builtin_methods() -> None:
    # Import every module of segcore.methods; each registers its methods on import.
    # Found in the folder, not listed: a new file registers itself. The families in
    # segcore.methods.ORDER come first (the app's order), the rest alphabetically.
    import importlib
    import pkgutil

    import segcore.methods as package

    found = {info.name for info in pkgutil.iter_modules(package.__path__)
             if not info.name.startswith("_")}
    order = tuple(getattr(package, "ORDER", ()))
    names = [n for n in order if n in found] + sorted(found.difference(order))
    for name in names:
        importlib.import_module(f"{package.__name__}.{name}")
    # A method module imported earlier on its own (`from segcore.methods.clustering import
    # ...`) registered out of turn: put the built-ins back in this order, the rest after.
    rank = {f"{package.__name__}.{name}": i for i, name in enumerate(names)}
    specs = sorted(_REGISTRY.values(), key=lambda s: rank.get(s.func.__module__, len(rank)))
    _REGISTRY.clear()
    _REGISTRY.update((s.name, s) for s in specs)


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
    try:
        arr = np.asarray(image)
    except (TypeError, ValueError):  # ragged nested lists and the like
        raise ValueError(f"image must be an array of shape (H, W) or (H, W, C), got "
                         f"{type(image).__name__} that is not one") from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise ValueError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        h, w = arr.shape[:2]
        if h < 2 and w < 2:
            size = f"{h}x{w} pixels"
        elif h < 2:
            size = f"{h} pixel{'' if h == 1 else 's'} tall ({w} wide)"
        else:
            size = f"{w} pixel{'' if w == 1 else 's'} wide ({h} tall)"
        raise ValueError(f"the image is {size}; segmenting needs at least 2x2 pixels, "
                         "so use a larger image")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"image must be float with values in [0, 1], got {arr.dtype}; "
            "use segcore.load_image to convert"
        )
    flat = arr.reshape(-1)
    if _within_unit_bits(flat):
        return np.ascontiguousarray(arr, dtype=np.float32)
    # Not all in [+0, 1] by their bits: find the ends for the message (and let -0.0 pass).
    # Two passes, not three: a NaN makes min and max NaN, an infinity makes one infinite;
    # on a large image both run on every core, a block of rows each.

    def ends_of(rows):  # both ends of each cache-sized piece while it is in the cache
        step = 1 << 18
        pieces = [flat[i:min(i + step, rows.stop)] for i in range(rows.start, rows.stop, step)]
        return min(p.min() for p in pieces), max(p.max() for p in pieces)
    ends = np.array(_parallel.run(ends_of, flat.size))
    low, high = float(ends[:, 0].min()), float(ends[:, 1].max())
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(
            f"the image contains NaN (not-a-number) or infinite values at {bad:,} of its "
            f"{arr.size:,} values; an image needs numbers in [0, 1] everywhere "
            "(segcore.load_image refuses such files with a message)")
    if low < 0 or high > 1:
        raise ValueError(
            f"image values must lie in [0, 1], got [{low:g}, {high:g}]; "
            "use segcore.load_image to convert"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


#: Each float type's same-sized unsigned type and the bits of 1.0 in it.
_ONE_BITS = {np.dtype(np.float16): (np.uint16, 0x3C00),
             np.dtype(np.float32): (np.uint32, 0x3F800000),
             np.dtype(np.float64): (np.uint64, 0x3FF0000000000000)}


def _within_unit_bits(flat: np.ndarray) -> bool:
    """Whether every value of a 1-D float array lies in [+0, 1], in one pass: read as
    unsigned integers of the same size, IEEE floats from +0 up to 1.0 are exactly the
    numbers from 0 up to the bits of 1.0, and a negative number (its sign bit set), an
    infinity or a NaN (all exponent bits set) reads as more. One maximum per piece
    instead of a minimum and a maximum: half of check_image's time (1 MP: 0.95 ms)."""
    bits = _ONE_BITS.get(flat.dtype)
    if bits is None or flat.size == 0:
        return False
    unsigned, one = bits
    view = flat.view(unsigned)

    def top_of(rows):  # the largest of each cache-sized piece while it is in the cache
        step = 1 << 18
        return max(view[i:min(i + step, rows.stop)].max()
                   for i in range(rows.start, rows.stop, step))
    # A maximum reads 10-20 GB/s on one core: below 6M values (a 2 MP colour image)
    # handing half to another thread costs more than it saves (0.25 MP: 0.1 ms on one
    # core, 0.3 ms on two; 4 MP: 3.0 ms on one, 2.0 ms on two).
    return int(max(_parallel.run(top_of, view.size,
                                 min_values=12 * _parallel.MIN_ROWS))) <= one


def as_markers(seeds: Any, shape: tuple[int, int]) -> np.ndarray:
    """Turn seeds into an ``int32 (H, W)`` marker image (``0`` = no seed).

    ``seeds`` is either a marker image of that shape or a sequence of
    ``(row, col, label)`` whole numbers with ``label`` from 1 to
    :data:`MAX_SEED_LABEL`; where two seeds share a pixel the later one wins.
    Anything else raises ``ValueError`` saying what a seed must be.

    Examples
    --------
    >>> as_markers([(0, 1, 2)], (2, 3))
    array([[0, 2, 0],
           [0, 0, 0]], dtype=int32)
    >>> as_markers([(0, 1.5, 2)], (2, 3))
    Traceback (most recent call last):
    ...
    ValueError: each seed must be three whole numbers (row, col, label), got (0, 1.5, 2)
    """
    h, w = shape
    if isinstance(seeds, np.ndarray) and seeds.ndim == 2:
        if seeds.shape != (h, w):
            points = (" (seed points go in a list of (row, col, label))"
                      if seeds.shape[1] == 3 else "")
            raise ValueError(f"seed marker image must have shape {(h, w)}, got "
                             f"{seeds.shape}{points}")
        if seeds.dtype.kind not in "biuf":
            raise ValueError(f"seed marker image must hold whole-number labels, got {seeds.dtype}")
        if seeds.dtype.kind == "f":
            finite = np.isfinite(seeds)
            if not finite.all() or not np.all(seeds == np.round(seeds)):
                raise ValueError("seed marker image must hold whole-number labels")
        if seeds.size and seeds.min() < 0:
            raise ValueError("seed labels must be >= 1 (0 means no seed)")
        if seeds.size and seeds.max() > MAX_SEED_LABEL:
            raise ValueError(f"seed labels must be at most {MAX_SEED_LABEL:,}, got "
                             f"{_shown(seeds.max().item())}")
        return seeds.astype(np.int32)
    markers = np.zeros((h, w), np.int32)
    if isinstance(seeds, (str, bytes, bytearray, dict)):
        items = None
    else:
        try:
            items = list(seeds)
        except TypeError:
            items = None
    if items is None:
        raise ValueError("seeds must be a list of (row, col, label) or an (H, W) marker image, "
                         f"got {_shown(seeds)}")
    for item in items:
        point = _seed_point(item)
        if point is None:
            raise ValueError("each seed must be three whole numbers (row, col, label), "
                             f"got {_shown(item)}")
        r, c, lab = point
        if not (0 <= r < h and 0 <= c < w):
            raise ValueError(f"seed ({r}, {c}) lies outside the {h}x{w} image: rows go from 0 "
                             f"to {h - 1}, columns from 0 to {w - 1}")
        if lab < 1:
            raise ValueError(f"seed labels must be >= 1 (0 means no seed), got {lab}")
        if lab > MAX_SEED_LABEL:
            raise ValueError(f"seed labels must be at most {MAX_SEED_LABEL:,}, got {_shown(lab)}")
        markers[r, c] = lab
    return markers


#: The highest seed label a marker image can hold (``int32``).
MAX_SEED_LABEL = 2**31 - 1


def _seed_point(item: Any) -> tuple[int, int, int] | None:
    """``(row, col, label)`` as Python ints, or ``None`` where ``item`` is not three
    whole numbers (text, ``None``, NaN, 1.5, a pair, a bool)."""
    if isinstance(item, (str, bytes, bytearray, dict)):
        return None
    try:
        values = list(item)
    except TypeError:
        return None
    if len(values) != 3:
        return None
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(
                v, (int, float, np.integer, np.floating)):
            return None
        if isinstance(v, (int, np.integer)):
            out.append(int(v))
            continue
        if not math.isfinite(v) or v != round(v):
            return None
        out.append(int(v))
    return out[0], out[1], out[2]


def scale_seeds(seeds, from_shape: tuple[int, int], to_shape: tuple[int, int]) -> list[tuple[int, int, int]]:
    """Seeds ``(row, col, label)`` moved from an image of one size to another
    (a preview and the full image, or the picture on screen).

    Examples
    --------
    >>> scale_seeds([(99, 199, 2)], (100, 200), (50, 100))
    [(49, 99, 2)]
    """
    from segcore.io import scale_index

    seeds = list(seeds)
    if not seeds:
        return []
    rows, cols, labs = (np.asarray(v) for v in zip(*seeds))
    rows = scale_index(rows, from_shape[0], to_shape[0])
    cols = scale_index(cols, from_shape[1], to_shape[1])
    return [(int(r), int(c), int(lab)) for r, c, lab in zip(rows, cols, labs)]


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
        ``progress(fraction)``, called by methods that report progress (see
        ``MethodSpec.reports_progress``) as they go; an exception it raises stops
        the run and propagates (that is how a page cancels a long run).
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
    if progress is not None and spec.reports_progress:
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
