"""Clustering pixels by colour (and position): k-means and Gaussian mixtures (EM)."""

from __future__ import annotations

import warnings

import numpy as np

from segcore.color import to_gray, to_space
from segcore.methods._params import RNG, SPACE
from segcore.registry import Param, Segmentation, register

# Fitting on a random subset keeps large images interactive; every pixel is
# still labelled by its nearest centre / most likely component.
FIT_PIXELS = 40_000

K = Param("k", "int", 3, label="Clusters (k)", low=2, high=12,
          help="How many groups of pixels to make.")
MAX_ITER = Param("max_iter", "int", 100, label="Most iterations", low=1, high=500, log=True,
                 help="The method stops after this many steps even if it has not settled.")


def pixel_features(image: np.ndarray, space: str, xy_weight: float = 0.0) -> np.ndarray:
    """``(H*W, F) float64`` features: colour in ``space``, then ``xy_weight`` times the
    row and column scaled to [0, 1].

    Examples
    --------
    >>> pixel_features(np.zeros((2, 3, 1), np.float32), "gray", xy_weight=1.0).shape
    (6, 3)
    """
    h, w = image.shape[:2]
    feats = to_space(image, space).reshape(h * w, -1).astype(np.float64)
    if xy_weight > 0:
        rows, cols = np.mgrid[0:h, 0:w]
        scale = max(h, w) - 1 or 1
        xy = np.stack([rows.ravel(), cols.ravel()], 1) / scale * xy_weight
        feats = np.hstack([feats, xy])
    return feats


def _fit_subset(n: int, rng: int) -> np.ndarray:
    if n <= FIT_PIXELS:
        return np.arange(n)
    return np.sort(np.random.default_rng(rng).choice(n, FIT_PIXELS, replace=False))


def squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``(N, k)`` squared Euclidean distances from every row of ``x`` to every centre.

    Examples
    --------
    >>> squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]])).ravel()
    array([ 0., 25.])
    """
    return (x ** 2).sum(1)[:, None] - 2 * x @ centres.T + (centres ** 2).sum(1)[None, :]


def _nearest(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, float]:
    d = squared_distances(x, centres)
    assign = d.argmin(1)
    return assign, float(np.maximum(d[np.arange(len(x)), assign], 0).sum())


def _intensity_order(weights: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """Order of components by the mean gray value of the pixels they hold
    (``weights`` is ``(N, K)``: one-hot assignments or posteriors)."""
    mass = weights.sum(0)
    means = np.where(mass > 0, (weights * gray[:, None]).sum(0) / np.maximum(mass, 1e-12), np.inf)
    return np.argsort(means, kind="stable")


def lloyd(x: np.ndarray, centres: np.ndarray, *, max_iter: int = 100, tol: float = 1e-4):
    """Lloyd's k-means iterations from given centres, recording every step.

    Stops when the centres move less than ``tol`` times the mean feature variance
    (squared distance, summed over centres), as scikit-learn does. Returns the
    final centres, the assignment, the inertia and the history: a list of
    ``{"centres", "inertia"}`` per iteration (the lessons animate it).

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [1.0], [0.9]])
    >>> c, a, inertia, hist = lloyd(x, np.array([[0.0], [1.0]]))
    >>> c.ravel().round(2).tolist(), a.tolist()
    ([0.05, 0.95], [0, 0, 1, 1])
    """
    centres = centres.astype(np.float64).copy()
    k = len(centres)
    history = []
    threshold = tol * float(np.var(x, axis=0).mean())
    for _ in range(max_iter):
        assign, inertia = _nearest(x, centres)
        history.append({"centres": centres.copy(), "inertia": inertia})
        counts = np.bincount(assign, minlength=k)
        sums = np.stack([np.bincount(assign, weights=x[:, f], minlength=k) for f in range(x.shape[1])], 1)
        # An empty cluster keeps its centre.
        new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
        shift = float(((new - centres) ** 2).sum())
        centres = new
        if shift <= threshold:
            break
    assign, inertia = _nearest(x, centres)
    return centres, assign, inertia, history


@register("kmeans", label="K-means clustering", offers=("centres", "history"), params=(
    K, SPACE,
    Param("xy_weight", "float", 0.0, label="Weight of position", low=0.0, high=2.0, step=0.05,
          help="How much a pixel's place counts beside its colour: higher keeps clusters "
               "spatially compact, 0 ignores where pixels are."),
    MAX_ITER, RNG,
))
def kmeans(image, *, k, space, xy_weight, max_iter, rng):
    """Group pixels into ``k`` clusters of similar colour (Lloyd's k-means, k-means++ start).

    Labels ``1..k`` are ordered by the mean intensity of their pixels.
    ``extras``: ``centres`` (k, F) in feature space, ``inertia`` (on the fitted
    pixels), ``history`` (centres and inertia at every iteration), ``n_iter``.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((8, 8, 1), np.float32); img[:, 4:] = 1
    >>> kmeans(img, k=2).labels[0]
    array([1, 1, 1, 1, 2, 2, 2, 2], dtype=int32)
    """
    h, w = image.shape[:2]
    x = pixel_features(image, space, xy_weight)
    fit = x[_fit_subset(len(x), rng)]
    if len(np.unique(fit, axis=0)) < k:
        raise ValueError(f"the image has fewer than {k} distinct colours; lower k")
    from sklearn.cluster import kmeans_plusplus  # scikit-learn loads when a method needs it

    init, _ = kmeans_plusplus(fit, k, random_state=rng)
    centres, _, inertia, history = lloyd(fit, init, max_iter=max_iter)
    assign, _ = _nearest(x, centres)
    order = _intensity_order(np.eye(k)[assign], to_gray(image).ravel())
    rank = np.empty(k, np.int32)
    rank[order] = np.arange(1, k + 1)
    for step in history:
        step["centres"] = step["centres"][order]
    return Segmentation(
        labels=rank[assign].reshape(h, w),
        extras={"centres": centres[order], "inertia": inertia, "history": history,
                "n_iter": len(history), "features": space + ("+xy" if xy_weight > 0 else "")},
    )


@register("gmm", label="Gaussian mixture (EM)", offers=("mixture", "history", "probabilities"),
          params=(
    K, SPACE,
    Param("covariance_type", "choice", "full", label="Shape of each Gaussian",
          choices=("full", "tied", "diag", "spherical"),
          help="full: any ellipse; tied: one ellipse shared by all; diag: ellipses along the "
               "axes; spherical: circles."),
    MAX_ITER, RNG,
))
def gmm(image, *, k, space, covariance_type, max_iter, rng):
    """Fit a mixture of ``k`` Gaussians to pixel colours by expectation-maximisation.

    ``probabilities`` are the posteriors (H, W, k); labels are the most likely
    component, ``1..k`` ordered by mean intensity. ``extras``: ``weights``,
    ``means``, ``covariances`` and ``history`` (those plus the mean
    log-likelihood per pixel at every EM iteration), ``converged``.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = np.zeros((16, 16, 1), np.float32); img[:, 8:] = 0.8
    >>> img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)
    >>> seg = gmm(img, k=2, space="gray")
    >>> seg.probabilities.shape, seg.labels[0, 0], seg.labels[0, -1]
    ((16, 16, 2), np.int32(1), np.int32(2))
    """
    h, w = image.shape[:2]
    x = pixel_features(image, space)
    fit = x[_fit_subset(len(x), rng)]
    if len(np.unique(fit, axis=0)) < k:
        raise ValueError(f"the image has fewer than {k} distinct colours; lower k")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    # One EM step per fit() call (warm start) so every iteration can be recorded.
    model = GaussianMixture(k, covariance_type=covariance_type, max_iter=1, warm_start=True,
                            random_state=rng, reg_covar=1e-5)
    history, previous, converged = [], -np.inf, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # expected: one step per call
        for _ in range(max_iter):
            model.fit(fit)
            ll = float(model.score(fit))
            history.append({"weights": model.weights_.copy(), "means": model.means_.copy(),
                            "covariances": np.array(model.covariances_, copy=True),
                            "log_likelihood": ll})
            if abs(ll - previous) < 1e-4:
                converged = True
                break
            previous = ll
    probs = model.predict_proba(x)
    order = _intensity_order(probs, to_gray(image).ravel())
    probs = probs[:, order]
    covs = model.covariances_ if covariance_type == "tied" else model.covariances_[order]
    for step in history:
        step["weights"], step["means"] = step["weights"][order], step["means"][order]
        if covariance_type != "tied":
            step["covariances"] = step["covariances"][order]
    return Segmentation(
        labels=(probs.argmax(1) + 1).reshape(h, w),
        probabilities=probs.reshape(h, w, k),
        extras={"weights": model.weights_[order], "means": model.means_[order], "covariances": covs,
                "history": history, "converged": converged, "n_iter": len(history),
                "features": space},
    )
