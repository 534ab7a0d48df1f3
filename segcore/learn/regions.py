"""The numbers of the lesson on region growing and the random walker.

Region growing (the engine's :func:`segcore.methods.regions.region_growing`, a
flood fill like ``skimage.segmentation.flood``) adds to a seed every connected
pixel whose gray value is within a tolerance of the seed's. :func:`grow` records
the breadth-first rings it adds them in, and the neighbours it refuses, so a page
can step through the growth; its last step is the engine's region. One map holds
the regions of every tolerance at once: :func:`join_tolerance` gives each pixel
the smallest tolerance at which it joins (the largest gray-value difference on its
easiest way from the seed), so the region at tolerance ``t`` is ``join <= t``.

The random walker (Grady 2006) gives each pixel the probability that a walker
starting there reaches each seed first, stepping to a neighbour with probability
proportional to the edge weight ``exp(-beta (g_i - g_j)**2 / (10 sigma))`` that
scikit-image uses (``sigma`` the image's standard deviation). :func:`walker_weights`
gives those weights; :func:`walker_probabilities` solves for the probabilities
exactly on a lesson's small copy.

>>> from segcore import synthetic
>>> gray = synthetic.blobs((64, 64)).image[:, :, 0]
>>> seed = object_seed(gray)
>>> growth = grow(gray, seed, tolerance=0.1)
>>> join = join_tolerance(gray, seed)
>>> bool((growth.region() == (join <= 0.1)).all())
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from scipy import ndimage as ndi
from skimage import draw, measure, morphology, segmentation

from segcore.color import label_palette
from segcore.learn import objects
from segcore.methods.threshold import global_threshold
from segcore.viz import overlay, to_rgb

__all__ = [
    "NEIGHBOURS",
    "TOLERANCES",
    "LOW_BETA",
    "HIGH_BETA",
    "WEIGHT_FLOOR",
    "FRONTIER_COLOUR",
    "REFUSED_COLOUR",
    "Check",
    "Growth",
    "grow",
    "join_tolerance",
    "leak_point",
    "true_region",
    "tolerance_curve",
    "object_seed",
    "walker_seeds",
    "walker_weights",
    "EdgeWeight",
    "edge_weight",
    "seed_object",
    "walker_path",
    "edge_pairs",
    "walker_probabilities",
    "walker_average",
    "question_pixel",
    "marked",
    "growth_picture",
    "walker_picture",
    "tolerance_figure",
    "join_figure",
]

#: Neighbours a region grows through, as (row, column) offsets: 4 (edges) or 8
#: (edges and corners), the engine's two choices.
NEIGHBOURS = {
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
}
#: The tolerances a lesson draws its curves over.
TOLERANCES = np.round(np.arange(0, 1.0001, 0.005), 3)
#: Edge strengths the lesson compares: walkers that barely notice edges, and
#: walkers that edges stop (both on the engine's slider).
LOW_BETA, HIGH_BETA = 1.0, 1000.0
#: What scikit-image adds to every edge weight, so that no pixel is cut off.
WEIGHT_FLOOR = 1e-10

# Colours of the growth picture (Okabe-Ito, colour-blind safe): old rings dark
# blue to new rings sky blue, the frontier yellow, refused pixels vermillion.
_OLD, _NEW = np.array([0.0, 0.30, 0.60]), np.array([0.55, 0.85, 1.0])
FRONTIER_COLOUR = (0.94, 0.89, 0.26)
REFUSED_COLOUR = (0.84, 0.37, 0.0)


def _check_gray(gray) -> np.ndarray:
    gray = np.asarray(gray)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ValueError(f"expected a gray image (H, W), got shape {gray.shape}")
    return gray


def _check_pixel(shape, pixel, name: str = "seed") -> tuple[int, int]:
    r, c = (int(v) for v in pixel)
    if not (0 <= r < shape[0] and 0 <= c < shape[1]):
        raise ValueError(f"{name} ({r}, {c}) is outside the {shape[0]} x {shape[1]} image")
    return r, c


def _check_connectivity(connectivity: int) -> int:
    if connectivity not in NEIGHBOURS:
        raise ValueError(f"connectivity must be one of {sorted(NEIGHBOURS)}, got {connectivity!r}")
    return int(connectivity)


# --------------------------------------------------------------------------- region growing


@dataclass(frozen=True)
class Check:
    """One pixel a growth step tested: its gray ``value``, its ``difference`` from
    the seed's value, and whether it ``joined``.

    Examples
    --------
    >>> Check(3, 4, 0.52, 0.02, True, 5).joined
    True
    """

    row: int
    col: int
    value: float
    difference: float
    joined: bool
    step: int


@dataclass(frozen=True)
class Growth:
    """A region grown breadth-first from one seed, step by step.

    At step ``n`` every pixel next to the ring added at step ``n - 1`` that no step
    has tested yet is tested: those within ``tolerance`` of the seed's gray value
    form ring ``n`` (the frontier), the others are refused. Step ``0`` is the seed.

    Attributes
    ----------
    gray : (H, W) float ndarray
    seed : (row, col)
    tolerance : float
    connectivity : int
        4 or 8.
    ring : (H, W) int32 ndarray
        The step at which each pixel joined; ``-1`` for pixels that never do.
    refused : (H, W) int32 ndarray
        The step at which a pixel was tested and refused; ``-1`` if never tested.

    Examples
    --------
    >>> g = np.array([[0.5, 0.52, 0.9, 0.5]])
    >>> growth = grow(g, (0, 0), tolerance=0.1)
    >>> growth.ring.tolist(), growth.refused.tolist(), growth.steps
    ([[0, 1, -1, -1]], [[-1, -1, 2, -1]], 2)
    >>> growth.size(1), round(growth.mean(1), 2), growth.closest_calls(2)[1].value
    (2, 0.51, 0.9)
    """

    gray: np.ndarray
    seed: tuple[int, int]
    tolerance: float
    connectivity: int
    ring: np.ndarray
    refused: np.ndarray

    @property
    def steps(self) -> int:
        """The last step: the one after which nothing more is tested."""
        return int(max(self.ring.max(), self.refused.max()))

    @property
    def seed_value(self) -> float:
        return float(self.gray[self.seed])

    def region(self, step: int | None = None) -> np.ndarray:
        """``(H, W) bool``: the pixels joined by ``step`` (all of them by default)."""
        return self.ring >= 0 if step is None else (self.ring >= 0) & (self.ring <= step)

    def frontier(self, step: int) -> np.ndarray:
        """``(H, W) bool``: the ring added at ``step``."""
        return self.ring == step

    def refused_by(self, step: int) -> np.ndarray:
        """``(H, W) bool``: the pixels refused at or before ``step``."""
        return (self.refused >= 0) & (self.refused <= step)

    def size(self, step: int | None = None) -> int:
        """Pixels in the region at ``step``."""
        return int(self.region(step).sum())

    def mean(self, step: int | None = None) -> float:
        """The region's mean gray value at ``step``."""
        return float(self.gray[self.region(step)].astype(np.float64).mean())

    def closest_calls(self, step: int) -> tuple[Check | None, Check | None]:
        """Of the pixels tested at ``step``: the one that joined farthest from the
        seed's value, and the one refused nearest to it (``None`` where there is
        none). At step ``0`` the seed itself joined."""
        diff = np.abs(self.gray.astype(np.float64) - self.seed_value)
        out = []
        for mask, pick, joined in ((self.ring == step, np.argmax, True),
                                   (self.refused == step, np.argmin, False)):
            if not mask.any():
                out.append(None)
                continue
            flat = np.flatnonzero(mask)
            i = flat[pick(diff.ravel()[flat])]
            r, c = divmod(int(i), self.gray.shape[1])
            out.append(Check(r, c, float(self.gray[r, c]), float(diff[r, c]), joined, step))
        return out[0], out[1]


def grow(gray: np.ndarray, seed: tuple[int, int], *, tolerance: float,
         connectivity: int = 4) -> Growth:
    """Grow a region from ``seed`` ring by ring, recording every step.

    A pixel passes when ``|gray - gray[seed]| <= tolerance``, computed in the gray
    image's own precision as the engine's ``region_growing`` does, so the final
    region is the engine's (and ``skimage.segmentation.flood``'s).

    Parameters
    ----------
    gray : (H, W) float ndarray
    seed : (row, col)
    tolerance : float >= 0
    connectivity : {4, 8}

    Returns
    -------
    Growth

    Raises
    ------
    ValueError
        A seed outside the image, a negative tolerance, another connectivity.

    Examples
    --------
    >>> g = np.zeros((5, 5)); g[:, 3:] = 1
    >>> grow(g, (2, 0), tolerance=0.5).ring[2].tolist()
    [0, 1, 2, -1, -1]
    """
    gray = _check_gray(gray)
    seed = _check_pixel(gray.shape, seed)
    connectivity = _check_connectivity(connectivity)
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be 0 or more, got {tolerance}")
    h, w = gray.shape
    allowed = (np.abs(gray - gray[seed]) <= tolerance).ravel()
    ring = np.full(h * w, -1, np.int32)
    refused = np.full(h * w, -1, np.int32)
    frontier = np.array([seed[0] * w + seed[1]])
    ring[frontier] = 0
    offsets = NEIGHBOURS[connectivity]
    step = 0
    while frontier.size:
        step += 1
        rows, cols = np.divmod(frontier, w)
        found = []
        for dr, dc in offsets:
            nr, nc = rows + dr, cols + dc
            inside = (nr >= 0) & (nr < h) & (nc >= 0) & (nc < w)
            found.append(nr[inside] * w + nc[inside])
        tested = np.unique(np.concatenate(found))
        tested = tested[(ring[tested] < 0) & (refused[tested] < 0)]
        passed = allowed[tested]
        ring[tested[passed]] = step
        refused[tested[~passed]] = step
        frontier = tested[passed]
    return Growth(gray=gray, seed=seed, tolerance=float(tolerance), connectivity=connectivity,
                  ring=ring.reshape(h, w), refused=refused.reshape(h, w))


def join_tolerance(gray: np.ndarray, seed: tuple[int, int], *,
                   connectivity: int = 4) -> np.ndarray:
    """The smallest tolerance at which each pixel joins the region grown from
    ``seed``: over every path from the seed, the least of the largest difference
    from the seed's gray value met on the way.

    So the region grown with tolerance ``t`` is exactly ``join <= t``. Computed by
    grayscale reconstruction (``skimage.morphology.reconstruction``) of the negated
    differences, from the seed.

    Parameters
    ----------
    gray : (H, W) float ndarray
    seed : (row, col)
    connectivity : {4, 8}

    Returns
    -------
    join : (H, W) ndarray, the dtype of ``gray``

    Examples
    --------
    >>> g = np.array([[0.5, 0.7, 0.5, 0.55]])
    >>> join_tolerance(g, (0, 0)).round(2).tolist()
    [[0.0, 0.2, 0.2, 0.2]]
    """
    gray = _check_gray(gray)
    seed = _check_pixel(gray.shape, seed)
    connectivity = _check_connectivity(connectivity)
    difference = np.abs(gray - gray[seed])
    footprint = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    start = np.full(gray.shape, -float(difference.max()))
    start[seed] = 0.0
    # Reconstruction by dilation keeps, at every pixel, the best over paths from the
    # seed of the worst value met: with values -difference, minus the minimax path.
    best = morphology.reconstruction(start, -difference.astype(np.float64),
                                     method="dilation", footprint=footprint)
    return (-best).astype(difference.dtype)


def leak_point(join: np.ndarray) -> tuple[float, tuple[int, int]]:
    """The smallest tolerance at which the region reaches the edge of the
    picture, and the edge pixel it reaches first there.

    Examples
    --------
    >>> j = np.array([[0.9, 0.9, 0.9], [0.9, 0.0, 0.3], [0.9, 0.9, 0.9]])
    >>> leak_point(j)
    (0.3, (1, 2))
    """
    join = _check_gray(join)
    edge = np.ones(join.shape, bool)
    edge[1:-1, 1:-1] = False
    values = np.where(edge, join, np.inf)
    r, c = np.unravel_index(int(np.argmin(values)), join.shape)
    return float(join[r, c]), (int(r), int(c))


def true_region(truth: np.ndarray, seed: tuple[int, int]) -> np.ndarray:
    """``(H, W) bool``: the true region under the seed, the connected pixels (4
    neighbours) of the truth's class at the seed.

    Examples
    --------
    >>> t = np.array([[2, 2, 1, 2]])
    >>> true_region(t, (0, 0)).tolist()
    [[True, True, False, False]]
    """
    truth = _check_gray(truth)
    seed = _check_pixel(truth.shape, seed)
    components = measure.label(truth == truth[seed], connectivity=1)
    return components == components[seed]


def tolerance_curve(join: np.ndarray, tolerances=TOLERANCES, *,
                    truth_region: np.ndarray | None = None) -> dict:
    """The region's size at every tolerance (from :func:`join_tolerance`), and
    with a ``truth_region`` its IoU with it.

    Returns ``{"tolerances", "size", "fraction", "iou"}`` (``iou`` is ``None``
    without a truth); ``size`` counts pixels and ``fraction`` is of the image.

    Examples
    --------
    >>> j = np.array([[0.0, 0.1, 0.4]], np.float32)
    >>> c = tolerance_curve(j, [0.0, 0.2, 0.5], truth_region=np.array([[1, 1, 0]], bool))
    >>> c["size"].tolist(), c["iou"].round(2).tolist()
    ([1, 2, 3], [0.5, 1.0, 0.67])
    """
    join = _check_gray(join)
    t = np.asarray(tolerances, np.float64)
    # Compared in the map's own precision, as the flood compares its tolerance.
    levels = t.astype(join.dtype)
    size = np.searchsorted(np.sort(join.ravel()), levels, side="right")
    iou = None
    if truth_region is not None:
        truth_region = np.asarray(truth_region, bool)
        if truth_region.shape != join.shape:
            raise ValueError(f"truth region {truth_region.shape} and join map {join.shape} "
                             "differ in size")
        inside = np.searchsorted(np.sort(join[truth_region]), levels, side="right")
        iou = inside / (size + truth_region.sum() - inside)
    return {"tolerances": t, "size": size, "fraction": size / join.size, "iou": iou}


# --------------------------------------------------------------------------- seeds


def _deepest(mask: np.ndarray) -> tuple[int, int]:
    depth = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    r, c = np.unravel_index(int(np.argmax(depth)), mask.shape)
    return int(r), int(c)


def _components(gray: np.ndarray, truth: np.ndarray | None) -> tuple[np.ndarray, ...]:
    # The two sides a lesson looks at: the true objects and the rest, or without a
    # truth the two sides of Otsu's threshold.
    if truth is not None and objects(truth).any() and not objects(truth).all():
        return objects(truth), ~objects(truth)
    if gray.min() == gray.max():
        return np.ones(gray.shape, bool), np.zeros(gray.shape, bool)
    t = global_threshold(gray, "otsu")
    return gray > t, gray <= t


def _pieces(side: np.ndarray) -> tuple[np.ndarray, list[int], set[int], np.ndarray]:
    """The connected pieces of ``side`` (4 neighbours): their labels, the ids largest
    first, the ids touching the picture's edge, and the sizes."""
    lab = measure.label(side, connectivity=1)
    sizes = np.bincount(lab.ravel())
    ids = sorted((i for i in range(1, sizes.size) if sizes[i] > 0), key=lambda i: -sizes[i])
    edge = set(np.unique(np.r_[lab[0], lab[-1], lab[:, 0], lab[:, -1]]).tolist())
    return lab, ids, edge, sizes


def object_seed(gray: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, int]:
    """A seed deep inside an object: among the largest objects that do not touch the
    picture's edge (at least half the size of the largest), the one nearest the
    centre, at its pixel farthest from its outline.

    Objects are the truth's objects when known, else the pieces on either side of
    Otsu's threshold. On a flat image, the centre.

    Examples
    --------
    >>> g = np.zeros((9, 9)); g[2:7, 2:7] = 1
    >>> object_seed(g)
    (4, 4)
    """
    gray = _check_gray(gray)
    h, w = gray.shape
    found = []  # (size, touches the edge, label image, id)
    for side in _components(gray, truth):
        lab, ids, edge, sizes = _pieces(side)
        found += [(int(sizes[i]), i in edge, lab, i) for i in ids]
    if not found:
        return h // 2, w // 2
    pool = [f for f in found if not f[1]] or found
    largest = max(f[0] for f in pool)
    seeds = [_deepest(lab == i) for size, _, lab, i in pool if 2 * size >= largest]
    return min(seeds, key=lambda rc: (rc[0] - (h - 1) / 2) ** 2 + (rc[1] - (w - 1) / 2) ** 2)


def walker_seeds(gray: np.ndarray, truth: np.ndarray | None = None, *,
                 count: int = 2) -> list[tuple[int, int, int]]:
    """Seeds ``(row, col, label)`` for a random walker: label 1 deep in an object
    (:func:`object_seed`), label 2 deep in the rest of the picture (the background),
    and with ``count=3`` label 3 deep in another object (or, without one, as far as
    possible from the first two).

    Examples
    --------
    >>> g = np.zeros((12, 12)); g[2:5, 2:5] = 1; g[7:11, 7:11] = 1
    >>> walker_seeds(g, count=3)
    [(8, 8, 1), (3, 8, 2), (3, 3, 3)]
    """
    gray = _check_gray(gray)
    if count not in (2, 3):
        raise ValueError(f"count must be 2 or 3, got {count}")
    first = object_seed(gray, truth)
    sides = _components(gray, truth)
    own = sides[0] if sides[0][first] else sides[1]
    rest = ~own
    second = _deepest(rest) if rest.any() else (0, 0)
    seeds = [(*first, 1), (*second, 2)]
    if count == 3:
        lab, ids, edge, _ = _pieces(own)
        others = ([i for i in ids if i != lab[first] and i not in edge]
                  or [i for i in ids if i != lab[first]])
        if others:
            third = _deepest(lab == others[0])
        else:
            rows, cols = np.indices(gray.shape)
            far = np.minimum(np.hypot(rows - first[0], cols - first[1]),
                             np.hypot(rows - second[0], cols - second[1]))
            third = tuple(int(v) for v in np.unravel_index(int(np.argmax(far)), gray.shape))
        seeds.append((*third, 3))
    if len({(r, c) for r, c, _ in seeds}) < len(seeds):  # a tiny or flat image
        h, w = gray.shape
        seeds = [(0, 0, 1), (h - 1, w - 1, 2), (0, w - 1, 3)][:count]
    return seeds


# --------------------------------------------------------------------------- random walker


def _sigma(gray: np.ndarray) -> float:
    sigma = float(np.asarray(gray, np.float64).std())
    if sigma == 0:
        raise ValueError("the image is flat (one gray value): the walkers' edge weights "
                         "are undefined")
    return sigma


def walker_weights(gray: np.ndarray, *, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The random walker's edge weights between 4-neighbours, as scikit-image's
    ``random_walker`` builds them: ``exp(-beta (g_i - g_j)**2 / (10 sigma)) + 1e-10``
    with ``sigma`` the standard deviation of the whole image.

    Returns
    -------
    down : (H - 1, W) ndarray
        Between ``(r, c)`` and ``(r + 1, c)``.
    right : (H, W - 1) ndarray
        Between ``(r, c)`` and ``(r, c + 1)``.

    Examples
    --------
    >>> down, right = walker_weights(np.array([[0.0, 1.0], [0.0, 1.0]]), beta=1.0)
    >>> down.tolist(), right.round(3).tolist()
    ([[1.0, 1.0]], [[0.819], [0.819]])
    """
    gray = _check_gray(gray).astype(np.float64)
    scale = beta / (10 * _sigma(gray))
    down = np.exp(-scale * np.diff(gray, axis=0) ** 2) + WEIGHT_FLOOR
    right = np.exp(-scale * np.diff(gray, axis=1) ** 2) + WEIGHT_FLOOR
    return down, right


@dataclass(frozen=True)
class EdgeWeight:
    """The weight of the edge between neighbours ``a`` and ``b``, with the numbers
    that make it: ``exp(-beta (value_a - value_b)**2 / (10 sigma))`` (plus the
    floor of ``1e-10``).

    Examples
    --------
    >>> e = edge_weight(np.array([[0.0, 1.0]]), (0, 0), (0, 1), beta=1.0)
    >>> e.sigma, round(e.exponent, 3), round(e.weight, 3)
    (0.5, -0.2, 0.819)
    """

    a: tuple[int, int]
    b: tuple[int, int]
    value_a: float
    value_b: float
    beta: float
    sigma: float

    @property
    def exponent(self) -> float:
        return -self.beta * (self.value_a - self.value_b) ** 2 / (10 * self.sigma)

    @property
    def weight(self) -> float:
        return float(np.exp(self.exponent)) + WEIGHT_FLOOR


def edge_weight(gray: np.ndarray, a: tuple[int, int], b: tuple[int, int], *,
                beta: float) -> EdgeWeight:
    """The walker's edge weight between two 4-neighbours (see :func:`walker_weights`).

    Raises
    ------
    ValueError
        ``a`` and ``b`` are not 4-neighbours.

    Examples
    --------
    >>> g = np.array([[0.2, 0.2, 0.8]])
    >>> round(edge_weight(g, (0, 0), (0, 1), beta=100).weight, 3)
    1.0
    """
    gray = _check_gray(gray)
    a, b = _check_pixel(gray.shape, a, "a"), _check_pixel(gray.shape, b, "b")
    if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
        raise ValueError(f"{a} and {b} are not neighbours (the walker steps up, down, left "
                         "or right)")
    return EdgeWeight(a=a, b=b, value_a=float(gray[a]), value_b=float(gray[b]),
                      beta=float(beta), sigma=_sigma(gray))


def walker_path(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    """The straight way from ``start`` to ``end`` in steps a walker can take (up,
    down, left, right): the line's pixels, with one added at each diagonal step.

    Examples
    --------
    >>> walker_path((0, 0), (1, 2))
    [(0, 0), (0, 1), (1, 1), (1, 2)]
    """
    rows, cols = draw.line(int(start[0]), int(start[1]), int(end[0]), int(end[1]))
    out = []
    for r, c in zip(rows.tolist(), cols.tolist()):
        if out and out[-1][0] != r and out[-1][1] != c:
            out.append((out[-1][0], c))
        out.append((r, c))
    return out


def seed_object(gray: np.ndarray, seed: tuple[int, int],
                truth: np.ndarray | None = None) -> np.ndarray:
    """``(H, W) bool``: the object (or piece of background) the seed is in: the
    connected piece (4 neighbours) of the seed's side, the true objects or the rest
    when the truth is known, else the seed's side of Otsu's threshold.

    Examples
    --------
    >>> g = np.zeros((3, 5)); g[:, 1:3] = 1
    >>> seed_object(g, (1, 1)).astype(int).tolist()
    [[0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0]]
    """
    gray = _check_gray(gray)
    seed = _check_pixel(gray.shape, seed)
    first, second = _components(gray, truth)
    side = first if first[seed] else second
    pieces = measure.label(side, connectivity=1)
    return pieces == pieces[seed]


def edge_pairs(gray: np.ndarray, start: tuple[int, int], end: tuple[int, int], *,
               region: np.ndarray | None = None
               ) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """Two pairs of neighbours on the straight way from ``start`` to ``end``
    (:func:`walker_path`): ``"across"`` an edge and ``"inside"`` a region.

    ``across`` is the largest step in gray value near where the way first leaves
    ``region`` (``start``'s object, see :func:`seed_object`; within two pixels of
    that point), or the largest step of all without a ``region`` or when the way
    never leaves it. ``inside`` is the smallest step before ``across``, at least
    four steps before it where the way allows (after it when ``across`` is the very
    first step).

    Examples
    --------
    >>> g = np.array([[0.5, 0.51, 0.6, 0.62, 0.7, 0.7, 0.1, 0.1]])
    >>> edge_pairs(g, (0, 0), (0, 7))
    {'across': ((0, 5), (0, 6)), 'inside': ((0, 0), (0, 1))}
    """
    gray = _check_gray(gray).astype(np.float64)
    start, end = _check_pixel(gray.shape, start, "start"), _check_pixel(gray.shape, end, "end")
    if start == end:
        raise ValueError("start and end are the same pixel")
    path = walker_path(start, end)
    steps = np.array([abs(gray[a] - gray[b]) for a, b in zip(path, path[1:])])
    near = np.arange(len(steps))
    if region is not None:
        out = [i for i, p in enumerate(path) if not region[p]]
        if out:
            first = out[0] - 1  # the step from the last pixel inside to the first outside
            near = near[max(first - 2, 0):first + 3]
    k = int(near[np.argmax(steps[near])])
    # inside: at least four steps from the edge where the way allows it, so the two
    # pairs do not hide each other
    side = ([j for j in range(k) if k - j >= 4] or list(range(k))
            or [j for j in range(len(steps)) if j - k >= 4] or list(range(len(steps))))
    i = min(side, key=lambda j: steps[j])
    return {"across": (path[k], path[k + 1]), "inside": (path[i], path[i + 1])}


def _markers(shape, seeds) -> tuple[np.ndarray, int]:
    seeds = [(int(r), int(c), int(lab)) for r, c, lab in seeds]
    labels = sorted({lab for *_, lab in seeds})
    if len(labels) < 2 or labels != list(range(1, len(labels) + 1)):
        raise ValueError(f"the walker needs seeds labelled 1, 2, ... (at least two labels), "
                         f"got labels {labels}")
    if len({(r, c) for r, c, _ in seeds}) < len(seeds):
        raise ValueError("two seeds are on the same pixel; move one of them")
    markers = np.zeros(shape, np.int32)
    for r, c, lab in seeds:
        markers[_check_pixel(shape, (r, c))] = lab
    return markers, len(labels)


def walker_probabilities(gray: np.ndarray, seeds, *, beta: float) -> np.ndarray:
    """The probability that a walker from each pixel reaches a seed of each label
    first: scikit-image's ``random_walker`` solved exactly (a direct sparse solve,
    ``mode="bf"``), which on a lesson's small copy is quicker than the engine's
    iterative solver and exact at any ``beta``.

    Parameters
    ----------
    gray : (H, W) float ndarray
    seeds : list of (row, col, label)
        Labels ``1..K``, ``K >= 2``, at distinct pixels.
    beta : float > 0

    Returns
    -------
    probabilities : (H, W, K) float64 ndarray
        ``probabilities[..., k]`` for label ``k + 1``; they sum to 1 at every pixel.

    Raises
    ------
    ValueError
        Fewer than two labels, labels not ``1..K``, two seeds on one pixel, a
        seed outside the image, a flat image.

    Examples
    --------
    >>> g = np.zeros((6, 6)); g[:, 3:] = 1
    >>> p = walker_probabilities(g, [(2, 0, 1), (2, 5, 2)], beta=100)
    >>> p.shape, (p[..., 0] > 0.5)[2].tolist()
    ((6, 6, 2), [True, True, True, False, False, False])
    """
    gray = _check_gray(gray).astype(np.float64)
    _sigma(gray)
    if not beta > 0:
        raise ValueError(f"beta must be more than 0, got {beta}")
    markers, k = _markers(gray.shape, seeds)
    with warnings.catch_warnings():
        # A direct solve can overshoot [0, 1] by rounding at extreme beta; clipped below.
        warnings.filterwarnings("ignore", message="The probability range is outside")
        full = segmentation.random_walker(gray, markers, beta=beta, mode="bf",
                                          return_full_prob=True)
    full = np.clip(np.moveaxis(full, 0, -1), 0, None)
    return full / np.maximum(full.sum(-1, keepdims=True), 1e-300)


def walker_average(gray: np.ndarray, probabilities: np.ndarray, pixel: tuple[int, int], *,
                   beta: float, label: int) -> dict:
    """Why the probabilities are what they are: away from the seeds, a pixel's
    probability is the weighted average of its neighbours' (a walker's first step
    goes to neighbour ``q`` with probability ``w_pq / sum(w)``).

    Returns ``{"neighbours", "weights", "values", "average", "value"}``: the
    4-neighbours, their edge weights to ``pixel`` and probabilities of ``label``,
    the weighted average, and the pixel's own probability.

    Examples
    --------
    >>> g = np.zeros((6, 6)); g[:, 3:] = 1
    >>> p = walker_probabilities(g, [(2, 0, 1), (2, 5, 2)], beta=10)
    >>> a = walker_average(g, p, (3, 2), beta=10, label=1)
    >>> bool(abs(a["average"] - a["value"]) < 1e-9), len(a["weights"])
    (True, 4)
    """
    gray = _check_gray(gray)
    r, c = _check_pixel(gray.shape, pixel, "pixel")
    down, right = walker_weights(gray, beta=beta)
    neighbours, weights = [], []
    for dr, dc in NEIGHBOURS[4]:
        nr, nc = r + dr, c + dc
        if 0 <= nr < gray.shape[0] and 0 <= nc < gray.shape[1]:
            neighbours.append((nr, nc))
            weights.append(down[min(r, nr), c] if dr else right[r, min(c, nc)])
    weights = np.array(weights)
    values = np.array([probabilities[q][label - 1] for q in neighbours])
    return {"neighbours": neighbours, "weights": weights, "values": values,
            "average": float(weights @ values / weights.sum()),
            "value": float(probabilities[r, c, label - 1])}


def question_pixel(low: np.ndarray, high: np.ndarray) -> tuple[int, int]:
    """The pixel to ask about: one whose label changes from ``low`` to ``high``
    probabilities (``(H, W, K)`` each, at a low and a high ``beta``), where both
    are surest of their answer, at least three pixels from the picture's edge where
    there is such a pixel; where no label changes, the least sure pixel at ``high``.

    Examples
    --------
    >>> low = np.zeros((1, 3, 2)); low[..., 0] = [0.9, 0.8, 0.4]; low[..., 1] = 1 - low[..., 0]
    >>> high = low.copy(); high[0, 1] = [0.1, 0.9]
    >>> question_pixel(low, high)
    (0, 1)
    """
    low, high = np.asarray(low), np.asarray(high)
    a, b = low.argmax(-1), high.argmax(-1)
    changed = a != b
    away = np.zeros(changed.shape, bool)  # a pixel at the picture's edge is hard to see
    away[3:-3, 3:-3] = True
    if (changed & away).any():
        changed &= away
    if changed.any():
        sure = np.minimum(low.max(-1), high.max(-1))
        score = np.where(changed, sure, -1.0)
    else:
        score = -high.max(-1)
    r, c = np.unravel_index(int(np.argmax(score)), a.shape)
    return int(r), int(c)


# --------------------------------------------------------------------------- pictures


def marked(picture: np.ndarray, points, colour, *, arm: int = 2) -> np.ndarray:
    """A copy of an ``(H, W, 3)`` picture with a hollow cross (a ring of ``arm``
    pixels each way, the centre left as it is) around each ``(row, col)``.

    Examples
    --------
    >>> pic = marked(np.zeros((5, 5, 3), np.float32), [(2, 2)], (1, 0, 0), arm=1)
    >>> pic[2, 2].tolist(), pic[2, 1].tolist(), pic[0, 2].tolist()
    ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    """
    out = np.array(picture, np.float32, copy=True)
    h, w = out.shape[:2]
    for r, c in points:
        for d in range(1, arm + 1):
            for rr, cc in ((r - d, c), (r + d, c), (r, c - d), (r, c + d)):
                if 0 <= rr < h and 0 <= cc < w:
                    out[rr, cc] = colour
    return out


def growth_picture(image: np.ndarray, growth: Growth, step: int) -> np.ndarray:
    """The image with the region at ``step``: older rings dark blue, newer ones
    lighter (every other ring a little darker, so the rings show as bands), the
    frontier (the ring just added) yellow, the pixels refused so far vermillion,
    and the seed a white pixel in a black square.

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> g = np.array([[0.5, 0.52, 0.9, 0.5]])
    >>> pic = growth_picture(g[:, :, None], grow(g, (0, 0), tolerance=0.1), 2)
    >>> pic[0, 0].tolist(), pic[0, 1].tolist(), pic[0, 2].round(2).tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.84, 0.37, 0.0])
    """
    rgb = to_rgb(image).astype(np.float64)
    if rgb.shape[:2] != growth.ring.shape:
        raise ValueError(f"image {rgb.shape[:2]} and growth {growth.ring.shape} differ in size")
    ring = growth.ring
    inside = growth.region(step)
    share = np.clip(ring / max(step, 1), 0, 1)[..., None]
    colours = (1 - share) * _OLD + share * _NEW
    colours = np.where((ring % 2 == 1)[..., None], 0.8 * colours, colours)  # rings as bands
    out = np.where(inside[..., None], 0.35 * rgb + 0.65 * colours, rgb)
    out[growth.frontier(step)] = FRONTIER_COLOUR
    out[growth.refused_by(step)] = REFUSED_COLOUR
    r, c = growth.seed
    out[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] = 0.0
    out[r, c] = 1.0
    return out.astype(np.float32)


def walker_picture(image: np.ndarray, labels: np.ndarray, seeds, *, path=(),
                   pairs: dict | None = None, crosses: dict | None = None,
                   alpha: float = 0.45) -> np.ndarray:
    """The labelling over the image with its boundaries in white, ``path`` (a list
    of ``(row, col)``) lightened, ``pairs`` (``{(r, g, b): (a, b)}``, two
    neighbouring pixels each) painted in a square outline, ``crosses``
    (``{(r, g, b): [(row, col), ...]}``) as hollow crosses, and each seed as a
    square in its label's colour, edged in black.

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((7, 7, 1), np.float32); lab = np.ones((7, 7), np.int32)
    >>> pic = walker_picture(img, lab, [(3, 3, 1)], pairs={(1, 0, 0): ((0, 0), (0, 1))})
    >>> pic[3, 3].tolist() == label_palette(1)[1].tolist(), pic[1, 3].tolist(), pic[0, 1].tolist()
    (True, [0.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    """
    labels = np.asarray(labels)
    out = overlay(image, labels, alpha=alpha, show_boundaries=True,
                  boundary_color=(1.0, 1.0, 1.0))
    for r, c in path:
        out[r, c] = 0.4 * out[r, c] + 0.6
    for colour, (a, b) in (pairs or {}).items():
        # The two pixels, in a square outline two pixels away to find them by.
        top, left = min(a[0], b[0]) - 2, min(a[1], b[1]) - 2
        bottom, right = max(a[0], b[0]) + 2, max(a[1], b[1]) + 2
        ring = np.zeros(out.shape[:2], bool)
        ring[max(top, 0):bottom + 1, max(left, 0):right + 1] = True
        ring[max(top + 1, 0):bottom, max(left + 1, 0):right] = False
        out[ring] = colour
        out[a], out[b] = colour, colour
    for colour, points in (crosses or {}).items():
        out = marked(out, points, colour, arm=3)
    palette = label_palette(max(int(labels.max(initial=0)),
                                max((lab for *_, lab in seeds), default=0)))
    for r, c, lab in seeds:
        out[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3] = 0.0
        out[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] = palette[lab]
    return out


# --------------------------------------------------------------------------- figures


def tolerance_figure(curve: dict, *, marks: dict[str, float] | None = None) -> go.Figure:
    """The region's share of the picture against the tolerance (from
    :func:`tolerance_curve`), its IoU with the true region on a second axis where
    known, and vertical lines at the ``marks`` (``{name: tolerance}``).

    Examples
    --------
    >>> j = np.array([[0.0, 0.1, 0.4]], np.float32)
    >>> c = tolerance_curve(j, [0.0, 0.2, 0.5], truth_region=np.array([[1, 1, 0]], bool))
    >>> [d.name for d in tolerance_figure(c, marks={"leak": 0.4}).data]
    ['region size', 'IoU with the true region', 'leak 0.400']
    """
    fig = go.Figure()
    fig.add_scatter(x=curve["tolerances"], y=100 * curve["fraction"], mode="lines",
                    name="region size", line=dict(color="#0072b2", width=3, shape="hv"))
    if curve["iou"] is not None:
        fig.add_scatter(x=curve["tolerances"], y=curve["iou"], mode="lines", yaxis="y2",
                        name="IoU with the true region",
                        line=dict(color="#009e73", width=3, dash="dot", shape="hv"))
    colours = ["#d55e00", "#cc79a7", "#e69f00", "#555555"]
    for i, (name, t) in enumerate((marks or {}).items()):
        fig.add_scatter(x=[float(t), float(t)], y=[0, 100], mode="lines",
                        name=f"{name} {float(t):.3f}",
                        line=dict(color=colours[i % len(colours)], width=2, dash="dash"))
    fig.update_layout(xaxis_title="tolerance (gray value)", yaxis_title="region (% of picture)",
                      height=380, margin=dict(l=10, r=10, t=90, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"),
                      yaxis=dict(range=[0, 101]),
                      yaxis2=dict(title="IoU", overlaying="y", side="right", range=[0, 1.01],
                                  showgrid=False))
    return fig


def join_figure(join: np.ndarray, *, seed: tuple[int, int],
                leak: tuple[int, int] | None = None) -> go.Figure:
    """The join-tolerance map (:func:`join_tolerance`) as a heatmap, the seed and
    the edge pixel the region reaches first marked; hovering shows a pixel's value.

    Examples
    --------
    >>> fig = join_figure(np.zeros((3, 3), np.float32), seed=(1, 1), leak=(0, 1))
    >>> [d.type for d in fig.data]
    ['heatmap', 'scatter', 'scatter']
    """
    join = _check_gray(join)
    fig = go.Figure(go.Heatmap(
        z=join, colorscale="Viridis", zmin=0, zmax=max(float(join.max()), 1e-6),
        colorbar=dict(title="joins at"),
        hovertemplate="row %{y}, column %{x}<br>joins at tolerance %{z:.3f}<extra></extra>"))
    points = [("seed", seed, "#ffffff")] + ([("first edge pixel reached", leak, "#d55e00")]
                                            if leak is not None else [])
    for name, (r, c), colour in points:
        fig.add_scatter(x=[c], y=[r], mode="markers", name=name,
                        marker=dict(size=12, color=colour, symbol="x",
                                    line=dict(color="#000000", width=1)))
    height = int(min(560, max(260, 480 * join.shape[0] / join.shape[1])))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.08))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    return fig

