"""The numbers of the lesson "What segmentation is": five kinds of answer to "what is
in this picture?", all computed on one image.

- classification: one label for the whole picture (``()`` array);
- detection: one box per object (``(N, 4)`` array of ``top, left, bottom, right``);
- semantic segmentation: a class for every pixel (``(H, W)`` class ids ``1..K``);
- instance segmentation: an object id for every pixel of a countable object
  (``(H, W)`` ids ``1..N``, ``0`` elsewhere);
- panoptic segmentation: both, ``(H, W, 2)``: the class of every pixel and, for
  the pixels of countable objects ("things"), their id; the background ("stuff")
  has a class but no id.

The semantic map comes from a real method of the engine (:func:`semantic`); its
background is the class that covers most of the image border, and every other
class holds things. Instances are the connected pieces of the things
(:func:`instances` with ``how="connected"``) or those pieces split where objects
touch, by a watershed on the distance to the background (``how="watershed"``,
with the markers of :func:`segcore.methods.watershed.find_markers`).

>>> from segcore import synthetic
>>> s = synthetic.blobs()
>>> k = segmentation_kinds(semantic(s.image, method="otsu").labels, how="connected")
>>> k.n_instances, k.array("panoptic").shape
(6, (192, 192, 2))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage import measure
from skimage import segmentation as sksegmentation

import segcore
from segcore import io as sio
from segcore import metrics, synthetic, viz
from segcore.color import label_palette
from segcore.learn import objects
from segcore.methods.watershed import find_markers
from segcore.registry import Segmentation

__all__ = [
    "SemanticMethod",
    "SEMANTIC_METHODS",
    "INSTANCE_METHODS",
    "KINDS",
    "IMAGE_CLASSES",
    "CROP_SIZE",
    "Kinds",
    "semantic",
    "background_class",
    "instances",
    "marker_prominence",
    "segmentation_kinds",
    "crop_window",
    "compare_instances",
    "blob_instances",
    "true_instances",
    "kind_picture",
    "mark_window",
]


@dataclass(frozen=True)
class SemanticMethod:
    """A method of the engine that gives the lesson its semantic map: ``method``
    is a registry name and ``params`` its settings as ``(name, value)`` pairs.

    Examples
    --------
    >>> SEMANTIC_METHODS["kmeans2"].settings()
    {'k': 2, 'space': 'lab'}
    """

    label: str
    method: str
    params: tuple = ()

    def settings(self) -> dict:
        """The parameters as a dict, for :func:`segcore.segment`.

        Examples
        --------
        >>> SEMANTIC_METHODS["otsu"].settings()
        {'algorithm': 'otsu'}
        """
        return dict(self.params)


#: The semantic methods the lesson offers, by key.
SEMANTIC_METHODS = {
    "otsu": SemanticMethod("Otsu threshold (2 classes)", "threshold", (("algorithm", "otsu"),)),
    "li": SemanticMethod("Li threshold (2 classes)", "threshold", (("algorithm", "li"),)),
    "kmeans2": SemanticMethod("K-means on colour, 2 clusters", "kmeans",
                              (("k", 2), ("space", "lab"))),
}
#: How instances are made from the semantic map.
INSTANCE_METHODS = {
    "connected": "Connected components",
    "watershed": "Watershed (split touching objects)",
}
#: The five kinds of answer, in the order the lesson shows them.
KINDS = {
    "classification": "Classification",
    "detection": "Detection",
    "semantic": "Semantic segmentation",
    "instance": "Instance segmentation",
    "panoptic": "Panoptic segmentation",
}
#: The classification's two answers, indexed by its value.
IMAGE_CLASSES = ("no objects", "contains objects")
#: Rows and columns of the crop of numbers the lesson shows.
CROP_SIZE = (8, 10)


@dataclass(frozen=True)
class Kinds:
    """The five kinds of answer for one image.

    Attributes
    ----------
    semantic : (H, W) int32 ndarray
        Class ids ``1..K`` from the semantic method (``0`` where it left a pixel
        unlabelled).
    instances : (H, W) int32 ndarray
        Object ids ``1..N``; ``0`` on stuff and on specks smaller than ``min_size``.
    boxes : (N, 4) int32 ndarray
        ``top, left, bottom, right`` of instance ``i + 1`` (bottom and right
        excluded, as :func:`skimage.measure.regionprops` gives them).
    box_classes : (N,) int32 ndarray
        The class of each box.
    background : int
        The stuff class (the one covering most of the image border).
    specks : int
        Connected pieces of things left out for being smaller than ``min_size``.

    Examples
    --------
    >>> sem = np.ones((6, 6), np.int32); sem[1:3, 1:3] = 2; sem[4:, 4:] = 2
    >>> k = segmentation_kinds(sem, how="connected")
    >>> k.n_instances, k.boxes.tolist(), int(k.array("classification"))
    (2, [[1, 1, 3, 3], [4, 4, 6, 6]], 1)
    """

    semantic: np.ndarray
    instances: np.ndarray
    boxes: np.ndarray
    box_classes: np.ndarray
    background: int
    specks: int = 0

    @property
    def n_instances(self) -> int:
        """Number of instances (ids run ``1..N``)."""
        return int(self.instances.max(initial=0))

    @property
    def classes(self) -> list[int]:
        """The classes present in the semantic map (``0`` not counted).

        Examples
        --------
        >>> Kinds(np.array([[1, 3]]), np.zeros((1, 2), np.int32), np.zeros((0, 4), np.int32),
        ...       np.zeros(0, np.int32), 1).classes
        [1, 3]
        """
        return [int(c) for c in np.unique(self.semantic) if c != 0]

    @property
    def things(self) -> list[int]:
        """The classes whose pixels are countable objects: every class but the background."""
        return [c for c in self.classes if c != self.background]

    def array(self, kind: str) -> np.ndarray:
        """The output of ``kind`` (a key of :data:`KINDS`) as the array a program
        would hand on: ``()`` for classification, ``(N, 4)`` for detection,
        ``(H, W)`` for semantic and instance, ``(H, W, 2)`` for panoptic (class,
        then instance id; a thing pixel without an instance gets class ``0``,
        "void").

        Examples
        --------
        >>> sem = np.ones((4, 4), np.int32); sem[:2, :2] = 2
        >>> k = segmentation_kinds(sem, how="connected")
        >>> k.array("panoptic")[0, 0].tolist(), k.array("classification").shape
        ([2, 1], ())
        """
        if kind == "classification":
            return np.array(1 if self.n_instances > 0 else 0, np.int32)
        if kind == "detection":
            return self.boxes
        if kind == "semantic":
            return self.semantic
        if kind == "instance":
            return self.instances
        if kind == "panoptic":
            classes = self.semantic.copy()
            classes[np.isin(self.semantic, self.things) & (self.instances == 0)] = 0
            return np.stack([classes, self.instances], axis=2).astype(np.int32)
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def semantic(image: np.ndarray, *, method: str = "otsu") -> Segmentation:
    """The semantic map of ``image`` by one of :data:`SEMANTIC_METHODS`, run through
    :func:`segcore.segment` (classes are numbered by brightness: ``1`` darkest).

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    method : str
        A key of :data:`SEMANTIC_METHODS`.

    Returns
    -------
    Segmentation
        ``labels`` ``(H, W) int32``; ``extras`` as the engine's method gives them
        (``thresholds`` or ``centres``).

    Raises
    ------
    ValueError
        Unknown method, or an image the method cannot split (a flat one).

    Examples
    --------
    >>> img = np.zeros((8, 8, 1), np.float32); img[:, 4:] = 1
    >>> semantic(img, method="otsu").labels[0].tolist()
    [1, 1, 1, 1, 2, 2, 2, 2]
    """
    if method not in SEMANTIC_METHODS:
        raise ValueError(f"method must be one of {', '.join(SEMANTIC_METHODS)}, got {method!r}")
    spec = SEMANTIC_METHODS[method]
    return segcore.segment(image, spec.method, **spec.settings())


def background_class(labels: np.ndarray) -> int:
    """The class that covers most of the image border: taken as the background
    ("stuff"), since objects rarely surround a picture. Ties go to the lower id;
    ``0`` (unlabelled) is never the background unless nothing else is there.

    Parameters
    ----------
    labels : (H, W) int ndarray

    Examples
    --------
    >>> lab = np.full((5, 5), 2); lab[1:4, 1:4] = 1
    >>> background_class(lab)
    2
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty (H, W) array, got shape {labels.shape}")
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    for pixels in (border, labels.ravel()):
        counts = np.bincount(pixels[pixels > 0])
        if counts.any():
            return int(counts.argmax())
    return 0


def marker_prominence(mask: np.ndarray, *, h: float) -> tuple[float, float]:
    """The largest distance from an object pixel of ``mask`` to the background, and
    how far (in pixels) a peak of that distance must stand above the saddle to its
    neighbouring peaks to start an instance of its own: ``max(h * largest, 0.5)``,
    the rule of the engine's distance markers.

    Examples
    --------
    >>> mask = np.zeros((9, 9), bool); mask[1:8, 1:8] = True
    >>> marker_prominence(mask, h=0.25)
    (4.0, 1.0)
    """
    largest = float(ndi.distance_transform_edt(mask).max()) if np.any(mask) else 0.0
    return largest, max(h * largest, 0.5)


def _split(mask: np.ndarray, h: float) -> np.ndarray:
    """Ids of ``mask``'s objects, touching ones split by a watershed on the distance
    to the background from the engine's distance markers; a piece without a marker
    keeps one id."""
    # On a 0/1 image Otsu's foreground is the mask itself, so find_markers gives the
    # markers the engine's watershed would give this mask.
    markers = find_markers(mask.astype(np.float32), None, "distance", h=h)
    markers = np.where(markers >= 2, markers - 1, 0).astype(np.int32)
    inside = ndi.distance_transform_edt(mask)
    ids = sksegmentation.watershed(-inside, markers, mask=mask, connectivity=2)
    orphans = measure.label(mask & (ids == 0), connectivity=2)
    ids = np.where(orphans > 0, orphans + ids.max(), ids)
    return sksegmentation.relabel_sequential(ids)[0].astype(np.int32)


def instances(labels: np.ndarray, *, how: str = "connected", h: float = 0.05,
              min_size: int = 0) -> tuple[np.ndarray, int]:
    """Instances of the things of a semantic map: every class but the background
    (:func:`background_class`) is cut into objects.

    Parameters
    ----------
    labels : (H, W) int ndarray
        The semantic map (class ids).
    how : {"connected", "watershed"}
        ``connected``: each connected piece of a thing class (pixels touching by a
        side or a corner) is one instance. ``watershed``: each piece is also split
        where objects touch, by a watershed on the distance to the background from
        its peaks (see :func:`marker_prominence` for ``h``).
    h : float
        For ``watershed``: how prominent a peak of the distance must be, as a
        fraction of the largest distance; higher splits less.
    min_size : int
        Pieces with fewer pixels are specks: they get no instance (``0``).

    Returns
    -------
    instances : (H, W) int32 ndarray
        Ids ``1..N``, class by class; ``0`` on stuff and specks.
    specks : int
        The number of pieces left out.

    Examples
    --------
    >>> sem = np.ones((7, 13), np.int32)
    >>> sem[1:6, 1:6] = sem[1:6, 7:12] = 2; sem[3, 6] = 2  # two squares, a thin bridge
    >>> int(instances(sem, how="connected")[0].max()), int(instances(sem, how="watershed")[0].max())
    (1, 2)
    """
    labels = np.asarray(labels)
    if how not in INSTANCE_METHODS:
        raise ValueError(f"how must be one of {', '.join(INSTANCE_METHODS)}, got {how!r}")
    if min_size < 0:
        raise ValueError(f"min_size must be 0 or more, got {min_size}")
    background = background_class(labels)
    out = np.zeros(labels.shape, np.int32)
    specks = 0
    for cls in np.unique(labels):
        if cls in (0, background):
            continue
        pieces = measure.label(labels == cls, connectivity=2)
        sizes = np.bincount(pieces.ravel())
        small = sizes < min_size
        small[0] = False
        specks += int(small.sum())
        mask = (pieces > 0) & ~small[pieces]
        if not mask.any():
            continue
        ids = _split(mask, h) if how == "watershed" else \
            sksegmentation.relabel_sequential(np.where(mask, pieces, 0))[0]
        start = out.max()
        out[mask] = ids[mask] + start
    return out, specks


def segmentation_kinds(labels: np.ndarray, *, how: str = "connected", h: float = 0.05,
                       min_size: int = 0) -> Kinds:
    """All five kinds of answer from one semantic map: instances by :func:`instances`,
    boxes from :func:`skimage.measure.regionprops` of the instances.

    Parameters
    ----------
    labels : (H, W) int ndarray
        The semantic map.
    how, h, min_size
        As :func:`instances`.

    Examples
    --------
    >>> sem = np.ones((5, 8), np.int32); sem[1:4, 1:3] = 2; sem[1:4, 5:7] = 3
    >>> k = segmentation_kinds(sem)
    >>> k.things, k.box_classes.tolist(), k.boxes[1].tolist()
    ([2, 3], [2, 3], [1, 5, 4, 7])
    """
    labels = np.asarray(labels, np.int32)
    ids, specks = instances(labels, how=how, h=h, min_size=min_size)
    props = measure.regionprops(ids)
    boxes = np.array([p.bbox for p in props], np.int32).reshape(-1, 4)
    classes = np.array([labels[tuple(p.coords[0])] for p in props], np.int32)
    return Kinds(semantic=labels, instances=ids, boxes=boxes, box_classes=classes,
                 background=background_class(labels), specks=specks)


def crop_window(ids: np.ndarray, *, size: tuple[int, int] = CROP_SIZE) -> tuple[int, int]:
    """Where to show a crop of the numbers: ``(top, left)`` of a ``size`` window
    centred, nearest the image centre, on a place where two instances touch;
    else on the edge of an instance; else at the centre.

    Parameters
    ----------
    ids : (H, W) int ndarray
        Instance ids, ``0`` for no instance.

    Examples
    --------
    >>> ids = np.zeros((20, 20), int); ids[5:15, 3:10] = 1; ids[5:15, 10:17] = 2
    >>> crop_window(ids, size=(4, 4))
    (8, 8)
    """
    ids = np.asarray(ids)
    h, w = ids.shape
    rows, cols = min(size[0], h), min(size[1], w)
    right = np.zeros_like(ids, dtype=bool)
    down = np.zeros_like(ids, dtype=bool)
    right[:, :-1] = ids[:, :-1] != ids[:, 1:]
    down[:-1] = ids[:-1] != ids[1:]
    between = np.zeros_like(right)
    between[:, :-1] |= right[:, :-1] & (ids[:, :-1] > 0) & (ids[:, 1:] > 0)
    between[:-1] |= down[:-1] & (ids[:-1] > 0) & (ids[1:] > 0)
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    for place in (between, right | down):
        found = np.argwhere(place)
        if len(found):
            # Counted at the pixel after the edge too, so the edge sits mid-window.
            r, c = found[np.argmin(((found - centre) ** 2).sum(1))] + 1
            break
    else:
        r, c = int(centre[0]), int(centre[1])
    top = int(np.clip(r - rows // 2, 0, h - rows))
    left = int(np.clip(c - cols // 2, 0, w - cols))
    return top, left


def compare_instances(ids: np.ndarray, truth_ids: np.ndarray) -> dict:
    """How predicted instances stand against true ones.

    Parameters
    ----------
    ids, truth_ids : (H, W) int ndarray
        Instance ids, ``0`` for no instance.

    Returns
    -------
    dict
        ``n_pred``, ``n_truth``: instances in each; ``matched``: pairs with IoU at
        least 0.5 (:func:`segcore.metrics.match_instances`); ``pq``: panoptic
        quality (:func:`segcore.metrics.panoptic_quality`); ``merged``: predicted
        instances holding more than half of two or more true ones; ``split``: true
        instances holding more than half of two or more predicted ones.

    Examples
    --------
    >>> truth = np.array([[1, 1, 0, 2, 2]])
    >>> c = compare_instances(np.array([[1, 1, 1, 1, 1]]), truth)
    >>> c["n_pred"], c["n_truth"], c["merged"], c["split"], c["matched"]
    (1, 2, 1, 0, 0)
    """
    ids, truth_ids = np.asarray(ids), np.asarray(truth_ids)
    top = int(max(ids.max(initial=0), truth_ids.max(initial=0)))
    table = metrics.confusion_matrix(ids, truth_ids, labels=np.arange(top + 1))
    truth_sizes, pred_sizes = table.sum(1), table.sum(0)
    held_truth = 2 * table[1:, 1:] > truth_sizes[1:, None]  # truth i mostly inside pred j
    held_pred = 2 * table[1:, 1:] > pred_sizes[None, 1:]  # pred j mostly inside truth i
    match = metrics.match_instances(ids, truth_ids, threshold=0.5)
    return {
        "n_pred": match["n_pred"],
        "n_truth": match["n_truth"],
        "matched": match["tp"],
        "pq": metrics.panoptic_quality(ids, truth_ids)["pq"],
        "merged": int((held_truth.sum(0) >= 2).sum()),
        "split": int((held_pred.sum(1) >= 2).sum()),
    }


def blob_instances(shape: tuple[int, int] = (192, 192), *, n: int = 12, rng: int = 0) -> np.ndarray:
    """The discs of :func:`segcore.synthetic.blobs`, one id each (its ``instances``):
    the exact instances its truth (classes only) does not keep. A disc drawn over
    keeps what remains visible, and ids run ``1..N``.

    Returns
    -------
    (H, W) int32 ndarray
        ``0`` for the background.

    Examples
    --------
    >>> from segcore import synthetic
    >>> ids = blob_instances((64, 64), n=4)
    >>> np.array_equal(ids > 0, synthetic.blobs((64, 64), n=4).truth == 2)
    True
    """
    return synthetic.blobs(shape, n=n, rng=rng).instances


def true_instances(truth: np.ndarray) -> tuple[np.ndarray, bool]:
    """Instances of a ground truth, and whether they are exact.

    SegLab's truths hold classes (``1`` background, ``2..`` objects), not which
    object a pixel belongs to. When ``truth`` is the truth of the generated blobs
    (the ``blobs``, ``noisy blobs`` and ``low contrast`` samples, at any size the
    lesson scaled them to), the discs they were drawn from are the exact instances.
    Otherwise each connected piece of an object class counts as one instance:
    touching objects in the truth then count as one.

    Parameters
    ----------
    truth : (H, W) int ndarray

    Returns
    -------
    instances : (H, W) int32 ndarray
        Ids ``1..N``, ``0`` for the background.
    exact : bool

    Examples
    --------
    >>> from segcore import synthetic
    >>> ids, exact = true_instances(synthetic.blobs().truth)
    >>> int(ids.max()), exact
    (12, True)
    >>> true_instances(np.array([[1, 2, 1, 2]]))[0].tolist()
    [[0, 1, 0, 2]]
    """
    truth = np.asarray(truth)
    found = objects(truth)
    discs = sio.resize_labels(blob_instances(), truth.shape)
    if np.array_equal(discs > 0, found):
        return sksegmentation.relabel_sequential(discs)[0].astype(np.int32), True
    ids, _ = instances(np.where(found, truth, 1), how="connected")
    return ids, False


def _frame(picture: np.ndarray, top: int, left: int, bottom: int, right: int,
           colour) -> None:
    """Paint the one-pixel frame of rows ``top..bottom`` and columns ``left..right``
    (both included), clipped to the picture."""
    h, w = picture.shape[:2]
    r0, r1 = max(top, 0), min(bottom, h - 1)
    c0, c1 = max(left, 0), min(right, w - 1)
    if r0 > r1 or c0 > c1:
        return
    for r in (top, bottom):
        if 0 <= r < h:
            picture[r, c0:c1 + 1] = colour
    for c in (left, right):
        if 0 <= c < w:
            picture[r0:r1 + 1, c] = colour


def kind_picture(image: np.ndarray, kinds: Kinds, kind: str) -> np.ndarray:
    """One kind of answer drawn on the image.

    Classification tints every pixel with one colour (one answer for all of
    them); detection draws each box in its instance's colour; semantic and
    instance segmentation blend class or instance colours over the image
    (:func:`segcore.viz.overlay`); panoptic shows stuff faintly in its class
    colour, every thing in its instance's colour, and void pixels black.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    kinds : Kinds
    kind : str
        A key of :data:`KINDS`.

    Returns
    -------
    (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> sem = np.ones((6, 6), np.int32); sem[1:4, 1:4] = 2
    >>> img = np.zeros((6, 6, 1), np.float32)
    >>> pic = kind_picture(img, segmentation_kinds(sem), "detection")
    >>> pic.shape, bool(pic[1, 1].any()), bool(pic[2, 2].any())
    ((6, 6, 3), True, False)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rgb = viz.to_rgb(image)
    if kind == "classification":
        answer = int(kinds.array("classification"))
        return viz.overlay(rgb, np.full(rgb.shape[:2], answer + 1, np.int32), alpha=0.35,
                           show_boundaries=False)
    if kind == "semantic":
        return viz.overlay(rgb, kinds.semantic)
    if kind == "instance":
        return viz.overlay(rgb, kinds.instances)
    if kind == "detection":
        picture = rgb.copy()
        colours = label_palette(kinds.n_instances)[1:]
        width = max(1, round(max(rgb.shape[:2]) / 200))
        for (top, left, bottom, right), colour in zip(kinds.boxes, colours):
            for k in range(width):  # thicker frames grow outwards, off the object
                _frame(picture, top - k, left - k, bottom - 1 + k, right - 1 + k, colour)
        return picture
    panoptic = kinds.array("panoptic")
    stuff = np.where(panoptic[..., 1] == 0, panoptic[..., 0], 0)
    picture = viz.overlay(rgb, stuff, alpha=0.25, show_boundaries=False)
    picture = viz.overlay(picture, kinds.instances, alpha=0.6)
    picture[panoptic[..., 0] == 0] = 0.0
    return picture


def mark_window(picture: np.ndarray, window: tuple[int, int], *,
                size: tuple[int, int] = CROP_SIZE) -> np.ndarray:
    """A copy of ``picture`` with a white frame just outside the ``size`` window at
    ``window`` (``(top, left)``), the crop whose numbers the lesson shows; one pixel
    wide, one more per 200 pixels of the picture's longer side.

    Parameters
    ----------
    picture : (H, W, 3) float ndarray in [0, 1]

    Examples
    --------
    >>> out = mark_window(np.zeros((10, 10, 3), np.float32), (2, 2), size=(3, 3))
    >>> out[1, 1].tolist(), out[3, 3].tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    out = np.array(picture, np.float32, copy=True)
    top, left = window
    for k in range(1, max(1, round(max(out.shape[:2]) / 200)) + 1):
        _frame(out, top - k, left - k, top + size[0] - 1 + k, left + size[1] - 1 + k, 1.0)
    return out
