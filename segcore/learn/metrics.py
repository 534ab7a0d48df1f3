"""The experiments of the lesson on metrics, built around :mod:`segcore.metrics`.

Every score here comes from :mod:`segcore.metrics` (``binary_scores``,
``boundary_f1``, ``match_instances``, ``average_precision``,
``panoptic_quality``); this module only makes the predictions the lesson scores:
the true mask shifted, grown or eroded, framed by extra background, one object
gone wrong, a real method's objects, and the curves of the scores over each
control. Growing and eroding by ``r`` pixels is binary dilation and erosion with
a disc of radius ``r`` (``skimage.morphology.disk``), computed from one distance
transform so that a whole curve costs one transform (tested equal to
scikit-image's and scipy's).

>>> truth = np.zeros((20, 20), bool); truth[5:15, 5:15] = True
>>> curve = grow_curve(truth, [-2, 0, 2])
>>> curve["iou"].round(3).tolist()
[0.36, 1.0, 0.543]
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from scipy import ndimage
from skimage import filters
from skimage.segmentation import find_boundaries

from segcore import metrics, viz
from segcore.learn import kinds

__all__ = ["SCORES", "OBJECT_CHOICES", "moved", "grow_curve",
           "dice_from_iou", "with_background", "framed_picture", "background_curve",
           "one_bad_object", "pick_object", "object_scores", "object_table",
           "bad_object_notice", "boundary_curve", "boundary_pixels", "boundary_picture",
           "error_picture", "method_objects", "match_picture", "latex_count", "overlap_latex",
           "accuracy_latex", "precision_recall_latex", "means_latex", "boundary_latex",
           "objects_latex", "curve_figure", "identity_figure"]

#: The scores of :func:`segcore.metrics.binary_scores` the curves follow.
SCORES = ("iou", "dice", "precision", "recall", "accuracy")
#: The objects :func:`pick_object` can pick.
OBJECT_CHOICES = ("the smallest", "the largest")
#: Line colours of the scores in every figure of the lesson (one colour per idea).
COLOURS = {"iou": "#1f77b4", "dice": "#ff7f0e", "precision": "#2ca02c", "recall": "#d62728",
           "accuracy": "#7f7f7f", "boundary": "#9467bd", "ap": "#8c564b"}


def _distances(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every pixel to the mask (outside) and to the background (inside).
    The frame of the image is neither: an object touching it is not eroded from it,
    as scikit-image's binary erosion."""
    if not mask.any():
        return np.full(mask.shape, np.inf), np.zeros(mask.shape)
    if mask.all():
        return np.zeros(mask.shape), np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(~mask), ndimage.distance_transform_edt(mask)


def _shift(mask: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """The mask moved by whole pixels ``(down, right)``; what leaves the frame is lost."""
    dr, dc = (int(v) for v in shift)
    h, w = mask.shape
    out = np.zeros_like(mask)
    if abs(dr) < h and abs(dc) < w:
        out[max(dr, 0):h + min(dr, 0), max(dc, 0):w + min(dc, 0)] = \
            mask[max(-dr, 0):h + min(-dr, 0), max(-dc, 0):w + min(-dc, 0)]
    return out


def _moved(outside: np.ndarray, inside: np.ndarray, grow: int, shift) -> np.ndarray:
    mask = outside <= grow if grow >= 0 else inside > -grow
    return _shift(mask, shift)


def moved(mask: np.ndarray, *, shift: tuple[int, int] = (0, 0), grow: int = 0) -> np.ndarray:
    """A prediction made from a true mask: grown (``grow > 0``) or eroded
    (``grow < 0``) by ``|grow|`` pixels with a disc, then shifted by ``shift =
    (down, right)`` whole pixels.

    Parameters
    ----------
    mask : (H, W) bool ndarray
    shift : (int, int)
        Pixels down and to the right (negative: up, left); the frame is filled with
        background.
    grow : int
        Radius of the disc (``skimage.morphology.disk``) to dilate with, or minus
        the radius to erode with.

    Returns
    -------
    (H, W) bool ndarray

    Examples
    --------
    >>> m = np.zeros((5, 5), bool); m[2, 2] = True
    >>> moved(m, grow=1).astype(int).sum(), moved(m, shift=(0, 1))[2, 3]
    (np.int64(5), np.True_)
    """
    mask = np.asarray(mask, bool)
    return _moved(*_distances(mask), int(grow), shift)


def grow_curve(truth: np.ndarray, grows, *, shift: tuple[int, int] = (0, 0)) -> dict:
    """:func:`segcore.metrics.binary_scores` of the true mask grown or eroded by each
    of ``grows`` (as :func:`moved`) and shifted, against the true mask.

    Returns
    -------
    dict
        ``grow`` (the values, as an int array) and one float array per name of
        :data:`SCORES`.

    Examples
    --------
    >>> t = np.zeros((10, 10), bool); t[3:7, 3:7] = True
    >>> grow_curve(t, [0, 1])["precision"].tolist()
    [1.0, 0.5]
    """
    truth = np.asarray(truth, bool)
    grows = np.asarray(grows, int)
    outside, inside = _distances(truth)
    rows = [metrics.binary_scores(_moved(outside, inside, int(g), shift), truth) for g in grows]
    return {"grow": grows, **{name: np.array([r[name] for r in rows]) for name in SCORES}}


def dice_from_iou(iou):
    """Dice from IoU, for any one prediction: ``Dice = 2 IoU / (1 + IoU)``.

    With ``TP``, ``FP``, ``FN`` the pixel counts, ``IoU = TP / (TP + FP + FN)`` and
    ``Dice = 2 TP / (2 TP + FP + FN)``; dividing Dice's numerator and denominator by
    ``TP + FP + FN`` gives the identity. Dice is never below IoU, equal at 0 and 1.

    Examples
    --------
    >>> dice_from_iou(0.5)
    0.666...
    """
    iou = np.asarray(iou, np.float64)
    out = 2 * iou / (1 + iou)
    return float(out) if out.ndim == 0 else out


def with_background(mask: np.ndarray, pad: int) -> np.ndarray:
    """The mask framed by ``pad`` pixels of background on every side.

    Examples
    --------
    >>> with_background(np.ones((1, 1), bool), 1).astype(int).tolist()
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    return np.pad(np.asarray(mask, bool), int(pad), constant_values=False)


def framed_picture(image: np.ndarray, pred: np.ndarray, truth: np.ndarray,
                   pad: int) -> np.ndarray:
    """:func:`error_picture` of ``pred`` against ``truth`` with ``pad`` pixels of
    background around all three (the image framed in its mean background colour).

    Examples
    --------
    >>> t = np.zeros((2, 2), bool); t[0, 0] = True
    >>> framed_picture(np.ones((2, 2, 1)), t, t, 3).shape
    (8, 8, 3)
    """
    image = viz.to_rgb(np.asarray(image, np.float32))
    truth, pred = np.asarray(truth, bool), np.asarray(pred, bool)
    colour = image[~truth].mean(axis=0) if (~truth).any() else np.zeros(3, np.float32)
    pad = int(pad)
    framed = np.empty((image.shape[0] + 2 * pad, image.shape[1] + 2 * pad, 3), np.float32)
    framed[:] = colour
    framed[pad:pad + image.shape[0], pad:pad + image.shape[1]] = image
    return error_picture(framed, with_background(pred, pad), with_background(truth, pad))


def background_curve(truth: np.ndarray, pred: np.ndarray, pads) -> dict:
    """Scores of ``pred`` and of an empty prediction as ever more background frames
    the image (:func:`with_background`): accuracy counts the right background
    (``TN``), IoU does not.

    Returns
    -------
    dict
        ``pad``, ``object_share`` (fraction of the framed image that is object),
        ``accuracy`` and ``iou`` of ``pred``, ``empty_accuracy`` and ``empty_iou``
        of a prediction that marks nothing; arrays over ``pads``.

    Examples
    --------
    >>> t = np.zeros((4, 4), bool); t[1:3, 1:3] = True
    >>> c = background_curve(t, t, [0, 2])
    >>> c["empty_accuracy"].tolist(), c["iou"].tolist()
    ([0.75, 0.9375], [1.0, 1.0])
    """
    truth, pred = np.asarray(truth, bool), np.asarray(pred, bool)
    out = {k: [] for k in ("object_share", "accuracy", "iou", "empty_accuracy", "empty_iou")}
    for pad in pads:
        t, p = with_background(truth, pad), with_background(pred, pad)
        got = metrics.binary_scores(p, t)
        empty = metrics.binary_scores(np.zeros_like(t), t)
        out["object_share"].append(t.mean())
        out["accuracy"].append(got["accuracy"])
        out["iou"].append(got["iou"])
        out["empty_accuracy"].append(empty["accuracy"])
        out["empty_iou"].append(empty["iou"])
    return {"pad": np.asarray(pads, int), **{k: np.array(v) for k, v in out.items()}}


def one_bad_object(objects: np.ndarray, bad: int, *, shift: tuple[int, int] = (0, 0),
                   grow: int = 0) -> np.ndarray:
    """Instances exactly as true, except object ``bad``, moved as by :func:`moved`
    (it never covers another object).

    Examples
    --------
    >>> ids = np.array([[1, 1, 0, 0, 2]])
    >>> one_bad_object(ids, 1, shift=(0, 1)).tolist()
    [[0, 1, 1, 0, 2]]
    """
    objects = np.asarray(objects)
    pred = np.where(objects == bad, 0, objects)
    pred[moved(objects == bad, shift=shift, grow=grow) & (pred == 0)] = bad
    return pred


def pick_object(objects: np.ndarray, which: str) -> int:
    """The id of ``"the smallest"`` or ``"the largest"`` object of an instance image
    (the first on a tie).

    Examples
    --------
    >>> pick_object(np.array([[1, 1, 0, 2, 3, 3, 3]]), "the smallest")
    2
    """
    if which not in OBJECT_CHOICES:
        raise ValueError(f"which must be one of {OBJECT_CHOICES}, got {which!r}")
    objects = np.asarray(objects)
    ids, sizes = np.unique(objects[objects > 0], return_counts=True)
    if ids.size == 0:
        raise ValueError("the instance image has no object")
    return int(ids[sizes.argmin() if which == "the smallest" else sizes.argmax()])


def object_scores(pred: np.ndarray, truth: np.ndarray) -> dict:
    """IoU and Dice of every true object against the predicted pixels with its id,
    their means over the objects, and the pooled IoU and Dice of all object pixels
    together (:func:`segcore.metrics.binary_scores` each).

    Parameters
    ----------
    pred, truth : (H, W) int ndarray
        Instance ids with the same meaning (``0`` background): object ``k`` of
        ``pred`` is the prediction of object ``k`` of ``truth``.

    Returns
    -------
    dict
        ``ids``, ``size`` (true pixels), ``iou``, ``dice`` (arrays over the true
        objects), ``mean_iou``, ``mean_dice``, ``pooled_iou``, ``pooled_dice``.

    Examples
    --------
    >>> truth = np.array([[1, 1, 0, 2]])
    >>> s = object_scores(np.array([[1, 0, 0, 2]]), truth)
    >>> s["iou"].tolist(), s["mean_iou"], round(s["pooled_iou"], 3)
    ([0.5, 1.0], 0.75, 0.667)
    """
    pred, truth = np.asarray(pred), np.asarray(truth)
    ids = np.unique(truth[truth > 0])
    each = [metrics.binary_scores(pred == k, truth == k) for k in ids]
    pooled = metrics.binary_scores(pred > 0, truth > 0)
    iou = np.array([s["iou"] for s in each])
    dice = np.array([s["dice"] for s in each])
    return {"ids": ids, "size": np.array([np.count_nonzero(truth == k) for k in ids]),
            "iou": iou, "dice": dice, "mean_iou": float(iou.mean()) if ids.size else 1.0,
            "mean_dice": float(dice.mean()) if ids.size else 1.0,
            "pooled_iou": pooled["iou"], "pooled_dice": pooled["dice"]}


def object_table(scores: dict, bad: int) -> dict:
    """The columns of a table of :func:`object_scores`, one row per true object,
    the ``bad`` one named so.

    Examples
    --------
    >>> s = object_scores(np.array([[1, 0, 0, 2]]), np.array([[1, 1, 0, 2]]))
    >>> object_table(s, 1)["object"], object_table(s, 1)["IoU"]
    (['1 (bad)', '2'], [0.5, 1.0])
    """
    return {"object": [f"{i} (bad)" if i == bad else str(i) for i in scores["ids"]],
            "pixels": [int(v) for v in scores["size"]],
            "IoU": [round(float(v), 3) for v in scores["iou"]],
            "Dice": [round(float(v), 3) for v in scores["dice"]]}


def bad_object_notice(scores: dict, bad: int) -> str:
    """What to notice about :func:`object_scores` when only object ``bad`` is wrong:
    what it costs the means over objects and the pooled IoU.

    Examples
    --------
    >>> s = object_scores(np.array([[1, 0, 0, 2]]), np.array([[1, 1, 0, 2]]))
    >>> bad_object_notice(s, 1)[:50]
    'The bad object has IoU 0.500 and Dice 0.667. Avera'
    """
    k = list(scores["ids"]).index(bad)
    n, iou, dice = scores["ids"].size, scores["iou"][k], scores["dice"][k]
    share = scores["size"][k] / scores["size"].sum()
    pooled, averaged = 1 - scores["pooled_iou"], (1 - iou) / n
    return (f"The bad object has IoU {iou:.3f} and Dice {dice:.3f}. Averaged over {n} objects "
            f"it costs IoU {averaged:.3f} and Dice {(1 - dice) / n:.3f}: IoU punishes a "
            "half-right object more (a lost or a perfect one costs both alike). Pooled over all "
            f"object pixels it costs {pooled:.3f} IoU, {'less' if pooled < averaged else 'more'}, "
            f"as it holds {100 * share:.1f}% of them: averaged, a small object counts as much as "
            "a big one.")


def boundary_curve(pred: np.ndarray, truth: np.ndarray, tolerances) -> np.ndarray:
    """:func:`segcore.metrics.boundary_f1` of ``pred`` against ``truth`` at each of
    ``tolerances`` (pixels).

    Examples
    --------
    >>> t = np.zeros((8, 8), int); t[:, 4:] = 1
    >>> p = np.zeros((8, 8), int); p[:, 6:] = 1
    >>> boundary_curve(p, t, [0, 1, 2]).tolist()
    [0.0, 0.5, 1.0]
    """
    return np.array([metrics.boundary_f1(pred, truth, tolerance=t)["f1"] for t in tolerances])


def boundary_pixels(pred: np.ndarray, truth: np.ndarray, *, tolerance: float) -> dict:
    """The boundary pixels :func:`segcore.metrics.boundary_f1` counts, sorted: the
    predicted ones ``near`` a true boundary (within ``tolerance``) or ``far``, and
    the true ones ``found`` or ``missed``. ``near`` over all predicted ones is the
    boundary precision, ``found`` over all true ones the recall.

    Examples
    --------
    >>> t = np.zeros((6, 6), int); t[:, 3:] = 1
    >>> p = np.zeros((6, 6), int); p[:, 4:] = 1  # one pixel to the right
    >>> b = boundary_pixels(p, t, tolerance=0)
    >>> int(b["near"].sum()), int(b["far"].sum()), int(b["missed"].sum())
    (6, 6, 6)
    """
    pred_edges = find_boundaries(np.asarray(pred), connectivity=1, mode="thick")
    truth_edges = find_boundaries(np.asarray(truth), connectivity=1, mode="thick")
    to_truth = (ndimage.distance_transform_edt(~truth_edges) if truth_edges.any()
                else np.full(truth_edges.shape, np.inf))
    to_pred = (ndimage.distance_transform_edt(~pred_edges) if pred_edges.any()
               else np.full(pred_edges.shape, np.inf))
    return {"near": pred_edges & (to_truth <= tolerance),
            "far": pred_edges & (to_truth > tolerance),
            "found": truth_edges & (to_pred <= tolerance),
            "missed": truth_edges & (to_pred > tolerance)}


def _dim(image: np.ndarray) -> np.ndarray:
    return 0.35 * viz.to_rgb(image) + 0.1


def boundary_picture(image: np.ndarray, pixels: dict) -> np.ndarray:
    """:func:`boundary_pixels` drawn on the dimmed image: true boundaries found in
    white, missed in blue; predicted boundaries near a true one in green, far in
    orange (predicted drawn last).

    Examples
    --------
    >>> t = np.zeros((6, 6), int); t[:, 3:] = 1
    >>> pic = boundary_picture(np.zeros((6, 6, 1)), boundary_pixels(t, t, tolerance=0))
    >>> viz.hex_colour(pic[0, 3])
    '#009e73'
    """
    out = _dim(image)
    out[pixels["found"]] = 1.0
    out[pixels["missed"]] = viz.ERROR_COLORS["fn"]
    out[pixels["near"]] = viz.ERROR_COLORS["tp"]
    out[pixels["far"]] = viz.ERROR_COLORS["fp"]
    return out.astype(np.float32)


def error_picture(image: np.ndarray, pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Found (TP), wrongly marked (FP) and missed (FN) pixels of a predicted mask
    against a true one, in the colours of :func:`segcore.viz.error_map`
    (:func:`segcore.metrics.error_kinds` decides each pixel).

    Examples
    --------
    >>> truth, pred = np.array([[1, 1, 0]], bool), np.array([[1, 0, 1]], bool)
    >>> [viz.hex_colour(px) for px in error_picture(np.zeros((1, 3, 1)), pred, truth)[0]]
    ['#009e73', '#0073b2', '#d65e00']
    """
    pred_labels = np.where(np.asarray(pred, bool), 2, 1)
    truth_labels = np.where(np.asarray(truth, bool), 2, 1)
    return viz.error_map(metrics.error_kinds(pred_labels, truth_labels, positive=[2]),
                         image=image)


def method_objects(image: np.ndarray, *, sigma: float, how: str) -> np.ndarray:
    """A real method's objects: the image blurred (Gaussian, ``sigma`` pixels; 0 for
    none), split by Otsu's threshold (:func:`segcore.learn.kinds.semantic`) and cut
    into instances (:func:`segcore.learn.kinds.instances`, ``how`` ``"connected"``
    or ``"watershed"``).

    Returns
    -------
    (H, W) int32 ndarray
        Instance ids ``1..N``, ``0`` background.

    Raises
    ------
    ValueError
        A flat image (Otsu has nothing to split) or an unknown ``how``.

    Examples
    --------
    >>> img = np.zeros((12, 12, 1), np.float32); img[2:5, 2:5] = img[7:10, 7:10] = 1
    >>> int(method_objects(img, sigma=0, how="connected").max())
    2
    """
    image = np.asarray(image, np.float32)
    if sigma > 0:
        image = filters.gaussian(image, sigma=sigma, channel_axis=-1).astype(np.float32)
    labels = kinds.semantic(image, method="otsu").labels
    return kinds.instances(labels, how=how)[0]


def match_picture(image: np.ndarray, pred: np.ndarray, truth: np.ndarray,
                  pairs: np.ndarray) -> np.ndarray:
    """Instances after matching (``pairs`` from
    :func:`segcore.metrics.match_instances`): matched predictions filled green,
    unmatched ones (false positives) orange; the outlines of true objects white when
    matched, blue when missed (false negatives).

    Examples
    --------
    >>> truth = np.array([[1, 1, 0, 0, 2, 2]]); pred = np.array([[1, 1, 0, 0, 0, 0]])
    >>> pic = match_picture(np.zeros((1, 6, 1)), pred, truth, np.array([[1, 1]]))
    >>> viz.hex_colour(pic[0, 1]), viz.hex_colour(pic[0, 4])  # outlines: matched, missed
    ('#ffffff', '#0073b2')
    """
    pred, truth = np.asarray(pred), np.asarray(truth)
    pairs = np.asarray(pairs).reshape(-1, 2)
    out = _dim(image)
    hit = np.isin(pred, pairs[:, 0])
    out[(pred > 0) & hit] = 0.55 * out[(pred > 0) & hit] + 0.45 * np.array(viz.ERROR_COLORS["tp"])
    out[(pred > 0) & ~hit] = viz.ERROR_COLORS["fp"]
    outline = find_boundaries(truth, connectivity=1, mode="inner") & (truth > 0)
    found = np.isin(truth, pairs[:, 1])
    out[outline & found] = 1.0
    out[outline & ~found] = viz.ERROR_COLORS["fn"]
    return out.astype(np.float32)


def _gathered(*lines: str) -> str:
    """LaTeX lines set one under the other, centred, in one display."""
    # The strut keeps a first line of fractions from being clipped at the top (KaTeX).
    return r"\begin{gathered}\rule{0pt}{1.6em}" + r" \\[6pt] ".join(lines) + r"\end{gathered}"


def latex_count(n: int) -> str:
    """A pixel count for LaTeX, thousands separated (a bare comma gets a space there).

    Examples
    --------
    >>> latex_count(12345)
    '12{,}345'
    """
    return f"{int(n):,}".replace(",", "{,}")


def overlap_latex(scores: dict) -> str:
    """IoU and Dice of :func:`segcore.metrics.binary_scores` with the counts in
    their fractions, and the identity ``Dice = 2 IoU / (1 + IoU)`` with the numbers.

    Examples
    --------
    >>> s = metrics.binary_scores(np.array([1, 1, 0]), np.array([1, 0, 0]))
    >>> "= 0.667" in overlap_latex(s)
    True
    """
    tp, fp, fn = (latex_count(scores[k]) for k in ("tp", "fp", "fn"))
    iou = scores["iou"]
    return _gathered(rf"\mathrm{{IoU}} = \frac{{{tp}}}{{{tp}+{fp}+{fn}}} = {iou:.3f},\qquad "
                     rf"\mathrm{{Dice}} = \frac{{2\cdot{tp}}}{{2\cdot{tp}+{fp}+{fn}}} = "
                     rf"{scores['dice']:.3f}",
                     rf"\mathrm{{Dice}} = \frac{{2\,\mathrm{{IoU}}}}{{1+\mathrm{{IoU}}}} = "
                     rf"\frac{{2\cdot{iou:.3f}}}{{1+{iou:.3f}}} = {dice_from_iou(iou):.3f}")


def accuracy_latex(empty: dict, scores: dict, name: str) -> str:
    """Pixel accuracy and IoU of an empty prediction, written out with its counts
    (``empty`` from :func:`segcore.metrics.binary_scores`), over those of another
    prediction called ``name``.

    Examples
    --------
    >>> truth = np.array([1, 0, 0, 0])
    >>> e = metrics.binary_scores(np.zeros(4, int), truth)
    >>> "= 0.750" in accuracy_latex(e, metrics.binary_scores(truth, truth), "perfect")
    True
    """
    total = empty["tp"] + empty["fp"] + empty["fn"] + empty["tn"]
    tn, n, fn = latex_count(empty["tn"]), latex_count(total), latex_count(empty["fn"])
    return _gathered(rf"\text{{nothing marked: accuracy}} = \frac{{0 + {tn}}}{{{n}}} = "
                     rf"{empty['accuracy']:.3f},\qquad \mathrm{{IoU}} = \frac{{0}}{{0+0+{fn}}} = "
                     rf"{empty['iou']:.3f}",
                     rf"\text{{{name}: accuracy}} = {scores['accuracy']:.3f},\qquad "
                     rf"\mathrm{{IoU}} = {scores['iou']:.3f}")


def precision_recall_latex(scores: dict) -> str:
    """Precision and recall of :func:`segcore.metrics.binary_scores` with the counts,
    and Dice as their harmonic mean, with the numbers.

    Examples
    --------
    >>> s = metrics.binary_scores(np.array([1, 1, 0]), np.array([1, 0, 0]))
    >>> "= 0.667" in precision_recall_latex(s)
    True
    """
    tp, fp, fn = (latex_count(scores[k]) for k in ("tp", "fp", "fn"))
    p, r = scores["precision"], scores["recall"]
    return _gathered(rf"P = \frac{{TP}}{{TP+FP}} = \frac{{{tp}}}{{{tp}+{fp}}} = {p:.3f},\qquad "
                     rf"R = \frac{{TP}}{{TP+FN}} = \frac{{{tp}}}{{{tp}+{fn}}} = {r:.3f}",
                     rf"\mathrm{{Dice}} = \frac{{2PR}}{{P+R}} = \frac{{2\cdot{p:.3f}\cdot{r:.3f}}}"
                     rf"{{{p:.3f}+{r:.3f}}} = {scores['dice']:.3f}")


def means_latex(scores: dict, bad: int) -> str:
    """The means over objects of :func:`object_scores`, written out for one bad
    object ``bad`` (every other object perfect), and the pooled scores.

    Examples
    --------
    >>> s = object_scores(np.array([[1, 0, 0, 2]]), np.array([[1, 1, 0, 2]]))
    >>> "{1 + 0.500}{2} = 0.750" in means_latex(s, 1)
    True
    """
    k = list(scores["ids"]).index(bad)
    n, iou, dice = scores["ids"].size, scores["iou"][k], scores["dice"][k]
    return _gathered(rf"\overline{{\mathrm{{IoU}}}} = \frac{{1}}{{n}}\sum_k \mathrm{{IoU}}_k = "
                     rf"\frac{{{n - 1} + {iou:.3f}}}{{{n}}} = {scores['mean_iou']:.3f},\qquad "
                     rf"\overline{{\mathrm{{Dice}}}} = \frac{{{n - 1} + {dice:.3f}}}{{{n}}} = "
                     rf"{scores['mean_dice']:.3f}",
                     rf"\text{{pooled over all object pixels: IoU}} = "
                     rf"{scores['pooled_iou']:.3f},\quad "
                     rf"\text{{Dice}} = {scores['pooled_dice']:.3f}")


def boundary_latex(scores: dict, pixels: dict) -> str:
    """Boundary precision, recall and F1 (:func:`segcore.metrics.boundary_f1`) with
    the pixel counts of :func:`boundary_pixels` in their fractions.

    Examples
    --------
    >>> t = np.zeros((6, 6), int); t[:, 3:] = 1
    >>> boundary_latex(metrics.boundary_f1(t, t), boundary_pixels(t, t, tolerance=2))[-5:]
    '1.000'
    """
    near, far, found, missed = (latex_count(pixels[k].sum())
                                for k in ("near", "far", "found", "missed"))
    return (rf"P_b = \frac{{{near}}}{{{near}+{far}}} = {scores['precision']:.3f},\quad R_b = "
            rf"\frac{{{found}}}{{{found}+{missed}}} = {scores['recall']:.3f},\quad F_1 = "
            rf"\frac{{2P_bR_b}}{{P_b+R_b}} = {scores['f1']:.3f}")


def objects_latex(match: dict, ap: dict, pq: dict, threshold: float) -> str:
    """The counts and ``AP_t`` of :func:`segcore.metrics.match_instances` at
    ``threshold``, the mean AP of :func:`segcore.metrics.average_precision` and
    panoptic quality (:func:`segcore.metrics.panoptic_quality`) as SQ times RQ.

    Examples
    --------
    >>> t = np.array([[1, 1, 0, 2]])
    >>> out = objects_latex(metrics.match_instances(t, t), metrics.average_precision(t, t),
    ...                     metrics.panoptic_quality(t, t), 0.5)
    >>> "PQ} =" in out and "RQ}} = 1.000" in out
    True
    """
    t = f"{threshold:.2f}"
    tp, fp, fn = pq["tp"], pq["fp"], pq["fn"]
    return _gathered(rf"\text{{at }} {t}:\ TP = {match['tp']},\ FP = {match['fp']},\ FN = "
                     rf"{match['fn']},\quad \mathrm{{AP}}_{{{t}}} = \frac{{TP}}{{TP+FP+FN}} = "
                     rf"{match['ap']:.3f}",
                     rf"\mathrm{{AP}} = \frac{{1}}{{{len(ap['thresholds'])}}}\sum_t "
                     rf"\mathrm{{AP}}_t = "
                     rf"{ap['ap']:.3f},\qquad \mathrm{{PQ}} = \underbrace{{{pq['sq']:.3f}}}_"
                     rf"{{\text{{SQ: mean IoU of matches}}}} \times \underbrace{{\frac{{{tp}}}"
                     rf"{{{tp} + \frac{{{fp}}}{{2}} + \frac{{{fn}}}{{2}}}}}}_{{\text{{RQ}}}} = "
                     rf"{pq['pq']:.3f}")


def curve_figure(x, series: dict, *, x_title: str, marks: dict | None = None,
                 dashed=(), height: int = 300) -> go.Figure:
    """Scores against a control: one line per ``series`` item (``{name: values}``,
    coloured by :data:`COLOURS` after the name's first word, dotted when the name is
    in ``dashed``), dashed vertical lines at ``marks`` (``{label: x}``), scores from
    0 to 1.

    Examples
    --------
    >>> fig = curve_figure([0, 1], {"IoU": [1, 0.5]}, x_title="grow", marks={"now": 1})
    >>> [d.name for d in fig.data], fig.data[0].line.color
    (['IoU'], '#1f77b4')
    """
    fig = go.Figure()
    for name, y in series.items():
        fig.add_scatter(x=list(x), y=list(np.asarray(y, float)), mode="lines+markers", name=name,
                        line=dict(width=3, color=COLOURS.get(name.split()[0].lower()),
                                  dash="dot" if name in dashed else None))
    for label, at in (marks or {}).items():
        fig.add_vline(x=float(at), line_dash="dash", line_color="#444", annotation_text=label)
    fig.update_layout(xaxis_title=x_title, yaxis_title="score", height=height,
                      yaxis=dict(range=[-0.02, 1.02]), margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.25))
    return fig


def identity_figure(iou: float, dice: float) -> go.Figure:
    """The curve ``Dice = 2 IoU / (1 + IoU)`` with the diagonal ``Dice = IoU`` and
    the current prediction as a point on the curve.

    Examples
    --------
    >>> [d.name for d in identity_figure(0.5, 2 / 3).data]
    ['Dice = 2 IoU / (1 + IoU)', 'Dice = IoU', 'this prediction']
    """
    grid = np.linspace(0, 1, 101)
    fig = go.Figure()
    fig.add_scatter(x=grid, y=dice_from_iou(grid), mode="lines", name="Dice = 2 IoU / (1 + IoU)",
                    line=dict(width=3, color=COLOURS["dice"]))
    fig.add_scatter(x=grid, y=grid, mode="lines", name="Dice = IoU",
                    line=dict(width=1, color="#999", dash="dot"))
    fig.add_scatter(x=[iou], y=[dice], mode="markers", name="this prediction",
                    marker=dict(size=13, color=COLOURS["iou"]))
    # The legend goes below: in a narrow column it wraps, and above it would hide the top.
    fig.update_layout(xaxis_title="IoU", yaxis_title="Dice", height=380,
                      xaxis=dict(range=[0, 1.02]), yaxis=dict(range=[0, 1.02]),
                      margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.22))
    return fig
