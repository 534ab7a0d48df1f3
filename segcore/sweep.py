"""Try-all: one method run over a grid of one or two of its parameters on one image.

:func:`default_grid` picks the values (a parameter's range from its spec, log-spaced
where the spec says ``log``, every choice of a choice), :func:`sweep` runs every
setting and, given the truth, scores each one and picks the best. A setting that
cannot run is a result that says why, not a crash. :func:`marks` says where the
method's automatic choices land on the swept axis (the threshold each of Otsu, Li,
... picks on the manual threshold's axis, and the method's default), so a curve of
IoU against the parameter can show them. :func:`candidates` is the other shape of
sweep: every parameter in turn from the defaults (the Class challenge's).

>>> from segcore import synthetic
>>> s = synthetic.two_regions((24, 24))
>>> found = sweep(s.image, "threshold", default_grid("threshold"), truth=s.truth)
>>> found.axes["level"][:3], found.best.params["level"], found.best.score
((0.0, 0.12, 0.25), 0.25, 1.0)
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from segcore import metrics
from segcore.color import to_gray
from segcore.registry import MethodSpec, Param, check_image, get_method, segment

__all__ = ["FIXED", "METRICS", "CHOSEN_BY", "Grid", "Outcome", "Sweep", "Mark", "values",
           "default_grid", "candidates", "measure", "run", "sweep", "marks"]

#: Parameters a sweep leaves at their defaults unless asked for by name: randomness,
#: iteration caps and tiling change how a method runs, not the answer one would tune.
FIXED = ("rng", "max_iter", "tile")
#: The scores a sweep can rank by (means over classes after Hungarian matching, as
#: :func:`segcore.metrics.score` gives them, and :func:`segcore.metrics.boundary_f1`).
METRICS = ("iou", "dice", "precision", "recall", "accuracy", "boundary_f1")
#: Axes on which other choices of a method land:
#: ``{(method, parameter): (chooser, choices)}``. Each of these ``choices`` of the
#: choice parameter ``chooser`` picks one value of ``parameter`` itself (its
#: ``extras["thresholds"]``), and lands on that axis there: Otsu, Li, ... on the
#: threshold method's manual ``level`` (the global algorithms of
#: :mod:`segcore.methods.threshold`; multi-Otsu picks several, local ones a map).
CHOSEN_BY = {("threshold", "level"): ("algorithm", ("otsu", "li", "yen", "triangle", "isodata",
                                                    "mean", "minimum"))}
#: Parameters every later step of a method depends on (the blur, the colour space):
#: a sweep changes them slowest, so a method that keeps its blurred image between
#: calls (the watershed, segcore._memo) computes it once per value.
_UPSTREAM = ("sigma", "space")


@dataclass(frozen=True)
class Grid:
    """The settings a sweep tries: the product of the ``axes`` (one or two parameters,
    the first changing slowest), over the ``fixed`` settings the axes need to matter
    (a manual threshold's ``level`` needs ``algorithm='manual'``).

    Examples
    --------
    >>> g = Grid({"level": (0.25, 0.5)}, {"algorithm": "manual"})
    >>> g.settings()
    [{'algorithm': 'manual', 'level': 0.25}, {'algorithm': 'manual', 'level': 0.5}]
    """

    axes: dict
    fixed: dict = field(default_factory=dict)

    def settings(self) -> list[dict]:
        """Every setting of the grid in order (the first axis changing slowest)."""
        names = list(self.axes)
        return [{**self.fixed, **dict(zip(names, combo))}
                for combo in itertools.product(*(self.axes[n] for n in names))]


@dataclass(frozen=True)
class Outcome:
    """One setting run: its labels and run time, its scores against the truth when
    there is one, or why it could not run (``error``, with ``labels`` ``None``).

    Attributes
    ----------
    params : dict
        The full resolved settings.
    labels : (H, W) int32 ndarray or None
        ``None`` when the setting failed or the sweep was asked not to keep labels.
    seconds : float
        Wall-clock seconds of the method's run (0 for a failed setting).
    n_regions : int
    scores : dict or None
        ``iou``, ``dice``, ``precision``, ``recall``, ``accuracy`` (and
        ``boundary_f1`` when that is the metric); ``None`` without truth.
    metric : str
        Which score is the headline (:attr:`score`).
    error : str
        Why the setting could not run; empty when it ran.

    Examples
    --------
    >>> Outcome({"k": 2}, None, 0.0, 0, None, "iou", "lower k").ok
    False
    >>> Outcome({"k": 2}, None, 0.1, 2, {"iou": 0.8}, "iou").score
    0.8
    """

    params: dict
    labels: np.ndarray | None
    seconds: float
    n_regions: int = 0
    scores: dict | None = None
    metric: str = "iou"
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the setting ran."""
        return not self.error

    @property
    def score(self) -> float | None:
        """The headline score, ``None`` without truth or when the setting failed."""
        return None if self.scores is None else self.scores[self.metric]


@dataclass(frozen=True)
class Sweep:
    """What :func:`sweep` tried, in grid order, and whether it tried everything.

    Attributes
    ----------
    method : str
    axes : dict
        The swept parameters and their values (the first changing slowest).
    outcomes : tuple of Outcome
        One per setting run, in grid order.
    metric : str or None
        The headline score (``None`` without truth).
    elapsed_s : float
    complete : bool
        ``False`` when the time budget ended the sweep early.

    Examples
    --------
    >>> a = Outcome({"k": 2}, None, 0.1, 2, {"iou": 0.5}, "iou")
    >>> b = Outcome({"k": 3}, None, 0.1, 3, {"iou": 0.75}, "iou")
    >>> found = Sweep("kmeans", {"k": (2, 3)}, (a, b), "iou", 0.2, True)
    >>> found.best.params, found.score_grid().tolist()
    ({'k': 3}, [0.5, 0.75])
    """

    method: str
    axes: dict
    outcomes: tuple[Outcome, ...]
    metric: str | None
    elapsed_s: float
    complete: bool

    @property
    def best(self) -> Outcome | None:
        """The outcome with the highest score (the first of equals); ``None``
        without truth or when no setting ran."""
        scored = [o for o in self.outcomes if o.score is not None]
        return max(scored, key=lambda o: o.score) if scored else None

    def score_grid(self, metric: str | None = None) -> np.ndarray:
        """Scores laid out on the axes, ``(n,)`` or ``(n1, n2)`` float, NaN where a
        setting failed or did not run (for a curve or a heat map)."""
        metric = metric or self.metric
        names = list(self.axes)
        out = np.full([len(self.axes[n]) for n in names], np.nan)
        if metric is None:
            return out
        index = [{_key(v): i for i, v in enumerate(self.axes[n])} for n in names]
        for o in self.outcomes:
            if o.scores is not None and metric in o.scores:
                out[tuple(ix[_key(o.params[n])] for ix, n in zip(index, names))] = o.scores[metric]
        return out


@dataclass(frozen=True)
class Mark:
    """Where one automatic choice lands on a swept axis.

    Attributes
    ----------
    name : str
        ``"default"`` for the method's defaults, else the choice (``"otsu"``).
    value : float or None
        The position on the axis; ``None`` when the choice had no answer here.
        A setting of the parameter itself (the default ``k``) has its place even
        when it cannot run; ``error`` then says why.
    params : dict
        The settings that land there (to adopt them).
    scores : dict or None
        Against the truth, when given.
    error : str
        Why the choice had no answer.

    Examples
    --------
    >>> Mark("otsu", 0.42, {"algorithm": "otsu"}).value
    0.42
    """

    name: str
    value: Any
    params: dict
    scores: dict | None = None
    error: str = ""


def _key(value: Any) -> str:
    return repr(value)


def values(param: Param, points: int = 9) -> list:
    """The values a sweep takes over one parameter: ``points`` across its range
    (geometric where the spec says ``log``, else even steps snapped to the slider's
    step; every whole number of a short integer range), every choice of a choice,
    both of a bool, always with the default and both ends. A point inside the range
    closer to the default than a quarter of the spacing gives way to it (no tile 0.17
    beside 0.178).

    Examples
    --------
    >>> values(Param("a", "float", 0.5, label="A", low=0.0, high=1.0), 5)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> values(Param("n", "int", 100, label="N", low=10, high=1000, log=True), 3)
    [10, 100, 1000]
    >>> values(Param("w", "int", 31, label="W", low=3, high=301, step=2), 4)
    [3, 31, 103, 201, 301]
    >>> values(Param("c", "float", 0.17, label="C", low=0.001, high=1.0, log=True), 4)
    [0.001, 0.01, 0.17, 1.0]
    >>> values(Param("a", "float", 0.52, label="A", low=0.0, high=1.0), 5)
    [0.0, 0.25, 0.52, 0.75, 1.0]
    """
    if points < 2:
        raise ValueError(f"a sweep needs at least 2 points per parameter, got {points}")
    if param.kind == "bool":
        return [False, True]
    if param.kind == "choice":
        return list(param.choices)
    if param.log:
        grid = param.grid(points)
    elif param.kind == "int" and param.high - param.low < 2 * points:
        grid = list(range(int(param.low), int(param.high) + 1))
    else:
        # Snapped to low + a whole number of steps: an odd-only window stays odd.
        step = param.slider_step()
        grid = [round(param.low + round((v - param.low) / step) * step, 10)
                for v in np.linspace(param.low, param.high, points)]
        grid = [int(v) for v in grid] if param.kind == "int" else grid
    if param.log:
        spacing = math.log(param.high / param.low) / (points - 1)
        apart = [abs(math.log(v / param.default)) for v in grid]
    else:
        spacing = (param.high - param.low) / (points - 1)
        apart = [abs(v - param.default) for v in grid]
    kept = {v for v, d in zip(grid, apart)
            if param.low <= v <= param.high
            and (d == 0 or d >= spacing / 4 or v in (param.low, param.high))}
    return sorted(kept | {param.default})


def _main_param(spec: MethodSpec) -> Param:
    free = [p for p in spec.params if p.name not in FIXED]
    for p in free:
        if p.kind in ("int", "float"):
            return p
    if free:
        return free[0]
    raise ValueError(f"method {spec.name!r} has no parameter to sweep")


def default_grid(method: str, params: str | Sequence[str] | None = None, *,
                 points: int = 9) -> Grid:
    """A grid over one or two parameters of ``method`` with sensible values.

    Parameters
    ----------
    method : str
    params : str or sequence of one or two str, optional
        The parameters to sweep; by default the method's first number that is
        not randomness, an iteration cap or tiling (:data:`FIXED`), or its first
        choice when it has no number.
    points : int
        Values per numeric parameter (see :func:`values`; the default is always
        among them).

    Returns
    -------
    Grid
        With ``fixed`` holding the choice a parameter needs to matter (its
        ``Param.when``): sweeping a manual threshold's ``level`` fixes
        ``algorithm='manual'``.

    Raises
    ------
    ValueError
        For an unknown parameter, more than two, or two that need different values
        of the same choice to matter.

    Examples
    --------
    >>> default_grid("kmeans").axes
    {'k': (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)}
    >>> g = default_grid("threshold", "level", points=5)
    >>> g.fixed, g.axes
    ({'algorithm': 'manual'}, {'level': (0.0, 0.25, 0.5, 0.75, 1.0)})
    >>> default_grid("watershed", ["sigma", "h"], points=3).axes["h"]
    (0.001, 0.0224, 0.1, 0.5)
    """
    spec = get_method(method)
    if params is None:
        names = [_main_param(spec).name]
    else:
        names = [params] if isinstance(params, str) else list(params)
    if not 1 <= len(names) <= 2 or len(set(names)) != len(names):
        raise ValueError(f"a sweep takes one or two different parameters, got {names}")
    chosen = [_param(spec, n) for n in names]
    return Grid({p.name: tuple(values(p, points)) for p in chosen},
                _needs(spec, names, spec.defaults()))


def _needs(spec: MethodSpec, names: Sequence[str], current: Mapping[str, Any]) -> dict:
    """The choices the parameters ``names`` need to matter that ``current`` lacks."""
    wanted: dict = {}
    for name in names:
        when = spec.param(name).when
        if when is None or when[0] in names:
            continue  # the choice it needs is an axis too: every pairing is tried
        other, allowed = when
        common = [v for v in wanted.get(other, allowed) if v in allowed]
        if not common:
            raise ValueError(f"{names[0]!r} and {names[1]!r} matter for different values of "
                             f"{other!r} and cannot be swept together")
        wanted[other] = common
    return {k: v[0] for k, v in wanted.items() if current.get(k) not in v}


def _param(spec: MethodSpec, name: str) -> Param:
    try:
        return spec.param(name)
    except KeyError:
        valid = ", ".join(p.name for p in spec.params) or "none"
        raise ValueError(f"method {spec.name!r} has no parameter {name!r}; valid parameters: "
                         f"{valid}") from None


def candidates(method: str, *, points: int = 9) -> list[dict]:
    """Settings that vary one parameter at a time: the defaults first, then each
    parameter over its :func:`values` (every choice of a choice), with the choice
    that makes it matter set where it needs one (a manual threshold's level with
    the algorithm ``manual``). :data:`FIXED` parameters stay at their defaults.

    Examples
    --------
    >>> settings = candidates("threshold")
    >>> settings[0]["algorithm"], {"algorithm": "manual", "level": 0.25} in [
    ...     {k: s[k] for k in ("algorithm", "level")} for s in settings]
    ('otsu', True)
    """
    spec = get_method(method)
    base = spec.defaults()
    out = [base]
    for p in spec.params:
        if p.name in FIXED:
            continue
        where = [{}] if p.when is None else [{p.when[0]: v} for v in p.when[1]]
        for context in where:
            out.extend({**base, **context, p.name: v} for v in values(p, points))
    seen, result = set(), []
    for setting in out:
        key = tuple(sorted((k, _key(v)) for k, v in setting.items()))
        if key not in seen:
            seen.add(key)
            result.append(setting)
    return result


def measure(labels: np.ndarray, truth: np.ndarray, *, metric: str = "iou",
            ignore: int | None = None) -> dict:
    """The scores of ``labels`` against ``truth``: mean ``iou``, ``dice``,
    ``precision``, ``recall`` and pixel ``accuracy`` after Hungarian matching
    (:func:`segcore.metrics.score`), and ``boundary_f1`` when it is the ``metric``.

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2]] * 4)
    >>> measure(truth + 5, truth)["iou"], measure(truth, truth, metric="boundary_f1")["boundary_f1"]
    (1.0, 1.0)
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    result = metrics.score(labels, truth, match="hungarian", ignore=ignore)
    scores = {k: result[k] for k in ("iou", "dice", "precision", "recall", "accuracy")}
    if metric == "boundary_f1":
        scores["boundary_f1"] = metrics.boundary_f1(labels, truth, ignore=ignore)["f1"]
    return scores


def run(image: np.ndarray, method: str, params: Mapping[str, Any] | None = None, *,
        seeds: Any = None, truth: np.ndarray | None = None, ignore: int | None = None,
        metric: str = "iou", keep_labels: bool = True) -> Outcome:
    """Run one setting and score it; a setting that cannot run comes back with its
    reason (``error``) instead of raising.

    ``seeds`` go to methods that take them and are left out for the others.

    Raises
    ------
    ValueError
        For an unknown method or parameter, or a value out of its range: the
        caller's mistake, not the setting's.

    Examples
    --------
    >>> img = np.zeros((8, 8, 1), np.float32); img[:, 4:] = 1
    >>> run(img, "kmeans", {"k": 3}).error
    'the image has fewer than 3 distinct colours; lower k'
    >>> run(img, "kmeans", {"k": 2}, truth=(img[:, :, 0] > 0).astype(int)).score
    1.0
    """
    spec = get_method(method)
    kwargs = dict(params or {})
    if spec.takes_seeds and seeds is not None:
        kwargs["seeds"] = seeds
    try:
        seg = segment(image, method, **kwargs)
    except Exception as err:  # a setting that cannot run is a result of the sweep, not a crash
        return Outcome(spec.resolve(params or {}), None, 0.0, 0, None, metric, _reason(err))
    scores = None if truth is None else measure(seg.labels, truth, metric=metric, ignore=ignore)
    return Outcome(seg.params, seg.labels if keep_labels else None, seg.elapsed_s,
                   seg.n_regions, scores, metric)


def _as_grid(spec: MethodSpec, grid: Grid | Mapping[str, Any]) -> Grid:
    if not isinstance(grid, Grid):
        if not isinstance(grid, Mapping):
            raise ValueError(f"grid must be a Grid or a mapping of parameter names to values, "
                             f"got {type(grid).__name__}")
        grid = Grid(dict(grid))
    axes = {}
    for name, vals in grid.axes.items():
        param = _param(spec, name)
        vals = [vals] if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) \
            else list(vals)
        if not vals:
            raise ValueError(f"the grid gives no values for {name!r}")
        vals = [param.validate(v) for v in vals]  # "3" from a command line is 3
        axes[name] = tuple(dict.fromkeys(vals, None))
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"a sweep runs over one or two parameters, got {len(axes)}: "
                         f"{', '.join(axes) or 'none'}")
    fixed = {name: _param(spec, name).validate(v) for name, v in grid.fixed.items()}
    return Grid(axes, fixed)


def _identity(spec: MethodSpec, resolved: dict) -> tuple:
    # Settings that differ only in parameters that do not matter (a level while the
    # algorithm is otsu) give the same result: it is computed once.
    defaults = spec.defaults()
    return tuple((k, _key(v if spec.is_active(k, resolved) else defaults[k]))
                 for k, v in resolved.items())


def sweep(image: np.ndarray, method: str, grid: Grid | Mapping[str, Any], *,
          params: Mapping[str, Any] | None = None, seeds: Any = None,
          truth: np.ndarray | None = None, ignore: int | None = None, metric: str = "iou",
          progress: Callable[[float], Any] | None = None, budget_s: float | None = None,
          keep_labels: bool = True) -> Sweep:
    """Run ``method`` on ``image`` at every setting of ``grid``.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    method : str
    grid : Grid or mapping of parameter name to values
        One or two parameters (a plain mapping: every key is an axis), for example
        from :func:`default_grid`. An axis that only matters for some value of a
        choice (``Param.when``) gets that value unless ``params`` or the grid
        already set one: ``{"level": [...]}`` sweeps a manual threshold.
    params : mapping, optional
        Settings of the other parameters (the defaults otherwise); the grid's
        ``fixed`` settings and axes override them.
    seeds : list of (row, col, label) or (H, W) int ndarray, optional
        For methods that take seeds; left out for the others.
    truth : (H, W) int ndarray, optional
        Scores each setting (:func:`measure`) and picks the best by ``metric``.
    ignore : int, optional
        A truth value left out of the scores.
    metric : str
        One of :data:`METRICS`: the headline score and what ``best`` ranks by.
    progress : callable, optional
        ``progress(fraction)`` after each setting; an exception it raises stops the
        sweep and propagates (how a page cancels it).
    budget_s : float, optional
        Start no new setting after this many seconds (``complete`` is then ``False``).
    keep_labels : bool
        Keep every setting's labels (``False``: only scores and times, for large grids).

    Returns
    -------
    Sweep
        Outcomes in grid order. Settings that differ only in parameters that do not
        matter (``Param.when``) are run once and share the outcome.

    Raises
    ------
    ValueError
        For an unknown method or parameter, a grid value out of range, a bad
        image, or a truth of another size. A setting that fails when it runs is
        an outcome with its ``error``, not an exception.

    Notes
    -----
    Settings run one after another, so each one's ``seconds`` is its own (a method
    already uses every core on a large image); the first run of a method in a
    process also loads the libraries it uses. The blur and the colour space
    (``sigma``, ``space``) change slowest, so a method that keeps its blurred image
    between calls (the watershed) blurs once per value; a method that works on gray
    values gets the gray image made once.

    Examples
    --------
    >>> from segcore import synthetic
    >>> s = synthetic.two_regions((24, 24))
    >>> found = sweep(s.image, "kmeans", {"k": [2, 3]}, truth=s.truth)
    >>> [(o.params["k"], o.score, o.error[:26]) for o in found.outcomes]
    [(2, 1.0, ''), (3, None, 'the image has fewer than 3')]
    """
    start = time.perf_counter()
    spec = get_method(method)
    img = check_image(image)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if truth is not None:
        truth = np.asarray(truth)
        if truth.shape != img.shape[:2]:
            raise ValueError(f"the truth is {truth.shape[1::-1]} but the image is "
                             f"{img.shape[1::-1]} (width, height)")
    grid = _as_grid(spec, grid)
    base = dict(params or {})
    current = {**spec.defaults(), **spec.resolve(base), **grid.fixed}
    grid = Grid(grid.axes, {**_needs(spec, list(grid.axes), current), **grid.fixed})
    settings = [spec.resolve({**base, **s}) for s in grid.settings()]
    if spec.gray_only and img.shape[2] == 3:
        img = to_gray(img)[:, :, None]  # what the method would make on every call
    names = list(grid.axes)
    slow = sorted(range(len(names)), key=lambda i: names[i] not in _UPSTREAM)
    positions = [{_key(v): i for i, v in enumerate(grid.axes[n])} for n in names]
    order = sorted(range(len(settings)), key=lambda j: tuple(
        positions[i][_key(settings[j][names[i]])] for i in slow))
    done: dict[tuple, Outcome] = {}
    outcomes: dict[int, Outcome] = {}
    complete = True
    for count, j in enumerate(order):
        identity = _identity(spec, settings[j])
        if identity not in done:
            if budget_s is not None and count and time.perf_counter() - start > budget_s:
                complete = False
                break
            done[identity] = run(img, method, settings[j], seeds=seeds, truth=truth,
                                 ignore=ignore, metric=metric, keep_labels=keep_labels)
        shared = done[identity]
        outcomes[j] = Outcome(settings[j], shared.labels, shared.seconds, shared.n_regions,
                              shared.scores, shared.metric, shared.error)
        if progress is not None:
            progress((count + 1) / len(order))
    return Sweep(spec.name, dict(grid.axes), tuple(outcomes[j] for j in sorted(outcomes)),
                 metric if truth is not None else None, time.perf_counter() - start, complete)


def marks(image: np.ndarray, method: str, name: str, *, params: Mapping[str, Any] | None = None,
          seeds: Any = None, truth: np.ndarray | None = None, ignore: int | None = None,
          metric: str = "iou") -> list[Mark]:
    """Where the method's automatic choices land on the axis of parameter ``name``:
    the method's defaults (when ``name`` matters at them, or when a choice picks
    it, as the default Otsu picks the threshold) and every choice of
    :data:`CHOSEN_BY` that picks a value of ``name`` itself (Otsu, Li, ... on a
    manual threshold's ``level``). Each is run once, and scored given ``truth``.

    Examples
    --------
    >>> from segcore import synthetic
    >>> s = synthetic.noisy((48, 48), sigma=0.08)
    >>> found = marks(s.image, "threshold", "level", truth=s.truth)
    >>> [(m.name, round(m.value, 2), round(m.scores["iou"], 2)) for m in found[:3]]
    [('default', 0.5, 1.0), ('otsu', 0.5, 1.0), ('li', 0.45, 0.97)]
    >>> [(m.name, m.value) for m in marks(s.image, "kmeans", "k")]
    [('default', 3)]
    """
    spec = get_method(method)
    _param(spec, name)  # an unknown name is an error in words
    base = spec.resolve(dict(params or {}))
    defaults = spec.defaults()
    chooser, choices = CHOSEN_BY.get((spec.name, name), (None, ()))

    def landing(label: str, setting: dict) -> Mark | None:
        resolved = spec.resolve(setting)
        known = resolved[name] if spec.is_active(name, resolved) else None
        try:
            seg = segment(image, method, **_seeded(spec, resolved, seeds))
        except Exception as err:  # a choice with no answer on this image is a finding
            return Mark(label, known, resolved, None, _reason(err))
        scores = None if truth is None else measure(seg.labels, truth, metric=metric,
                                                    ignore=ignore)
        if known is not None:
            return Mark(label, known, resolved, scores)
        picked = seg.extras.get("thresholds", [])
        if len(picked) != 1 or "threshold_map" in seg.extras:
            return None  # several values, or one per pixel: no single place on the axis
        return Mark(label, float(picked[0]), resolved, scores)

    found = [landing("default", defaults)] if spec.is_active(name, defaults) or chooser else []
    found += [landing(str(c), {**base, chooser: c}) for c in choices]
    return [m for m in found if m is not None]


def _reason(err: Exception) -> str:
    text = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
    return text.strip() or type(err).__name__


def _seeded(spec: MethodSpec, params: dict, seeds: Any) -> dict:
    return {**params, "seeds": seeds} if spec.takes_seeds and seeds is not None else dict(params)
