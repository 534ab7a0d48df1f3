"""The numbers of the lesson on k-means, step by step.

Lloyd's k-means alternates two half-steps: **assign** every pixel to its nearest
centre, then **move** every centre to the mean of its pixels. Neither can raise the
inertia (the summed squared distance of every pixel to its cluster's centre), so
the run walks downhill to a fixed point, which depends on where the centres started.

The iterations are the engine's (:func:`segcore.methods.clustering.lloyd`, which
records the centres and inertia of every round); this module splits each round
into its two half-steps, adds the numbers a lesson shows at each (distances of one
pixel, counts and means, pixels that changed cluster, empty clusters) and draws
them: the pixels in feature space with the centres moving through it, the labels
on the image, the inertia per half-step.

>>> from segcore import synthetic
>>> image = synthetic.colour_shapes((48, 64)).image
>>> r = run(image, k=4, space="lab", start="k-means++")
>>> [s.kind for s in r.steps[:4]]
['start', 'assign', 'move', 'assign']
>>> step_labels(r, 1).shape, int(step_labels(r, 1).max())
((48, 64), 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont
from skimage import measure

from segcore.color import label_palette
from segcore.learn import oblique
from segcore.methods.clustering import kmeans_plusplus, lloyd, pixel_features, squared_distances
from segcore.viz import color_labels, hex_colour, to_rgb

__all__ = ["feature_picture", "LESSON_PIXELS", "MAX_ITER", "TOL", "STARTS", "SCATTER_POINTS", "feature_names",
           "start_centres", "HalfStep", "half_steps", "Run", "run", "assignment", "step_labels",
           "counts", "distances", "next_assign", "next_cluster", "switching", "nearest_pixel",
           "StepSummary", "summary", "compare_inertia", "pieces", "sample_pixels", "step_picture",
           "assign_latex", "move_latex", "inertia_latex", "feature_figure", "inertia_figure"]

#: Pixels of the lesson's working copy. Smaller than other lessons' copies: every
#: setting runs k-means twice (the chosen start and k-means++, to compare them), up
#: to :data:`MAX_ITER` rounds each, and that must answer in about a second.
LESSON_PIXELS = 30_000
#: Most rounds (one assign and one move each) a lesson run takes.
MAX_ITER = 50
#: The engine's and scikit-learn's stopping rule: the run stops once the centres'
#: summed squared move is at most ``TOL`` times the features' mean variance.
TOL = 1e-4
#: Where the centres start. ``k-means++`` spreads them over the pixels (each next
#: centre drawn far from the ones chosen); ``random pixels`` takes ``k`` pixels at
#: random; ``evenly spaced`` ignores the pixels and puts the centres at equal steps
#: on the diagonal of the feature box, from all zeros to all ones (a hand-picked start).
STARTS = ("k-means++", "random pixels", "evenly spaced")
#: Pixels drawn in the feature-space figure: enough to see the clusters' shapes, few
#: enough for a browser to rotate the 3-D view smoothly.
SCATTER_POINTS = 3000

_COLOUR_NAMES = {"rgb": ("red", "green", "blue"),
                 "lab": ("lightness L", "green–red a", "blue–yellow b"),
                 "hsv": ("hue", "saturation", "value"),
                 "gray": ("gray value",)}


def feature_names(space: str, *, channels: int = 3, xy_weight: float = 0.0) -> tuple[str, ...]:
    """The name of every feature :func:`~segcore.methods.clustering.pixel_features`
    makes: the colour features in ``space`` (a one-channel image has only its gray
    value), then row and column when ``xy_weight > 0``. Every feature is scaled to
    about [0, 1] (Lab's ``L/100``, ``(a+128)/255``, ``(b+128)/255``).

    Examples
    --------
    >>> feature_names("rgb", xy_weight=0.5)
    ('red', 'green', 'blue', 'row × 0.5', 'column × 0.5')
    >>> feature_names("lab", channels=1)
    ('gray value',)
    """
    if space not in _COLOUR_NAMES:
        raise ValueError(f"colour space must be one of {', '.join(_COLOUR_NAMES)}, got {space!r}")
    names = _COLOUR_NAMES["gray" if channels == 1 else space]
    if xy_weight > 0:
        names += (f"row × {xy_weight:g}", f"column × {xy_weight:g}")
    return names


def start_centres(x: np.ndarray, k: int, *, start: str, rng: int = 0,
                  top: np.ndarray | None = None) -> np.ndarray:
    """``k`` starting centres for the features ``x``, as :data:`STARTS` describes.

    Parameters
    ----------
    x : (N, F) float ndarray
        The features of every pixel.
    k : int
        How many centres, ``1 <= k <= N``.
    start : str
        One of :data:`STARTS`.
    rng : int
        Seed of the random starts (k-means++ and random pixels).
    top : (F,) float ndarray, optional
        The far corner of the feature box for ``evenly spaced`` (all ones by default).

    Returns
    -------
    (k, F) float64 ndarray

    Examples
    --------
    >>> x = np.array([[0.1], [0.2], [0.8], [0.9]])
    >>> start_centres(x, 2, start="evenly spaced").ravel().tolist()
    [0.25, 0.75]
    >>> start_centres(x, 2, start="random pixels", rng=0).shape
    (2, 1)
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must be (N, F), got shape {x.shape}")
    if not 1 <= k <= len(x):
        raise ValueError(f"k must be between 1 and the number of pixels ({len(x)}), got {k}")
    if start == "k-means++":
        return kmeans_plusplus(x, k, random_state=np.random.RandomState(rng))
    if start == "random pixels":
        return x[np.sort(np.random.default_rng(rng).choice(len(x), k, replace=False))].copy()
    if start == "evenly spaced":
        top = np.ones(x.shape[1]) if top is None else np.asarray(top, np.float64)
        return ((np.arange(k) + 0.5) / k)[:, None] * top[None, :]
    raise ValueError(f"start must be one of {', '.join(STARTS)}, got {start!r}")


@dataclass(frozen=True)
class HalfStep:
    """One half-step of Lloyd's k-means.

    Attributes
    ----------
    kind : str
        ``"start"``, ``"assign"`` (every pixel to its nearest centre) or ``"move"``
        (every centre to the mean of its pixels; an empty cluster's stays).
    round : int
        The round it belongs to, from 1 (0 for the start).
    centres : (k, F) float64 ndarray
        The centres after this half-step.
    assigned : (k, F) float64 ndarray or None
        The centres the pixels' clusters were last assigned by (``None`` at the
        start: no pixel has a cluster yet).
    inertia : float or None
        Sum over pixels of the squared distance to their cluster's centre, after
        this half-step (``None`` at the start).

    Examples
    --------
    >>> HalfStep("start", 0, np.zeros((2, 1)), None, None).kind
    'start'
    """

    kind: str
    round: int
    centres: np.ndarray
    assigned: np.ndarray | None
    inertia: float | None


def _inertia(x: np.ndarray, centres: np.ndarray, assign: np.ndarray) -> float:
    return float(((x - centres[assign]) ** 2).sum())


def half_steps(x: np.ndarray, centres: np.ndarray, *, max_iter: int = MAX_ITER,
               tol: float = TOL) -> tuple[list[HalfStep], bool]:
    """Lloyd's k-means from ``centres``, half-step by half-step: the start, then an
    assign and a move per round, and a last assign with the final centres (its
    labels are the result). Runs the engine's :func:`~segcore.methods.clustering.lloyd`
    and splits its record.

    Returns
    -------
    steps : list of HalfStep
        ``2 * rounds + 2`` half-steps.
    settled : bool
        Whether the centres settled (moved less than the tolerance) before
        ``max_iter`` rounds.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [0.9], [1.0]])
    >>> steps, settled = half_steps(x, np.array([[0.0], [0.1]]))
    >>> [(s.kind, s.round) for s in steps][:5]
    [('start', 0), ('assign', 1), ('move', 1), ('assign', 2), ('move', 2)]
    >>> len(steps)  # round 3 changes nothing: the run stops, then assigns once more
    8
    >>> steps[-1].centres.ravel().round(2).tolist(), round(steps[-1].inertia, 3), settled
    ([0.05, 0.95], 0.01, True)
    """
    x = np.asarray(x, np.float64)
    centres = np.asarray(centres, np.float64)
    final, assign, _, history = lloyd(x, centres, max_iter=max_iter, tol=tol)
    steps = [HalfStep("start", 0, history[0]["centres"], None, None)]
    moved_to = [h["centres"] for h in history[1:]] + [final]
    # Every inertia is summed here the same exact way (not the engine's faster
    # expanded form), so a half-step that changes nothing shows no change at all.
    for n, (record, after) in enumerate(zip(history, moved_to), start=1):
        before = record["centres"]
        labels = squared_distances(x, before).argmin(1)
        steps.append(HalfStep("assign", n, before, before, _inertia(x, before, labels)))
        steps.append(HalfStep("move", n, after, before, _inertia(x, after, labels)))
    steps.append(HalfStep("assign", len(history) + 1, final, final, _inertia(x, final, assign)))
    return steps, len(history) < max_iter


@dataclass(frozen=True)
class Run:
    """A lesson's k-means run on one image, recorded half-step by half-step.

    Attributes
    ----------
    shape : (H, W)
    features : (H * W, F) float64 ndarray
        Every pixel's features, row by row.
    names : tuple of str
        The features' names (:func:`feature_names`).
    start : str
        Where the centres started (one of :data:`STARTS`).
    steps : tuple of HalfStep
    settled : bool
        Whether the centres settled before :data:`MAX_ITER` rounds.

    Examples
    --------
    >>> r = run(np.zeros((4, 4, 1), np.float32), k=2, space="gray", start="evenly spaced")
    >>> r.k, r.rounds, r.final_inertia  # one flat colour: cluster 2 never gets a pixel
    (2, 2, 0.0)
    """

    shape: tuple[int, int]
    features: np.ndarray
    names: tuple[str, ...]
    start: str
    steps: tuple[HalfStep, ...]
    settled: bool

    @property
    def k(self) -> int:
        """How many clusters."""
        return len(self.steps[0].centres)

    @property
    def rounds(self) -> int:
        """Rounds of assign-and-move before the run stopped."""
        return self.steps[-2].round

    @property
    def final_inertia(self) -> float:
        """The inertia of the result (after the last assign)."""
        return float(self.steps[-1].inertia)


def run(image: np.ndarray, *, k: int, space: str, xy_weight: float = 0.0, start: str,
        rng: int = 0, max_iter: int = MAX_ITER) -> Run:
    """K-means on every pixel of ``image``, recorded half-step by half-step.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    k : int
        How many clusters.
    space : str
        Colour space of the features (``rgb``, ``lab``, ``hsv``, ``gray``).
    xy_weight : float
        Weight of the pixel's row and column (scaled to [0, 1]) among its features.
    start : str
        One of :data:`STARTS`; ``evenly spaced`` runs from all zeros to every colour
        feature at 1 and the position at the bottom-right pixel.
    rng : int
        Seed of the random starts.

    Returns
    -------
    Run

    Examples
    --------
    >>> img = np.zeros((6, 6, 3), np.float32); img[:, 3:] = (1.0, 0.2, 0.2)
    >>> r = run(img, k=2, space="rgb", start="k-means++")
    >>> r.final_inertia, np.unique(step_labels(r, len(r.steps) - 1)[:, :3]).size
    (0.0, 1)
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f"image must be (H, W, 1) or (H, W, 3), got shape {image.shape}")
    x = pixel_features(image, space, xy_weight)
    colour = x.shape[1] - (2 if xy_weight > 0 else 0)
    top = np.concatenate([np.ones(colour), x[-1, colour:]])  # the bottom-right pixel's place
    steps, settled = half_steps(x, start_centres(x, k, start=start, rng=rng, top=top),
                                max_iter=max_iter)
    return Run(shape=image.shape[:2], features=x,
               names=feature_names(space, channels=image.shape[2], xy_weight=xy_weight),
               start=start, steps=tuple(steps), settled=settled)


def assignment(run: Run, step: int) -> np.ndarray | None:
    """``(H * W,) int`` the cluster (``0..k-1``) of every pixel after half-step
    ``step``, or ``None`` at the start.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> assignment(r, 0) is None, assignment(r, 1).tolist()
    (True, [0, 0, 0, 0, 1, 1, 1, 1])
    """
    assigned = run.steps[step].assigned
    if assigned is None:
        return None
    return squared_distances(run.features, assigned).argmin(1)


def step_labels(run: Run, step: int) -> np.ndarray:
    """``(H, W) int32`` labels after half-step ``step``: cluster ``j`` is label
    ``j + 1``, in the order the centres started; ``0`` everywhere at the start.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> step_labels(r, 1).tolist()
    [[1, 1, 1, 1], [2, 2, 2, 2]]
    """
    assign = assignment(run, step)
    if assign is None:
        return np.zeros(run.shape, np.int32)
    return (assign + 1).astype(np.int32).reshape(run.shape)


def counts(run: Run, step: int) -> np.ndarray:
    """``(k,) int`` pixels in every cluster after half-step ``step`` (zeros at the start).

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=3, space="gray",
    ...         start="evenly spaced")
    >>> counts(r, 1).tolist()
    [3, 2, 3]
    """
    assign = assignment(run, step)
    if assign is None:
        return np.zeros(run.k, np.int64)
    return np.bincount(assign, minlength=run.k)


def _index(run: Run, pixel: tuple[int, int]) -> int:
    row, col = pixel
    h, w = run.shape
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"pixel must be inside the {h} × {w} image, got row {row}, column {col}")
    return row * w + col


def distances(run: Run, step: int, pixel: tuple[int, int]) -> np.ndarray:
    """``(k,) float64`` squared distances from ``pixel`` (row, column) to the centres
    its cluster was last assigned by (at the start: to the starting centres). The
    smallest decides its cluster.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> distances(r, 1, (0, 0)).round(4).tolist()  # pixel 0.0, centres 0.25 and 0.75
    [0.0625, 0.5625]
    """
    step_ = run.steps[step]
    centres = step_.centres if step_.assigned is None else step_.assigned
    x = run.features[_index(run, pixel)]
    return ((centres - x[None, :]) ** 2).sum(1)


def next_assign(run: Run, step: int) -> int | None:
    """The index of the first assign half-step after ``step``, or ``None`` at the end.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> next_assign(r, 0), next_assign(r, 1), next_assign(r, len(r.steps) - 1)
    (1, 3, None)
    """
    for i in range(step + 1, len(run.steps)):
        if run.steps[i].kind == "assign":
            return i
    return None


def next_cluster(run: Run, step: int, pixel: tuple[int, int]) -> int:
    """The cluster (``1..k``) ``pixel`` will be in after the next assign half-step;
    at the end of the run, the one it would join if the pixels were assigned again
    (its nearest final centre).

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> next_cluster(r, 0, (1, 3)), next_cluster(r, len(r.steps) - 1, (0, 0))
    (2, 1)
    """
    target = next_assign(run, step)
    centres = run.steps[-1 if target is None else target].assigned
    x = run.features[_index(run, pixel)]
    return int(((centres - x[None, :]) ** 2).sum(1).argmin()) + 1


def switching(run: Run, step: int) -> np.ndarray:
    """``(H, W) bool`` the pixels whose cluster the next assign half-step changes
    (all of them at the start, none at the end of the run).

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> int(switching(r, 0).sum()), int(switching(r, len(r.steps) - 1).sum())
    (8, 0)
    """
    target = next_assign(run, step)
    if target is None:
        return np.zeros(run.shape, bool)
    return step_labels(run, target) != step_labels(run, step)


def nearest_pixel(mask: np.ndarray, pixel: tuple[int, int]) -> tuple[int, int] | None:
    """The ``True`` pixel of ``mask`` nearest to ``pixel`` (row, column), or ``None``.

    Examples
    --------
    >>> m = np.zeros((5, 5), bool); m[4, 4] = m[0, 3] = True
    >>> nearest_pixel(m, (1, 1)), nearest_pixel(np.zeros((2, 2), bool), (0, 0))
    ((0, 3), None)
    """
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    i = int(((rows - pixel[0]) ** 2 + (cols - pixel[1]) ** 2).argmin())
    return int(rows[i]), int(cols[i])


@dataclass(frozen=True)
class StepSummary:
    """What one half-step did, in numbers.

    Attributes
    ----------
    kind, round : as in :class:`HalfStep`
    inertia, previous : float or None
        The inertia after this half-step and after the one before (``None`` where
        there is none).
    changed : int
        Pixels whose cluster this assign changed (a first assign: every pixel).
    moved : float
        The farthest a centre moved in this move (0 for other half-steps).
    empty : tuple of int
        Clusters (``1..k``) with no pixel after this half-step.
    last : bool
        Whether this is the run's last half-step.

    Examples
    --------
    >>> StepSummary("start", 0, None, None, 0, 0.0, (), False).changed
    0
    """

    kind: str
    round: int
    inertia: float | None
    previous: float | None
    changed: int
    moved: float
    empty: tuple[int, ...]
    last: bool


def summary(run: Run, step: int) -> StepSummary:
    """The numbers of half-step ``step`` the lesson's "what to notice" line tells.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> s = summary(r, 2)
    >>> s.kind, round(s.moved, 4), s.inertia < s.previous
    ('move', 0.0357, True)
    """
    here = run.steps[step]
    before = run.steps[step - 1] if step > 0 else None
    changed, moved = 0, 0.0
    if here.kind == "assign":
        now = step_labels(run, step)
        changed = int((now != step_labels(run, step - 1)).sum())
    elif here.kind == "move":
        moved = float(np.sqrt(((here.centres - before.centres) ** 2).sum(1)).max())
    empty = tuple(int(j) + 1 for j in np.flatnonzero(counts(run, step) == 0)) if step else ()
    return StepSummary(kind=here.kind, round=here.round, inertia=here.inertia,
                       previous=None if before is None else before.inertia, changed=changed,
                       moved=moved, empty=empty, last=step == len(run.steps) - 1)


def compare_inertia(inertia: float, reference: float, *, within: float = 0.01) -> str:
    """``"higher"``, ``"about the same"`` or ``"lower"``: ``inertia`` against
    ``reference``, the same when within a fraction ``within`` of it.

    Examples
    --------
    >>> compare_inertia(110.0, 100.0), compare_inertia(100.5, 100.0), compare_inertia(0.0, 0.0)
    ('higher', 'about the same', 'about the same')
    """
    if abs(inertia - reference) <= within * abs(reference):
        return "about the same"
    return "higher" if inertia > reference else "lower"


def pieces(labels: np.ndarray) -> int:
    """How many connected pieces (pixels touching by a side) the labels of a
    segmentation fall into: by colour alone a cluster is often scattered over the
    image in many pieces; weighting position gathers it.

    Examples
    --------
    >>> pieces(np.array([[1, 2, 1], [1, 2, 2]]))
    3
    """
    return int(measure.label(np.asarray(labels) + 1, background=0, connectivity=1).max())


def sample_pixels(n: int, *, size: int = SCATTER_POINTS, rng: int = 0) -> np.ndarray:
    """``(min(n, size),) int`` sorted indices of pixels drawn at random without
    repeats, for the feature-space figure.

    Examples
    --------
    >>> sample_pixels(10, size=4).shape, sample_pixels(3, size=4).tolist()
    ((4,), [0, 1, 2])
    """
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(rng).choice(n, size, replace=False))


def step_picture(run: Run, step: int, image: np.ndarray, *,
                 pixel: tuple[int, int] | None = None) -> np.ndarray:
    """``(H, W, 3) float32`` the labels after half-step ``step`` in their cluster
    colours (the image itself at the start), with ``pixel`` marked by a small
    black-and-white square.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> step_picture(r, 1, np.zeros((2, 4, 1), np.float32)).shape
    (2, 4, 3)
    """
    labels = step_labels(run, step)
    picture = to_rgb(image).copy() if step == 0 else color_labels(labels)
    if pixel is not None:
        row, col = pixel
        h, w = run.shape
        # A black square around the pixel with a white one outside it: seen on any
        # colour; the pixel itself and its neighbours keep theirs.
        for reach, value in ((3, 0.0), (4, 1.0)):
            for r in range(row - reach, row + reach + 1):
                for c in range(col - reach, col + reach + 1):
                    ring = max(abs(r - row), abs(c - col)) == reach
                    if ring and 0 <= r < h and 0 <= c < w:
                        picture[r, c] = value
    return picture


def _number(value: float) -> str:
    """A squared distance for an equation: four decimals, or four digits of a tiny one."""
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.4f}"
    mantissa, exponent = f"{value:.3e}".split("e")
    return rf"{mantissa}\times 10^{{{int(exponent)}}}"


def _vector(values: np.ndarray) -> str:
    digits = 3 if len(values) <= 3 else 2  # five features (colour and place) must fit too
    return r"\left(" + ",\\ ".join(f"{v:.{digits}f}" for v in values) + r"\right)"


def assign_latex(run: Run, step: int, pixel: tuple[int, int]) -> str:
    r"""The assignment rule for ``pixel`` with its live numbers: its features, its
    squared distance to every centre it was last assigned by, and the nearest.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> text = assign_latex(r, 1, (0, 0))  # pixel 0.0, centres 0.25 and 0.75
    >>> r"\lVert x-c_{1}\rVert^2 &= 0.0625" in text, r"\lVert x-c_{2}\rVert^2 &= 0.5625" in text
    (True, True)
    >>> print(text[-18:])
    = 1\end{gathered}
    """
    d = distances(run, step, pixel)
    x = run.features[_index(run, pixel)]
    best = int(d.argmin()) + 1
    rows = []
    for j, value in enumerate(d, start=1):
        mark = r"\quad\leftarrow\ \text{nearest}" if j == best else ""
        rows.append(rf"\lVert x-c_{{{j}}}\rVert^2 &= {_number(value)}{mark}")
    table = r"\begin{aligned}" + r"\\ ".join(rows) + r"\end{aligned}"
    return (rf"\begin{{gathered}}x = {_vector(x)}\\ {table}\\ "
            rf"a(x) = \arg\min_j \lVert x-c_j\rVert^2 = {best}\end{{gathered}}")


def move_latex(run: Run, step: int, cluster: int) -> str:
    """The update of centre ``cluster`` (``1..k``) with its live numbers: how many
    pixels it has after half-step ``step`` and the mean they move it to (or that it
    stays where it is, empty).

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> "n_{1} = 4" in move_latex(r, 1, 1)
    True
    """
    assign = assignment(run, step)
    j = cluster - 1
    if assign is None:
        return rf"c_{{{cluster}}} = {_vector(run.steps[step].centres[j])}\ \text{{(no pixels yet)}}"
    members = assign == j
    n = int(members.sum())
    if n == 0:
        old = run.steps[step].assigned[j]
        return (rf"\begin{{aligned}}n_{{{cluster}}} &= 0:\ \text{{no pixels to average}}\\ "
                rf"c_{{{cluster}}} &= {_vector(old)}\ \text{{(stays where it is)}}\end{{aligned}}")
    mean = run.features[members].mean(0)
    count = f"{n:,}".replace(",", "{,}")  # a thousands comma, not a list comma
    return (rf"\begin{{aligned}}c_{{{cluster}}} &= \frac{{1}}{{n_{{{cluster}}}}}"
            rf"\sum_{{a(x_i)={cluster}}} x_i,\qquad n_{{{cluster}}} = {count}\\ "
            rf"&= {_vector(mean)}\end{{aligned}}")


def inertia_latex(run: Run, step: int) -> str:
    """The inertia after half-step ``step`` with its value and the change from the
    half-step before.

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> inertia_latex(r, 0)
    'J = \\\\sum_i \\\\lVert x_i - c_{a(x_i)}\\\\rVert^2\\\\ \\\\text{(no pixel has a cluster yet)}'
    """
    rule = r"J = \sum_i \lVert x_i - c_{a(x_i)}\rVert^2"
    here = run.steps[step]
    if here.inertia is None:
        return rule + r"\ \text{(no pixel has a cluster yet)}"
    text = rf"{rule} = {here.inertia:.3f}"
    previous = run.steps[step - 1].inertia
    if previous is None:
        return text
    return (rf"\begin{{gathered}}{text}\\ \text{{before this step: }}{previous:.3f},\ "
            rf"\text{{change: }}{here.inertia - previous:+.4g}\end{{gathered}}")


def _axes(names: tuple[str, ...]) -> list[int]:
    # Three colour features are drawn; with gray, gray and position make three.
    return [0] if len(names) == 1 else [0, 1, 2]


def feature_figure(run: Run, step: int, image: np.ndarray, *, sample: np.ndarray,
                   pixel: tuple[int, int] | None = None) -> go.Figure:
    """The sampled pixels in feature space coloured by their cluster after
    half-step ``step`` (in their own colour at the start), the centres drawn large
    with the path they have taken so far, and ``pixel`` joined to the centres that
    decided its cluster. Three features are drawn in 3-D (the colour ones when there
    are more); one (gray) along a line, the pixels spread out vertically.

    Examples
    --------
    >>> r = run(np.random.default_rng(0).random((8, 8, 3), dtype=np.float32), k=3,
    ...         space="rgb", start="k-means++")
    >>> fig = feature_figure(r, 2, np.zeros((8, 8, 3), np.float32), sample=np.arange(64),
    ...                      pixel=(0, 0))
    >>> fig.data[0].type, [t.name for t in fig.data if t.name and "centre" in t.name][:1]
    ('scatter3d', ['centre 1'])
    """
    axes = _axes(run.names)
    three = len(axes) == 3
    here = run.steps[step]
    assign = assignment(run, step)
    palette = label_palette(run.k)
    x = run.features[sample][:, axes]
    jitter = np.random.default_rng(1).uniform(0.0, 1.0, len(sample))
    fig = go.Figure()

    def add(points, *, jitter_y=None, **kwargs):
        if three:
            fig.add_scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], **kwargs)
        else:
            fig.add_scatter(x=points[:, 0], y=jitter_y, **kwargs)

    if assign is None:
        colours = [hex_colour(c) for c in to_rgb(image).reshape(-1, 3)[sample]]
        add(x, jitter_y=jitter, mode="markers", name="pixels (own colour)",
            marker=dict(size=2 if three else 4, color=colours), hoverinfo="skip")
    else:
        for j in range(run.k):
            members = assign[sample] == j
            add(x[members], jitter_y=jitter[members], mode="markers", legendgroup=str(j),
                name=f"cluster {j + 1}", marker=dict(size=2 if three else 4, opacity=0.6,
                                                     color=hex_colour(palette[j + 1])),
                hoverinfo="skip")
    path = np.stack([s.centres[:, axes] for s in run.steps[:step + 1]])  # (steps, k, d)
    for j in range(run.k):
        colour = hex_colour(palette[j + 1])
        trail = path[:, j]
        keep = np.r_[True, np.abs(np.diff(trail, axis=0)).sum(1) > 0]
        add(trail[keep], jitter_y=np.full(int(keep.sum()), 1.1), mode="lines",
            line=dict(color="black", width=5), showlegend=False, hoverinfo="skip")
        add(here.centres[j:j + 1, axes], jitter_y=np.array([1.1]), mode="markers+text",
            name=f"centre {j + 1}", text=[f"c{j + 1}"], textposition="top center",
            legendgroup=str(j), showlegend=False, textfont=dict(size=14, color="black"),
            marker=dict(size=12 if three else 18, color=colour, symbol="diamond",
                        line=dict(color="black", width=3)))
    if pixel is not None:
        h, w = run.shape
        p = run.features[pixel[0] * w + pixel[1], axes]
        decided = here.centres if here.assigned is None else here.assigned
        for j in range(run.k):
            add(np.stack([p, decided[j, axes]]), jitter_y=np.array([0.5, 1.1]), mode="lines",
                line=dict(color="black", width=3, dash="dash"), showlegend=False,
                hoverinfo="skip")
        add(p[None, :], jitter_y=np.array([0.5]), mode="markers", name="picked pixel",
            marker=dict(size=10 if three else 14, color="black", symbol="x"))
    if three:
        titles = [run.names[a] for a in axes]
        fig.update_layout(scene=dict(xaxis_title=titles[0], yaxis_title=titles[1],
                                     zaxis_title=titles[2], aspectmode="cube"))
    else:
        fig.update_xaxes(title=run.names[0])
        fig.update_yaxes(visible=False, range=[-0.1, 1.3])
    fig.update_layout(height=520, margin=dict(l=0, r=0, t=30, b=0), uirevision="kmeans",
                      legend=dict(orientation="h", y=1.02, itemsizing="constant"))
    return fig


def feature_picture(run: Run, step: int, image: np.ndarray, *, sample: np.ndarray,
                    pixel: tuple[int, int] | None = None, azimuth: float = 35.0,
                    elevation: float = 22.0, size: int = 460) -> np.ndarray:
    """What :func:`feature_figure` shows for three features, drawn here as a picture:
    the feature cube seen from ``azimuth`` and ``elevation`` (degrees), the sampled
    pixels coloured by cluster (their own colour at the start), far ones first, the
    centres as outlined discs with their paths so far, and ``pixel`` as a black
    cross joined to the centres that decided its cluster.

    A 3-D plotly view is redrawn by the browser's graphics whenever it changes, which
    takes seconds where the browser has no graphics acceleration; a picture takes a
    few milliseconds. Returns a ``(size, size, 3) uint8`` array.

    Examples
    --------
    >>> r = run(np.random.default_rng(0).random((8, 8, 3), dtype=np.float32), k=3,
    ...         space="rgb", start="k-means++")
    >>> feature_picture(r, 2, np.zeros((8, 8, 3), np.float32), sample=np.arange(64),
    ...                 pixel=(0, 0), size=120).shape
    (120, 120, 3)
    """
    axes = _axes(run.names)
    if len(axes) != 3:
        raise ValueError("a feature picture needs three features; gray has one")
    here = run.steps[step]
    assign = assignment(run, step)
    palette = label_palette(run.k)
    path = np.stack([s.centres[:, axes] for s in run.steps[:step + 1]])  # (steps, k, 3)
    points = run.features[sample][:, axes]
    lo = np.minimum(points.min(0), path.reshape(-1, 3).min(0))
    span = np.maximum(np.maximum(points.max(0), path.reshape(-1, 3).max(0)) - lo, 1e-12)
    def project(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = (np.asarray(x, np.float64) - lo) / span - 0.5  # the unit cube, centred
        across, up, depth = oblique(u, azimuth=azimuth, elevation=elevation)
        scale = 0.62 * size
        return size / 2 + scale * across, size / 2 - scale * up, depth

    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(10, size // 34))

    def label(x: float, y: float, text: str, fill) -> None:  # kept inside the picture
        width = draw.textlength(text, font=font)
        draw.text((min(max(x, 2), size - width - 2), min(max(y, 2), size - font.size - 4)),
                  text, fill=fill, font=font)

    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float)
    cx, cy, _ = project(lo + corners * span)
    for i in range(8):
        for j in range(i + 1, 8):
            if np.abs(corners[i] - corners[j]).sum() == 1:
                draw.line([(cx[i], cy[i]), (cx[j], cy[j])], fill=(200, 200, 200), width=1)
    for axis in range(3):  # each axis named at the far end of its edge from corner 0
        end = int(2 ** (2 - axis))
        # (the built-in font has no dashes beyond ASCII)
        label(cx[end] + 4, cy[end] - 4, run.names[axes[axis]].replace("–", "-"), (90, 90, 90))
    px, py, depth = project(points)
    if assign is None:
        colours = (to_rgb(image).reshape(-1, 3)[sample] * 255).astype(np.uint8)
    else:
        colours = (palette[assign[sample] + 1] * 255).astype(np.uint8)
    for i in np.argsort(-depth):  # far first, so near pixels are drawn over them
        draw.rectangle([px[i] - 1, py[i] - 1, px[i] + 1, py[i] + 1], fill=tuple(colours[i]))
    for j in range(run.k):
        tx, ty, _ = project(path[:, j])
        if len(tx) > 1:
            draw.line(list(zip(tx, ty)), fill=(0, 0, 0), width=3)
    if pixel is not None:
        w = run.shape[1]
        p = run.features[pixel[0] * w + pixel[1], axes]
        decided = here.centres if here.assigned is None else here.assigned
        qx, qy, _ = project(p)
        for j in range(run.k):
            dx, dy, _ = project(decided[j, axes])
            draw.line([(qx, qy), (dx, dy)], fill=(60, 60, 60), width=1)
        draw.line([(qx - 6, qy - 6), (qx + 6, qy + 6)], fill=(0, 0, 0), width=3)
        draw.line([(qx - 6, qy + 6), (qx + 6, qy - 6)], fill=(0, 0, 0), width=3)
    ex, ey, _ = project(here.centres[:, axes])
    for j in range(run.k):
        colour = tuple(int(v) for v in palette[j + 1] * 255)
        draw.ellipse([ex[j] - 8, ey[j] - 8, ex[j] + 8, ey[j] + 8], fill=colour,
                     outline=(0, 0, 0), width=3)
        label(ex[j] + 10, ey[j] - 16, f"c{j + 1}", (0, 0, 0))
    return np.asarray(canvas)


def inertia_figure(run: Run, step: int, *, other: Run | None = None,
                   log: bool = False) -> go.Figure:
    """Inertia after every half-step of ``run`` (assign and move marked apart),
    the current half-step ``step`` marked; ``other``'s curve dashed for comparison;
    ``log`` for a logarithmic inertia axis (two runs far apart both show).

    Examples
    --------
    >>> r = run(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4, 1), k=2, space="gray",
    ...         start="evenly spaced")
    >>> fig = inertia_figure(r, 2)
    >>> list(fig.data[0].x)[:3], inertia_figure(r, 2, log=True).layout.yaxis.type
    ([1, 2, 3], 'log')
    """
    fig = go.Figure()

    def curve(r: Run):
        index = list(range(1, len(r.steps)))
        return index, [r.steps[i].inertia for i in index]

    index, values = curve(run)
    kinds = [run.steps[i].kind for i in index]
    fig.add_scatter(x=index, y=values, mode="lines", name=f"{run.start} start",
                    line=dict(color="#1f77b4", width=2), hoverinfo="skip")
    for kind, symbol, colour in (("assign", "circle", "#1f77b4"), ("move", "diamond", "#ff7f0e")):
        at = [i for i, kd in zip(index, kinds) if kd == kind]
        fig.add_scatter(x=at, y=[run.steps[i].inertia for i in at], mode="markers",
                        name="after " + ("assign" if kind == "assign" else "move"),
                        marker=dict(symbol=symbol, size=8, color=colour),
                        customdata=[run.steps[i].round for i in at],
                        hovertemplate="step %{x} (round %{customdata}): J = %{y:.3f}"
                                      "<extra></extra>")
    if other is not None:
        o_index, o_values = curve(other)
        fig.add_scatter(x=o_index, y=o_values, mode="lines", name=f"{other.start} start",
                        line=dict(color="#7f7f7f", width=2, dash="dash"))
    if step > 0:
        fig.add_vline(x=step, line_color="#d62728", line_width=2, annotation_text=f"step {step}",
                      annotation_position="top")
    if log:
        fig.update_yaxes(type="log")
    fig.update_layout(xaxis_title="half-step (odd: assign, even: move)",
                      yaxis_title="inertia J" + (" (log scale)" if log else ""), height=300, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.15))
    return fig
