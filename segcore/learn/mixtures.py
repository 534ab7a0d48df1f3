"""Gaussian mixtures and EM, step by step: the numbers, pictures and equations of
the lesson, over plain arrays.

EM itself is the engine's (:func:`segcore.methods.clustering.em`, the iterations of
the ``gmm`` method); this module records where it starts, splits its history into
E and M half-steps, and says what each half-step did. Pixels are grouped by their
feature values rounded to 1/255 (8 bits), each value counting as many times as
pixels have it: the same fit as on every pixel, on a few hundred or thousand rows.

A run, from the image to the split of its pixels after the first E step:

>>> from segcore import synthetic
>>> image = synthetic.shapes((48, 64)).image
>>> points = feature_points(image, features="gray")
>>> history = fit_em(points, k=3)
>>> state = step_state(points, history, 1)
>>> state.name, state.resp.shape == (len(points.x), 3)
('E step 1', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from segcore import viz
from segcore.color import label_palette
from segcore.methods.clustering import (REG_COVAR, best_lloyd, colour_table, em,
                                        posteriors, squared_distances)
from segcore.registry import check_image

__all__ = [
    "Features", "FEATURES", "STARTS", "Points", "EMHistory", "StepState",
    "feature_points", "fit_em", "step_names", "parameters", "responsibilities", "step_state",
    "to_image", "marked_row", "row_pixel", "switched_fraction", "e_step_terms", "m_step_terms",
    "hard_and_soft", "cuts", "ellipse", "mark_pixel", "hard_soft_picture",
    "mixture_histogram_figure", "mixture_scatter_figure", "soft_maps_figure",
    "log_likelihood_figure", "e_step_latex", "m_step_latex",
    "SCATTER_POINTS", "SOFT_MAP_SIDE", "UNCERTAIN_COLOUR", "DISAGREE_COLOUR",
]


class Features(NamedTuple):
    """What EM fits: ``channels`` of the colour ``space`` (see
    :func:`segcore.color.to_space`), named ``axes`` on the figures.

    Examples
    --------
    >>> FEATURES["ab"].space, FEATURES["ab"].channels
    ('lab', (1, 2))
    """

    label: str
    space: str
    channels: tuple[int, ...]
    axes: tuple[str, ...]


#: The feature choices: the gray value (a histogram), or two colour channels (a scatter).
FEATURES = {
    "gray": Features("gray value (a histogram)", "gray", (0,), ("gray value",)),
    "ab": Features("a* and b*: colour without brightness", "lab", (1, 2),
                   ("a* (green to red)", "b* (blue to yellow)")),
    "Lb": Features("L* and b*: brightness and blue to yellow", "lab", (0, 2),
                   ("L* (brightness)", "b* (blue to yellow)")),
    "rg": Features("red and green", "rgb", (0, 1), ("red", "green")),
}
#: Where EM starts: each pixel given wholly to its nearest of k centres, found by
#: k-means (as the ``gmm`` method starts) or picked as k random pixels.
STARTS = {"kmeans": "k-means centres", "random": "k random pixels"}


@dataclass(frozen=True)
class Points:
    """The distinct feature values of an image's pixels.

    Attributes
    ----------
    x : (n, d) float64 ndarray
        Each distinct feature value (rounded to 1/255).
    counts : (n,) float64 ndarray
        Pixels with each value.
    index : (H * W,) int32 ndarray
        Row of ``x`` of every pixel.
    shape : tuple of int
        ``(H, W)`` of the image.
    features : str
        Key of :data:`FEATURES`.

    Examples
    --------
    >>> p = feature_points(np.zeros((2, 3, 1), np.float32))
    >>> p.x.tolist(), p.counts.tolist(), p.shape
    ([[0.0]], [6.0], (2, 3))
    """

    x: np.ndarray
    counts: np.ndarray
    index: np.ndarray
    shape: tuple[int, int]
    features: str


@dataclass(frozen=True)
class EMHistory:
    """A recorded EM run, components numbered by their final mean (first feature).

    Attributes
    ----------
    start : str
        Key of :data:`STARTS`.
    centres : (k, d) float64 ndarray
        The start's centres; every value starts wholly in its nearest one.
    start_assign : (n,) int ndarray
        That nearest centre for each row of :attr:`Points.x`.
    weights : (T + 1, k) float64 ndarray
    means : (T + 1, k, d) float64 ndarray
    covariances : (T + 1, k, d, d) float64 ndarray
        The parameters after the start's M step (row 0) and after each of the
        ``T`` EM iterations.
    log_likelihood : (T + 1,) float64 ndarray
        Mean log-likelihood per pixel under those parameters.
    converged : bool
        Whether EM stopped because the log-likelihood rose by less than
        :data:`segcore.methods.clustering.EM_TOL` (else at ``max_iter``).

    Examples
    --------
    >>> h = fit_em(feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)), k=2)
    >>> h.k, h.weights.shape[1], h.n_steps == len(h.log_likelihood) - 1
    (2, 2, True)
    """

    start: str
    centres: np.ndarray
    start_assign: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: np.ndarray
    converged: bool

    @property
    def k(self) -> int:
        """Number of components."""
        return self.weights.shape[1]

    @property
    def n_steps(self) -> int:
        """EM iterations (each one E step and one M step)."""
        return len(self.log_likelihood) - 1


@dataclass(frozen=True)
class StepState:
    """What the lesson draws at one half-step (see :func:`step_state`).

    Attributes
    ----------
    step : int
        The half-step: ``0`` the start, ``2t - 1`` E step ``t``, ``2t`` M step ``t``.
    name : str
    kind : str
        ``"start"``, ``"E"`` or ``"M"``.
    m_step, e_step : int
        The latest M step and E step taken (``0``: the start's).
    params : tuple
        ``(weights (k,), means (k, d), covariances (k, d, d))`` of the latest M
        step: the curves drawn.
    resp : (n, k) float64 ndarray
        The latest E step's split of every value among the components
        (responsibilities): the split drawn.
    m_resp : (n, k) float64 ndarray
        The split the latest M step used.
    e_params : tuple or None
        The parameters the latest E step used (``None`` at the start).
    next_resp : (n, k) float64 ndarray
        The split the next E step gives (after an E step, ``resp`` itself).
    log_likelihood : float
        Mean log-likelihood per pixel under ``params``.
    next_log_likelihood : float or None
        The same after the next M step (``None`` after the last one).
    switched : float or None
        Fraction of pixels whose main component the latest E step changed.
    ll_change : float or None
        What the latest M step added to the log-likelihood.
    mean_shift : float or None
        How far the latest M step moved the means (the largest move).
    marked : int
        Row of the pixel the lesson follows: one whose main component the next
        E step after the latest M step changes (or, with none, the least
        certain after it).

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> s = step_state(p, fit_em(p, k=2), 0)
    >>> s.kind, s.e_params, s.switched
    ('start', None, None)
    """

    step: int
    name: str
    kind: str
    m_step: int
    e_step: int
    params: tuple
    resp: np.ndarray
    m_resp: np.ndarray
    e_params: tuple | None
    next_resp: np.ndarray
    log_likelihood: float
    next_log_likelihood: float | None
    switched: float | None
    ll_change: float | None
    mean_shift: float | None
    marked: int


# --------------------------------------------------------------------------- computation


def feature_points(image: np.ndarray, *, features: str = "gray") -> Points:
    """The distinct feature values of an image's pixels, with their counts.

    Values are the engine's features (:func:`segcore.methods.clustering.colour_table`),
    then the chosen channels rounded to 1/255: a gray image keeps its 256 levels,
    and a colour pair has a few thousand distinct values where the image has tens
    of thousands of pixels.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    features : str
        A key of :data:`FEATURES`; a gray image has only ``"gray"``.

    Returns
    -------
    Points

    Raises
    ------
    ValueError
        If ``features`` is unknown, or a colour feature is asked of a gray image.

    Examples
    --------
    >>> img = np.zeros((2, 2, 3), np.float32); img[0] = (1.0, 0.0, 0.0)
    >>> p = feature_points(img, features="rg")
    >>> p.x.tolist(), p.counts.tolist(), p.index.tolist()
    ([[0.0, 0.0], [1.0, 0.0]], [2.0, 2.0], [1, 1, 0, 0])
    >>> feature_points(img[..., :1], features="ab")
    Traceback (most recent call last):
    ...
    ValueError: a gray image has one feature, its gray value: use features='gray', got 'ab'
    """
    image = check_image(image)
    if features not in FEATURES:
        raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
    if image.shape[2] == 1 and features != "gray":
        raise ValueError("a gray image has one feature, its gray value: use features='gray', "
                         f"got {features!r}")
    choice = FEATURES[features]
    x, counts, index = colour_table(image, choice.space)
    levels = np.rint(x[:, list(choice.channels)] * 255).astype(np.int64)
    values, inverse = np.unique(levels, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    # Rounded values in float32, as the engine's colour table has them: a gray image's
    # points are then exactly the engine's, and so is its EM.
    x = (values.astype(np.float32) / np.float32(255)).astype(np.float64)
    return Points(x=x, counts=np.bincount(inverse, weights=counts, minlength=len(values)),
                  index=inverse[index].astype(np.int32), shape=image.shape[:2], features=features)


def fit_em(points: Points, *, k: int, start: str = "kmeans", rng: int = 0,
           max_iter: int = 100) -> EMHistory:
    """Run the engine's EM (full covariances) from a hard start and keep its history.

    The start gives every value wholly to its nearest of ``k`` centres: the
    k-means centres the ``gmm`` method starts from (``"kmeans"``, best of several
    k-means++ starts), or ``k`` distinct values drawn at random with the
    probability of their pixel counts (``"random"``). The start's M step gives
    row 0 of the history; each EM iteration one more row. Components are
    numbered by their final mean's first feature (darkest first for gray).

    Parameters
    ----------
    points : Points
    k : int
        Number of components, from 1 to the number of distinct values.
    start : str
        A key of :data:`STARTS`.
    rng : int
        Seed of the random start (and of k-means++).
    max_iter : int
        EM iterations at most.

    Returns
    -------
    EMHistory

    Examples
    --------
    >>> x = np.array([0.0, 0.1, 0.9, 1.0, 1.0, 0.95])
    >>> p = feature_points(x.astype(np.float32).reshape(2, 3))
    >>> h = fit_em(p, k=2)
    >>> h.means[-1].ravel().round(2).tolist(), h.weights[-1].round(2).tolist()
    ([0.05, 0.96], [0.33, 0.67])
    >>> fit_em(p, k=9)
    Traceback (most recent call last):
    ...
    ValueError: the image has 5 distinct values, fewer than k = 9; lower k
    """
    if start not in STARTS:
        raise ValueError(f"start must be one of {', '.join(STARTS)}, got {start!r}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    x, w = points.x, points.counts
    if len(x) < k:
        raise ValueError(f"the image has {len(x)} distinct values, fewer than k = {k}; lower k")
    if start == "kmeans":
        centres, _ = best_lloyd(x, w, k, rng=rng, max_iter=300)
    else:
        centres = x[np.random.default_rng(rng).choice(len(x), k, replace=False, p=w / w.sum())]
    assign = squared_distances(x, centres).argmin(1)
    fit = em(x, w, np.eye(k)[assign], covariance_type="full", max_iter=max_iter)
    steps = fit["history"]
    order = np.argsort(steps[-1]["means"][:, 0], kind="stable")
    rank = np.empty(k, np.int64)
    rank[order] = np.arange(k)
    return EMHistory(
        start=start, centres=centres[order], start_assign=rank[assign],
        weights=np.stack([s["weights"][order] for s in steps]),
        means=np.stack([s["means"][order] for s in steps]),
        covariances=np.stack([s["covariances"][order] for s in steps]),
        log_likelihood=np.array([s["log_likelihood"] for s in steps]),
        converged=bool(fit["converged"]))


def step_names(history: EMHistory) -> list[str]:
    """The half-steps of a run, in order: ``Start``, ``E step 1``, ``M step 1``, ...

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> step_names(fit_em(p, k=2, max_iter=1))
    ['Start', 'E step 1', 'M step 1']
    """
    names = ["Start"]
    for t in range(1, history.n_steps + 1):
        names += [f"E step {t}", f"M step {t}"]
    return names


def parameters(history: EMHistory, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(weights, means, covariances)`` after M step ``t`` (``0``: the start's).

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> [a.shape for a in parameters(fit_em(p, k=2), 0)]
    [(2,), (2, 1), (2, 1, 1)]
    """
    if not 0 <= t <= history.n_steps:
        raise ValueError(f"t must be in [0, {history.n_steps}], got {t}")
    return history.weights[t], history.means[t], history.covariances[t]


def responsibilities(points: Points, history: EMHistory, t: int) -> np.ndarray:
    """``(n, k)`` responsibilities after E step ``t``: for ``t = 0`` the hard start
    (0 or 1), else the engine's E step
    (:func:`segcore.methods.clustering.posteriors`) under the parameters of M step
    ``t - 1``. ``t`` may be one past the last iteration: the E step EM would take next.

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> h = fit_em(p, k=2)
    >>> r = responsibilities(p, h, 1)
    >>> r.shape, bool(np.allclose(r.sum(1), 1))
    ((64, 2), True)
    """
    if not 0 <= t <= history.n_steps + 1:
        raise ValueError(f"t must be in [0, {history.n_steps + 1}], got {t}")
    if t == 0:
        return np.eye(history.k)[history.start_assign]
    return posteriors(points.x, points.counts, parameters(history, t - 1), "full")[1]


def marked_row(points: Points, before: np.ndarray, after: np.ndarray) -> int:
    """The row to follow through an E step that turns responsibilities ``before``
    into ``after``: of the values whose main component changes, the one most
    pixels have; when none changes, the least certain value after it.

    Examples
    --------
    >>> p = Points(np.array([[0.0], [0.5], [1.0]]), np.array([5.0, 2.0, 5.0]),
    ...            np.arange(3, dtype=np.int32), (1, 3), "gray")
    >>> before = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> marked_row(p, before, np.array([[0.9, 0.1], [0.3, 0.7], [0.1, 0.9]]))
    1
    >>> marked_row(p, before, np.array([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9]]))
    1
    """
    moved = np.flatnonzero(before.argmax(1) != after.argmax(1))
    if moved.size:
        return int(moved[np.argmax(points.counts[moved])])
    # Least certain first; among equals, the value most pixels have.
    return int(np.lexsort((-points.counts, after.max(1)))[0])


def step_state(points: Points, history: EMHistory, step: int) -> StepState:
    """The state after half-step ``step`` (``0``: start, ``2t - 1``: E step ``t``,
    ``2t``: M step ``t``), with what its latest E and M steps did.

    The curves drawn are the latest M step's; the split drawn is the latest E
    step's (after an M step, the E step before it). An E step changes the split
    only, an M step the curves only.

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> h = fit_em(p, k=2)
    >>> e, m = step_state(p, h, 1), step_state(p, h, 2)
    >>> e.kind, m.kind, bool(np.array_equal(e.resp, m.resp))
    ('E', 'M', True)
    >>> bool(e.log_likelihood == h.log_likelihood[0] < m.log_likelihood == h.log_likelihood[1])
    True
    >>> bool(e.next_log_likelihood == m.log_likelihood), m.ll_change > 0
    (True, True)
    """
    last = 2 * history.n_steps
    if not 0 <= step <= last:
        raise ValueError(f"step must be in [0, {last}], got {step}")
    m_step, e_step = step // 2, (step + 1) // 2
    splits = {t: responsibilities(points, history, t)
              for t in {m_step, m_step + 1, max(e_step - 1, 0)}}
    lls, means = history.log_likelihood, history.means
    return StepState(
        step=step, name=step_names(history)[step],
        kind="start" if step == 0 else ("E" if step % 2 else "M"),
        m_step=m_step, e_step=e_step, params=parameters(history, m_step),
        resp=splits[e_step], m_resp=splits[m_step],
        e_params=parameters(history, e_step - 1) if e_step else None,
        next_resp=splits[m_step + 1], log_likelihood=float(lls[m_step]),
        next_log_likelihood=float(lls[m_step + 1]) if m_step < history.n_steps else None,
        switched=switched_fraction(points, splits[e_step - 1], splits[e_step]) if e_step else None,
        ll_change=float(lls[m_step] - lls[m_step - 1]) if m_step else None,
        mean_shift=float(np.linalg.norm(means[m_step] - means[m_step - 1], axis=1).max())
        if m_step else None,
        marked=marked_row(points, splits[m_step], splits[m_step + 1]))


def to_image(points: Points, values: np.ndarray) -> np.ndarray:
    """Per-row ``values`` (``(n,)`` or ``(n, k)``) spread over the pixels: ``(H, W)``
    or ``(H, W, k)``, e.g. responsibilities as soft maps.

    Examples
    --------
    >>> p = feature_points(np.array([[0.0, 1.0], [0.0, 0.0]], np.float32))
    >>> to_image(p, np.array([[1.0, 0.0], [0.25, 0.75]]))[0, 1].tolist()
    [0.25, 0.75]
    """
    values = np.asarray(values)
    return values[points.index].reshape(points.shape + values.shape[1:])


def row_pixel(points: Points, row: int) -> tuple[int, int]:
    """``(row, col)`` of a pixel with the feature value of ``row``: of those, the
    one nearest the image's centre.

    Examples
    --------
    >>> img = np.zeros((3, 3, 1), np.float32); img[0, 0] = img[2, 1] = 1
    >>> p = feature_points(img)
    >>> row_pixel(p, 1)
    (2, 1)
    """
    pixels = np.flatnonzero(points.index == row)
    if pixels.size == 0:
        raise ValueError(f"no pixel has the value of row {row}")
    h, w = points.shape
    rows, cols = np.divmod(pixels, w)
    nearest = np.argmin((rows - (h - 1) / 2) ** 2 + (cols - (w - 1) / 2) ** 2)
    return int(rows[nearest]), int(cols[nearest])


def switched_fraction(points: Points, before: np.ndarray, after: np.ndarray) -> float:
    """Fraction of pixels whose main component differs between two splits.

    Examples
    --------
    >>> p = Points(np.array([[0.0], [1.0]]), np.array([3.0, 1.0]), np.zeros(4, np.int32),
    ...            (2, 2), "gray")
    >>> switched_fraction(p, np.eye(2), np.array([[1.0, 0.0], [1.0, 0.0]]))
    0.25
    """
    moved = before.argmax(1) != after.argmax(1)
    return float(points.counts[moved].sum() / points.counts.sum())


def e_step_terms(value: np.ndarray, params: tuple) -> dict:
    """The E step at one feature value ``(d,)``: each component's density
    ``N(x; mu_j, Sigma_j)``, its weighted density ``pi_j N``, their sum (the
    mixture's density at ``x``) and the responsibilities ``pi_j N / sum``, from the
    engine's E step.

    Examples
    --------
    >>> params = (np.array([0.5, 0.5]), np.array([[0.0], [1.0]]), np.array([[[1.0]], [[1.0]]]))
    >>> terms = e_step_terms(np.array([0.0]), params)
    >>> terms["density"].round(4).tolist(), terms["resp"].round(3).tolist()
    ([0.3989, 0.242], [0.622, 0.378])
    """
    value = np.asarray(value, np.float64).reshape(1, -1)
    ll, resp = posteriors(value, np.ones(1), params, "full")
    total = float(np.exp(ll))
    weighted = resp[0] * total
    return {"density": weighted / params[0], "weighted": weighted, "total": total,
            "resp": resp[0]}


def m_step_terms(points: Points, resp: np.ndarray) -> dict:
    """The sums of the M step over every pixel for responsibilities ``resp``:
    ``n`` pixels, ``nk`` ``(k,)`` each component's share ``N_j = sum_i r_ij``,
    ``sums`` ``(k, d)`` ``sum_i r_ij x_i`` and ``spread`` ``(k, d, d)``
    ``sum_i r_ij (x_i - mu_j)(x_i - mu_j)^T``. Then ``pi_j = N_j / n``,
    ``mu_j = sums_j / N_j`` and ``Sigma_j = spread_j / N_j`` plus
    :data:`segcore.methods.clustering.REG_COVAR` on the diagonal.

    Examples
    --------
    >>> p = Points(np.array([[0.0], [1.0]]), np.array([3.0, 1.0]), np.zeros(4, np.int32),
    ...            (2, 2), "gray")
    >>> t = m_step_terms(p, np.array([[1.0, 0.0], [0.5, 0.5]]))
    >>> t["n"], t["nk"].tolist(), t["sums"].ravel().tolist(), t["spread"].ravel().round(4).tolist()
    (4.0, [3.5, 0.5], [0.5, 0.5], [0.4286, 0.0])
    """
    x, counts = points.x, points.counts
    r = resp * counts[:, None]
    nk = r.sum(0)
    sums = r.T @ x
    means = sums / np.maximum(nk, np.finfo(np.float64).tiny)[:, None]
    spread = np.stack([(r[:, j] * (x - means[j]).T) @ (x - means[j]) for j in range(len(nk))])
    return {"n": float(counts.sum()), "nk": nk, "sums": sums, "spread": spread}


def hard_and_soft(points: Points, history: EMHistory, *, rng: int = 0,
                  threshold: float = 0.9) -> dict:
    """K-means (hard) against the fitted mixture (soft) on the same values.

    K-means is the engine's (:func:`segcore.methods.clustering.best_lloyd`, the
    same ``k`` and ``rng``); each of its clusters is renamed to the component it
    shares most pixels with (one to one, :func:`scipy.optimize.linear_sum_assignment`).
    The mixture's split is the E step after its last iteration.

    Returns
    -------
    dict
        ``hard`` and ``soft`` ``(n,)`` component of each value (0-based),
        ``resp`` ``(n, k)``, ``disagree`` and ``uncertain`` ``(n,)`` bool (no
        component at ``threshold`` or more), and the fractions of pixels of each,
        ``disagree_fraction`` and ``uncertain_fraction``, and their numbers of
        pixels ``disagree_pixels`` and ``uncertain_pixels``; for one feature the
        values where each changes component, ``hard_cuts`` and ``soft_cuts``
        (see :func:`cuts`; ``None`` for two features).

    Examples
    --------
    A tight dark group and a wide bright one: 0.25 is nearer the dark centre, so
    k-means gives it to the dark group, but the narrow dark Gaussian is almost
    nothing there and the mixture gives it to the bright one.

    >>> x = np.array([0.0, 0.01, 0.02, 0.03, 0.25, 0.5, 0.75, 1.0])
    >>> p = feature_points(x.astype(np.float32).reshape(2, 4))
    >>> out = hard_and_soft(p, fit_em(p, k=2), threshold=0.99)
    >>> out["hard"].tolist(), out["soft"].tolist(), out["disagree_fraction"]
    ([0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1, 1], 0.125)
    >>> out["uncertain"].tolist()
    [False, False, False, True, False, False, False, False]
    """
    from scipy.optimize import linear_sum_assignment

    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    k, x, w = history.k, points.x, points.counts
    centres, _ = best_lloyd(x, w, k, rng=rng, max_iter=300)
    clusters = squared_distances(x, centres).argmin(1)
    resp = responsibilities(points, history, history.n_steps + 1)
    soft = resp.argmax(1)
    overlap = np.zeros((k, k))
    np.add.at(overlap, (clusters, soft), w)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    rename = np.empty(k, np.int64)
    rename[rows] = cols
    hard = rename[clusters]
    disagree = hard != soft
    uncertain = resp.max(1) < threshold
    total = w.sum()
    one = x.shape[1] == 1
    return {"hard": hard, "soft": soft, "resp": resp, "disagree": disagree,
            "uncertain": uncertain, "disagree_fraction": float(w[disagree].sum() / total),
            "uncertain_fraction": float(w[uncertain].sum() / total),
            "disagree_pixels": int(w[disagree].sum()), "uncertain_pixels": int(w[uncertain].sum()),
            "hard_cuts": cuts(points, hard) if one else None,
            "soft_cuts": cuts(points, soft) if one else None}


def cuts(points: Points, labels: np.ndarray) -> list[float]:
    """For one feature: the values where ``labels`` (one per row) change, going
    up the sorted values, each half-way between the two values around it.

    Examples
    --------
    >>> p = feature_points(np.array([[0.0, 0.2], [0.6, 1.0]], np.float32))
    >>> cuts(p, np.array([0, 0, 1, 0]))
    [0.4, 0.8]
    """
    if points.x.shape[1] != 1:
        raise ValueError(f"cuts need one feature, got {points.x.shape[1]}")
    x = points.x[:, 0]
    order = np.argsort(x, kind="stable")
    x, labels = x[order], np.asarray(labels)[order]
    change = np.flatnonzero(labels[1:] != labels[:-1])
    return [round(float((x[i] + x[i + 1]) / 2), 6) for i in change]


def ellipse(mean: np.ndarray, covariance: np.ndarray, *, scale: float = 2.0,
            n: int = 73) -> np.ndarray:
    """``(n, 2)`` points of the ellipse ``scale`` standard deviations from ``mean``
    of a 2-D Gaussian with ``covariance``: its axes are the covariance's
    eigenvectors, their half-lengths ``scale`` times the square roots of its
    eigenvalues.

    Examples
    --------
    >>> e = ellipse(np.zeros(2), np.diag([4.0, 1.0]), scale=1.0, n=5)
    >>> np.abs(e).max(0).round(6).tolist()
    [2.0, 1.0]
    """
    values, vectors = np.linalg.eigh(np.asarray(covariance, np.float64))
    angles = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(angles), np.sin(angles)])
    return (vectors @ (scale * np.sqrt(np.maximum(values, 0))[:, None] * circle)).T + mean


# --------------------------------------------------------------------------- pictures


def mark_pixel(picture: np.ndarray, pixel: tuple[int, int], *,
               radius: int | None = None) -> np.ndarray:
    """An RGB copy of ``picture`` ``(H, W, C)`` in [0, 1] with a ring (white inside,
    black outside) around ``pixel``, so it shows on any background.

    Examples
    --------
    >>> out = mark_pixel(np.zeros((21, 21, 1), np.float32), (10, 10), radius=4)
    >>> out.shape, out[10, 14].tolist(), out[10, 10].tolist()
    ((21, 21, 3), [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    from skimage.draw import circle_perimeter

    out = viz.to_rgb(picture).copy()
    h, w = out.shape[:2]
    radius = radius or max(4, round(max(h, w) / 40))
    for r, colour in ((radius + 1, 0.0), (radius, 1.0)):
        rr, cc = circle_perimeter(pixel[0], pixel[1], r, shape=(h, w))
        out[rr, cc] = colour
    return out


def hard_soft_picture(image: np.ndarray, disagree: np.ndarray, uncertain: np.ndarray) -> np.ndarray:
    """``(H, W, 3) float32``: the image dimmed, uncertain pixels yellow, pixels where
    k-means and the mixture disagree vermilion (over yellow).

    Examples
    --------
    >>> out = hard_soft_picture(np.ones((1, 3, 1), np.float32), np.array([[1, 0, 0]], bool),
    ...                         np.array([[1, 1, 0]], bool))
    >>> [viz.hex_colour(px) for px in out[0]]
    ['#d65e00', '#f0e442', '#595959']
    """
    out = 0.35 * viz.to_rgb(image)
    out[np.asarray(uncertain, bool)] = UNCERTAIN_COLOUR
    out[np.asarray(disagree, bool)] = DISAGREE_COLOUR
    return out.astype(np.float32)


#: Okabe-Ito yellow and vermilion (colour-blind safe).
UNCERTAIN_COLOUR = (0.94, 0.894, 0.259)
DISAGREE_COLOUR = viz.ERROR_COLORS["fp"]


def _colours(k: int) -> list[str]:
    return [viz.hex_colour(c) for c in label_palette(k)[1:]]


def mixture_histogram_figure(points: Points, params: tuple, resp: np.ndarray, *,
                             marked: int | None = None) -> go.Figure:
    """The gray-value histogram, each bar split among the components by ``resp``
    (stacked), with each weighted component ``pi_j N(x; mu_j, sigma_j^2)`` and
    their sum drawn over it in pixel counts (times the 1/255 bar width).

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> h = fit_em(p, k=2)
    >>> fig = mixture_histogram_figure(p, parameters(h, 0), responsibilities(p, h, 0), marked=3)
    >>> [t.type for t in fig.data].count("bar"), fig.data[-1].name
    (2, 'mixture (sum)')
    """
    if points.x.shape[1] != 1:
        raise ValueError(f"a histogram needs one feature, got {points.x.shape[1]}")
    weights, means, covs = params
    k, colours = len(weights), _colours(len(weights))
    x, counts, width = points.x[:, 0], points.counts, 1 / 255
    fig = go.Figure()
    for j in range(k):
        fig.add_bar(x=x, y=counts * resp[:, j], width=width, marker_color=colours[j],
                    marker_line_width=0, opacity=0.45, legendgroup=str(j), showlegend=False,
                    name=f"pixels given to {j + 1}",
                    hovertemplate="gray %{x:.3f}: %{y:.1f} pixels to component " + str(j + 1)
                                  + "<extra></extra>")
    grid = np.union1d(np.linspace(0, 1, 801), means[:, 0])
    total = np.zeros_like(grid)
    for j in range(k):
        var = covs[j, 0, 0]
        curve = weights[j] * np.exp(-(grid - means[j, 0]) ** 2 / (2 * var))
        curve /= np.sqrt(2 * np.pi * var)
        total += curve
        fig.add_scatter(x=grid, y=curve * counts.sum() * width, mode="lines", legendgroup=str(j),
                        name=f"component {j + 1}", line=dict(color=colours[j], width=3))
    fig.add_scatter(x=grid, y=total * counts.sum() * width, mode="lines", name="mixture (sum)",
                    line=dict(color="#333333", width=2, dash="dash"))
    if marked is not None:
        fig.add_vline(x=float(x[marked]), line_color="#000000", line_width=1.5,
                      annotation_text="marked pixel", annotation_position="top right")
    # A component squeezed onto one gray value is a spike far above the bars: keep the bars
    # readable.
    fig.update_yaxes(range=[0, 1.3 * float(counts.max())], title="pixels")
    fig.update_xaxes(range=[0, 1], title=FEATURES[points.features].axes[0])
    fig.update_layout(barmode="stack", bargap=0, height=340, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.14))
    return fig


#: The scatter draws at most this many distinct values (the most common), so a browser keeps up.
SCATTER_POINTS = 4000


def mixture_scatter_figure(points: Points, params: tuple, resp: np.ndarray, *,
                           marked: int | None = None) -> go.Figure:
    """The distinct 2-D feature values (at most :data:`SCATTER_POINTS`, the most
    common; larger dots for more pixels), each coloured by its split among the
    components (a mix of their colours), with each component's ellipses at one
    and two standard deviations and its mean.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    >>> p = feature_points(img, features="rg")
    >>> h = fit_em(p, k=2)
    >>> fig = mixture_scatter_figure(p, parameters(h, 1), responsibilities(p, h, 1), marked=0)
    >>> fig.data[0].mode, len(fig.data)  # values, 3 ellipse lines each, means, marked pixel
    ('markers', 9)
    """
    if points.x.shape[1] != 2:
        raise ValueError(f"a scatter needs two features, got {points.x.shape[1]}")
    weights, means, covs = params
    k, colours = len(weights), _colours(len(weights))
    shown = np.argsort(-points.counts, kind="stable")[:SCATTER_POINTS]
    mix = np.clip(resp[shown] @ label_palette(k)[1:], 0, 1)
    x, counts = points.x[shown], points.counts[shown]
    axes = FEATURES[points.features].axes
    fig = go.Figure()
    fig.add_scatter(x=x[:, 0], y=x[:, 1], mode="markers", name="pixels (by value)",
                    marker=dict(color=[viz.hex_colour(c) for c in mix], line_width=0,
                                size=np.clip(3 + 2 * np.log10(counts), 3, 12)),
                    customdata=counts, showlegend=False,
                    hovertemplate="%{x:.3f}, %{y:.3f}: %{customdata:.0f} pixels<extra></extra>")
    for j in range(k):
        # Two standard deviations in the component's colour over a dark line (so it shows
        # over dots of its colour); one standard deviation dashed and dark, inside it.
        ring = ellipse(means[j], covs[j], scale=2)
        for colour, width, legend in (("#222222", 5, False), (colours[j], 3, True)):
            fig.add_scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", legendgroup=str(j),
                            name=f"component {j + 1}", showlegend=legend, hoverinfo="skip",
                            line=dict(color=colour, width=width))
        ring = ellipse(means[j], covs[j], scale=1)
        fig.add_scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", legendgroup=str(j),
                        showlegend=False, hoverinfo="skip",
                        line=dict(color="#222222", width=1.5, dash="dash"))
    fig.add_scatter(x=means[:, 0], y=means[:, 1], mode="markers", name="means",
                    marker=dict(symbol="x", size=12, color=colours,
                                line=dict(width=1, color="#000")))
    if marked is not None:
        fig.add_scatter(x=[points.x[marked, 0]], y=[points.x[marked, 1]], mode="markers",
                        name="marked pixel", marker=dict(symbol="circle-open", size=20,
                                                         color="#000000", line_width=3))
    low, high = points.x.min(0), points.x.max(0)
    pad = 0.08 * np.maximum(high - low, 0.02)
    fig.update_xaxes(range=[low[0] - pad[0], high[0] + pad[0]], title=axes[0])
    fig.update_yaxes(range=[low[1] - pad[1], high[1] + pad[1]], title=axes[1])
    title = "" if len(shown) == len(points.x) else (
        f"the {len(shown):,} most common of {len(points.x):,} colour values")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10), title=title,
                      legend=dict(orientation="h", y=1.12))
    return fig


#: Soft maps are drawn at most this many pixels on their longer side: each shows about that
#: large on the page, and the browser gets a quarter of the numbers of a 90 000-pixel copy.
SOFT_MAP_SIDE = 200


def soft_maps_figure(maps: np.ndarray, *, marked: tuple[int, int] | None = None) -> go.Figure:
    """One map per component of the ``(H, W, k)`` responsibilities (the engine's
    :func:`segcore.viz.probability_figure`, every ``s``-th pixel so that a map is at
    most :data:`SOFT_MAP_SIDE` pixels), with the marked pixel ringed on each.

    Examples
    --------
    >>> fig = soft_maps_figure(np.full((4, 4, 3), 1 / 3, np.float32), marked=(1, 2))
    >>> len(fig.data), fig.data[-1].x
    (6, (2.0,))
    >>> soft_maps_figure(np.zeros((450, 300, 2)), marked=(200, 100)).data[-1].x
    (33.33...,)
    """
    step = max(1, int(np.ceil(max(maps.shape[:2]) / SOFT_MAP_SIDE)))
    maps = np.asarray(maps[::step, ::step], np.float32)  # float32: half the bytes, same picture
    k = maps.shape[2]
    fig = viz.probability_figure(maps, names=[f"component {j + 1}" for j in range(k)])
    if marked is not None:
        cols = min(k, 4)
        for j in range(k):
            fig.add_scatter(x=[marked[1] / step], y=[marked[0] / step], mode="markers",
                            showlegend=False, hoverinfo="skip", row=j // cols + 1, col=j % cols + 1,
                            marker=dict(symbol="circle-open", size=16, color="#ff2a2a",
                                        line_width=3))
    return fig


def log_likelihood_figure(history: EMHistory, step: int) -> go.Figure:
    """The mean log-likelihood per pixel after the start and every M step, with
    the half-step ``step`` marked (an E step half-way between two M steps: it
    leaves the log-likelihood as it is).

    Examples
    --------
    >>> p = feature_points(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    >>> fig = log_likelihood_figure(fit_em(p, k=2), 1)
    >>> fig.data[1].x
    (0.5,)
    """
    lls = history.log_likelihood
    fig = go.Figure()
    fig.add_scatter(x=np.arange(len(lls)), y=lls, mode="lines+markers", name="after each M step",
                    line=dict(color="#1f77b4"),
                    hovertemplate="M step %{x}: %{y:.4f}<extra></extra>")
    fig.add_scatter(x=[step / 2], y=[lls[step // 2]], mode="markers",
                    name=step_names(history)[step],
                    marker=dict(color="#d62728", size=14, symbol="diamond"),
                    hovertemplate="%{y:.4f}<extra></extra>")
    fig.update_xaxes(title="EM iteration (an E step sits half-way)", rangemode="tozero")
    # A run that barely moves would get an axis of 18-digit ticks: show at least 0.002.
    low, high = float(lls.min()), float(lls.max())
    pad = max(0.1 * (high - low), 0.001)
    fig.update_yaxes(title="mean log-likelihood per pixel", range=[low - pad, high + pad],
                     tickformat=".4f" if high - low < 0.01 else None)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.15))
    return fig


# --------------------------------------------------------------------------- equations


def _num(value: float, digits: int = 3) -> str:
    """A number for LaTeX: ``digits`` significant digits, thin spaces between
    thousands, ``a \\times 10^{b}`` when very small or large."""
    value = float(value)
    if value == 0:
        return "0"
    if not 1e-3 <= abs(value) < 1e6:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    exponent = int(np.floor(np.log10(abs(value))))
    decimals = max(digits - 1 - exponent, 0)
    return f"{round(value, digits - 1 - exponent):,.{decimals}f}".replace(",", r"\,")


def _count(value: float) -> str:
    """A pixel count: one decimal where responsibilities split pixels."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return text.replace(",", r"\,")


#: Put before a line of fractions: Streamlit's LaTeX box clips the top of a numerator of
#: plain digits by a pixel or two; an invisible taller fraction makes room for it.
_STRUT = r"\vphantom{\frac{A^{2}}{B}}"


def _vector(values) -> str:
    return r"\begin{pmatrix}" + r"\\".join(_num(v) for v in values) + r"\end{pmatrix}"


def _matrix(values) -> str:
    """A matrix for LaTeX; a common power of ten taken out when its entries are
    all very small or large."""
    values = np.asarray(values, np.float64)
    top = float(np.abs(values).max())
    power = int(np.floor(np.log10(top))) if top > 0 else 0
    factor = ""
    if not -2 <= power <= 3:
        factor, values = rf"10^{{{power}}}", values / 10.0 ** power
    rows = [" & ".join(_num(v) for v in row) for row in values]
    return factor + r"\begin{pmatrix}" + r"\\".join(rows) + r"\end{pmatrix}"


def e_step_latex(value: np.ndarray, params: tuple) -> list[str]:
    """The E step's equation and, for one feature value, its numbers: the sum of
    the weighted densities, then each component's responsibility. One LaTeX
    string per line.

    Examples
    --------
    >>> params = (np.array([0.5, 0.5]), np.array([[0.0], [1.0]]), np.array([[[1.0]], [[1.0]]]))
    >>> lines = e_step_latex(np.array([0.0]), params)
    >>> len(lines), lines[-1].endswith("= 0.378")
    (4, True)
    """
    terms = e_step_terms(value, params)
    weights, means, covs = params
    k, d = len(weights), len(value)
    total = _num(terms["total"])
    if d == 1:
        x = _num(value[0])
        general = (r"r_j = \frac{\pi_j\,\mathcal{N}(x;\,\mu_j,\sigma_j^2)}"
                   r"{\sum_l \pi_l\,\mathcal{N}(x;\,\mu_l,\sigma_l^2)}"
                   rf"\qquad\text{{for the ringed pixel: }} x = {x}")
        rows = [rf"r_{j + 1} = \frac{{{_num(weights[j])}\,\mathcal{{N}}({x};\,{_num(means[j, 0])},"
                rf"\,{_num(np.sqrt(covs[j, 0, 0]))}^2)}}{{{total}}}" for j in range(k)]
    else:
        general = (r"r_j = \frac{\pi_j\,\mathcal{N}(\mathbf{x};\,\boldsymbol{\mu}_j,\Sigma_j)}"
                   r"{\sum_l \pi_l\,\mathcal{N}(\mathbf{x};\,\boldsymbol{\mu}_l,\Sigma_l)}"
                   rf"\qquad\text{{for the ringed pixel: }} \mathbf{{x}} = {_vector(value)}")
        rows = [rf"r_{j + 1} = \frac{{{_num(weights[j])}\,\mathcal{{N}}(\mathbf{{x}};\,"
                rf"\boldsymbol{{\mu}}_{j + 1},\Sigma_{j + 1})}}{{{total}}}" for j in range(k)]
    rows = [row + rf" = \frac{{{_num(weights[j])} \times {_num(terms['density'][j])}}}{{{total}}}"
                  rf" = {_num(terms['resp'][j])}" for j, row in enumerate(rows)]
    mixture = (r"\sum_l \pi_l\,\mathcal{N}_l = "
               + " + ".join(_num(v) for v in terms["weighted"]) + f" = {total}")
    return [_STRUT + line for line in [general, mixture] + rows]


def m_step_latex(terms: dict) -> list[str]:
    """The M step's update formulas and, for every component, their numbers from
    :func:`m_step_terms`: weight, mean and variance (a covariance matrix, on a
    line of its own, for two features). One LaTeX string per line.

    Examples
    --------
    >>> p = Points(np.array([[0.0], [1.0]]), np.array([3.0, 1.0]), np.zeros(4, np.int32),
    ...            (2, 2), "gray")
    >>> lines = m_step_latex(m_step_terms(p, np.array([[1.0, 0.0], [0.5, 0.5]])))
    >>> len(lines), r"\\pi_1 = \\frac{3.5}{4} = 0.875" in lines[1]
    (3, True)
    """
    n, nk, sums, spread = terms["n"], terms["nk"], terms["sums"], terms["spread"]
    k, d = sums.shape
    safe = np.maximum(nk, np.finfo(np.float64).tiny)
    lines = []
    if d == 1:
        lines.append(r"\pi_j = \frac{N_j}{N},\quad \mu_j = \frac{\sum_i r_{ij}\,x_i}{N_j},\quad "
                     r"\sigma_j^2 = \frac{\sum_i r_{ij}\,(x_i-\mu_j)^2}{N_j} + \varepsilon,"
                     rf"\quad N_j = \sum_i r_{{ij}},\ \ \varepsilon = {_num(REG_COVAR)}")
        for j in range(k):
            var = spread[j, 0, 0] / safe[j] + REG_COVAR
            share = _count(nk[j])
            lines.append(rf"\pi_{j + 1} = \frac{{{share}}}{{{_count(n)}}} = {_num(nk[j] / n)},"
                         rf"\quad \mu_{j + 1} = \frac{{{_num(sums[j, 0])}}}{{{share}}}"
                         rf" = {_num(sums[j, 0] / safe[j])},"
                         rf"\quad \sigma_{j + 1}^2 = \frac{{{_num(spread[j, 0, 0])}}}{{{share}}}"
                         rf" + \varepsilon = {_num(var)}")
        return [_STRUT + line for line in lines]
    lines.append(r"\pi_j = \frac{N_j}{N},\quad \boldsymbol{\mu}_j = \frac{1}{N_j}\sum_i r_{ij}"
                 r"\,\mathbf{x}_i,\quad \Sigma_j = \frac{1}{N_j}\sum_i r_{ij}\,(\mathbf{x}_i-"
                 r"\boldsymbol{\mu}_j)(\mathbf{x}_i-\boldsymbol{\mu}_j)^\top + \varepsilon I,"
                 rf"\quad N_j = \sum_i r_{{ij}},\ \ \varepsilon = {_num(REG_COVAR)}")
    for j in range(k):
        cov = spread[j] / safe[j] + REG_COVAR * np.eye(d)
        lines.append(rf"\pi_{j + 1} = \frac{{{_count(nk[j])}}}{{{_count(n)}}} = {_num(nk[j] / n)},"
                     rf"\quad \boldsymbol{{\mu}}_{j + 1} = \frac{{1}}{{{_count(nk[j])}}}"
                     rf"{_vector(sums[j])} = {_vector(sums[j] / safe[j])}")
        lines.append(rf"\Sigma_{j + 1} = \frac{{1}}{{{_count(nk[j])}}}{_matrix(spread[j])}"
                     rf" + \varepsilon I = {_matrix(cov)}")
    return [_STRUT + line for line in lines]
