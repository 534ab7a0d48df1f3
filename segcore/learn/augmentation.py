"""The numbers and pictures of the lesson on data augmentation.

Every warp here is :func:`segcore.nn.augment.apply`, the function the U-Net training
uses, and every random crop is drawn by :func:`segcore.nn.augment.sample_batch` with
the recipe a shipped model card records. This module only moves between the lesson's
arrays (``(H, W, C)`` images, ``(H, W)`` truths with ``1`` for the background and
``2..`` for objects) and the tensors augmentation works on, and draws the pictures.

>>> from segcore import synthetic
>>> s = synthetic.shapes((60, 80))
>>> image, truth = warp(s.image, s.truth, augment.Augment(angle=180))
>>> bool((truth == s.truth[::-1, ::-1]).all())
True
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch
from skimage import draw as skdraw
from skimage import transform
from skimage.segmentation import find_boundaries

from segcore import io as sio
from segcore.nn import augment
from segcore.nn.infer import image_tensor
from segcore.viz import to_rgb

__all__ = ["QUADRANTS", "warp", "mask_picture", "with_grid",
           "farthest_object_pixel", "where_it_goes", "quadrant", "matrix_latex",
           "object_share", "photometric_numbers", "shipped_card", "card_facts", "count_slices",
           "upright_share", "training_crops", "montage"]

#: The four answers to "where does this pixel go?", by (lower half, right half).
QUADRANTS = {(False, False): "top left", (False, True): "top right",
             (True, False): "bottom left", (True, True): "bottom right"}
#: The mask's outline and the tint of its objects, and the marked pixel's colour.
OUTLINE = (1.0, 0.9, 0.0)
TINT = (1.0, 0.55, 0.0)
DOT = (0.9, 0.1, 0.1)
GRID = (0.2, 0.6, 1.0)


def warp(image: np.ndarray, truth: np.ndarray | None, params: augment.Augment, *,
         size=None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`segcore.nn.augment.apply` on the lesson's arrays: ``image`` ``(H, W, C)``
    float32 in ``[0, 1]`` and its ``truth`` (class ids, or ``None``) warped with one
    grid; returns them as arrays of the output's size (the image's by default).

    Examples
    --------
    >>> img = np.zeros((4, 6, 1), np.float32); img[:, :2] = 1
    >>> out, truth = warp(img, (img[:, :, 0] > 0).astype(int) + 1, augment.Augment(flip_h=True))
    >>> truth.tolist()[0], out[0, :, 0].round(3).tolist()
    ([1, 1, 1, 1, 2, 2], [0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    """
    mask = values = None
    if truth is not None:
        # Class ids 0..K-1 of the values present: two values take the one-channel path.
        values, ids = np.unique(np.asarray(truth), return_inverse=True)
        mask = torch.from_numpy(ids.reshape(np.shape(truth)).astype(np.int64))
    out, moved = augment.apply(image_tensor(image), mask, params, size=size)
    out = out.permute(1, 2, 0).numpy()
    return out, (None if moved is None else values[moved.numpy()].astype(np.int32))


def mask_picture(image: np.ndarray, truth: np.ndarray | None, *, dot=None) -> np.ndarray:
    """The image with its mask drawn over it: objects (truth ``2..``) tinted, their
    outline yellow (two pixels wide, across the border); with ``dot`` ``(row, col)``, a red disc with a white ring there.

    Examples
    --------
    >>> img = np.zeros((8, 8, 1), np.float32); truth = np.ones((8, 8), int); truth[2:6, 2:6] = 2
    >>> p = mask_picture(img, truth, dot=(0, 7))
    >>> p.shape, (p[2, 2] * 10).round().tolist(), (p[0, 7] * 10).round().tolist()
    ((8, 8, 3), [10.0, 9.0, 0.0], [9.0, 1.0, 1.0])
    """
    out = to_rgb(image).copy()
    if truth is not None:
        objects = np.asarray(truth) >= 2
        out[objects] = 0.65 * out[objects] + 0.35 * np.asarray(TINT, np.float32)
        edges = find_boundaries(np.where(objects, truth, 0), mode="thick")
        out[edges] = OUTLINE
    if dot is not None:
        radius = max(3, min(out.shape[:2]) // 40)
        for r, colour in ((radius + 2, (1.0, 1.0, 1.0)), (radius, DOT)):
            rr, cc = skdraw.disk((dot[0], dot[1]), r, shape=out.shape[:2])
            out[rr, cc] = colour
    return out


def with_grid(image: np.ndarray, *, spacing: int = 24) -> np.ndarray:
    """An RGB copy with thin blue lines every ``spacing`` pixels, to see how a warp
    bends straight lines.

    Examples
    --------
    >>> with_grid(np.zeros((5, 5, 1), np.float32), spacing=4)[0, 2].tolist()
    [0.20000000298023224, 0.6000000238418579, 1.0]
    """
    out = to_rgb(image).copy()
    out[::spacing] = GRID
    out[:, ::spacing] = GRID
    return out


def farthest_object_pixel(truth: np.ndarray | None, shape: tuple[int, int]) -> tuple[int, int]:
    """The object pixel (truth ``2..``) farthest from the image's centre, outside a
    band along the two centre lines (so its quarter of the image is clear); without
    any, a pixel a quarter of the way in from the top left corner.

    Examples
    --------
    >>> truth = np.ones((20, 20), int); truth[15:18, 2:5] = 2
    >>> farthest_object_pixel(truth, (20, 20))
    (17, 2)
    """
    h, w = shape
    rows, cols = np.mgrid[:h, :w]
    band = (np.abs(rows - (h - 1) / 2) < h / 10) | (np.abs(cols - (w - 1) / 2) < w / 10)
    if truth is not None:
        candidates = (np.asarray(truth) >= 2) & ~band
        if candidates.any():
            far = np.where(candidates, (rows - (h - 1) / 2) ** 2 + (cols - (w - 1) / 2) ** 2, -1)
            r, c = np.unravel_index(int(np.argmax(far)), far.shape)
            return int(r), int(c)
    return h // 4, w // 4


def where_it_goes(params: augment.Augment, shape: tuple[int, int],
                  pixel: tuple[float, float], *, size=None) -> tuple[float, float]:
    """Where the source ``pixel`` ``(row, col)`` of an image of ``shape`` lands in the
    output (of ``size``, the source's by default): the affine map of
    :func:`segcore.nn.augment.matrix` solved backwards.

    Examples
    --------
    >>> where_it_goes(augment.Augment(angle=90), (5, 5), (0, 0))  # top left -> bottom left
    (4.0, 0.0)
    """
    m = augment.matrix(params, shape, size)
    x, y = np.linalg.solve(m[:, :2], np.array([pixel[1], pixel[0]], float) - m[:, 2])
    return float(np.round(y, 9)) + 0.0, float(np.round(x, 9)) + 0.0


def quadrant(pixel: tuple[float, float], shape: tuple[int, int]) -> str:
    """Which quarter of an image of ``shape`` a ``(row, col)`` lies in, in words.

    Examples
    --------
    >>> quadrant((9, 1), (10, 10))
    'bottom left'
    """
    h, w = shape
    return QUADRANTS[(pixel[0] > (h - 1) / 2, pixel[1] > (w - 1) / 2)]


def _number(v: float, digits: int = 2) -> str:
    v = round(float(v), digits)
    return f"{v + 0.0:.{digits}f}"


def matrix_latex(params: augment.Augment, shape: tuple[int, int], *,
                 size=None) -> list[str]:
    """The affine map as two LaTeX lines with the current numbers: the ``2 x 3``
    matrix from output pixel (output of ``size``) to source pixel, and its linear part
    taken apart into scale, turn, shear and flips.

    Examples
    --------
    >>> "-1.00 & 0.00 & 5.00" in matrix_latex(augment.Augment(flip_h=True), (4, 6))[0]
    True
    """
    m = augment.matrix(params, shape, size)
    rows = r"\\ ".join(" & ".join(_number(v) for v in row) for row in m)
    first = (r"\begin{pmatrix}x_s\\ y_s\end{pmatrix} = \begin{pmatrix}" + rows
             + r"\end{pmatrix}\begin{pmatrix}x\\ y\\ 1\end{pmatrix}")
    a = math.radians(params.angle)
    fx, fy = (-1 if params.flip_h else 1), (-1 if params.flip_v else 1)
    second = (rf"A = s\,R(\theta)\,S(\varphi)\,F = {_number(params.scale)}"
              rf"\begin{{pmatrix}}{_number(math.cos(a))} & {_number(-math.sin(a))}\\ "
              rf"{_number(math.sin(a))} & {_number(math.cos(a))}\end{{pmatrix}}"
              rf"\begin{{pmatrix}}1 & {_number(math.tan(math.radians(params.shear)))}\\ 0 & 1"
              rf"\end{{pmatrix}}\begin{{pmatrix}}{fx} & 0\\ 0 & {fy}\end{{pmatrix}},"
              rf"\quad \theta = {params.angle:g}^\circ,\ \varphi = {params.shear:g}^\circ")
    return [first, second]


def object_share(truth: np.ndarray | None) -> float:
    """The fraction of pixels that belong to an object (truth ``2..``); ``nan``
    without a truth.

    Examples
    --------
    >>> object_share(np.array([[1, 2], [2, 2]]))
    0.75
    """
    return float("nan") if truth is None else float((np.asarray(truth) >= 2).mean())


def photometric_numbers(image: np.ndarray, params: augment.Augment, *,
                        relit: np.ndarray | None = None) -> dict:
    """What brightness and contrast do to an image: its mean before and after, the
    fraction of values pushed below 0 or above 1 (which the clip then cuts off), and
    the fraction of pixels whose value changes by half a gray level (of 255) or more.
    ``relit`` is the image already warped by ``params``, if at hand.

    Examples
    --------
    >>> img = np.full((4, 4, 1), 0.5, np.float32); img[0] = 0.9
    >>> n = photometric_numbers(img, augment.Augment(contrast=2.0, brightness=0.2))
    >>> round(n["mean"], 3), round(n["mean_after"], 3), n["clipped"], n["changed"]
    (0.6, 0.7, 0.25, 1.0)
    """
    out = warp(image, None, params)[0] if relit is None else relit
    mean = float(np.mean(image, dtype=np.float64))
    raw = (np.asarray(image, np.float64) - mean) * params.contrast + mean + params.brightness
    return {"mean": mean, "mean_after": float(out.mean()),
            "clipped": float(((raw < -1e-6) | (raw > 1 + 1e-6)).mean()),
            "changed": float((np.abs(out - image) > 0.5 / 255).any(axis=2).mean())}


def count_slices(text: str) -> int:
    """How many images a model card's split names: ``"slices 0-22"`` is 23,
    ``"horse209-228"`` 20, ``"slices 0-2, 5"`` 4.

    Examples
    --------
    >>> count_slices("slices 0-2, 5-6, 9"), count_slices("horse001-208")
    (6, 208)
    """
    total = 0
    for first, last in re.findall(r"(\d+)(?:-(\d+))?", text):
        total += int(last or first) - int(first) + 1
    return total


def shipped_card(name: str) -> dict:
    """A shipped model's card (``"membrane"`` or ``"horse"``), as a dict.

    Examples
    --------
    >>> shipped_card("membrane")["training"]["crop"]
    256
    """
    import json

    from segcore.nn.models import model_file

    return json.loads(model_file(name, ".json").read_text())


def card_facts(card: dict) -> dict:
    """What a model card records about how many images trained the model and how many
    augmented crops it saw: ``train``, ``val`` (images), ``iterations``, ``batch``,
    ``crops`` (iterations x batch), ``per_image`` and the :class:`Recipe`.

    Examples
    --------
    >>> card = {"training": {"split": {"train": "slices 0-22", "val (model selection)":
    ...         "slices 23-24"}, "iterations": 6000, "batch": 4, "crop": 256,
    ...         "augmentation": augment.Recipe(256).describe()}}
    >>> f = card_facts(card); f["train"], f["crops"], round(f["per_image"])
    (23, 24000, 1043)
    """
    training = card["training"]
    split = training["split"]
    val = next((v for k, v in split.items() if k.startswith("val")), "")
    crops = int(training["iterations"]) * int(training["batch"])
    train = count_slices(split["train"])
    return {"train": train, "val": count_slices(val) if "none" not in val else 0,
            "iterations": int(training["iterations"]), "batch": int(training["batch"]),
            "crops": crops, "per_image": crops / train,
            "recipe": augment.Recipe.from_card(card)}


def upright_share(recipe: augment.Recipe, *, n: int, rng: int = 0) -> int:
    """Of ``n`` augmentations drawn as training draws them, how many show the image the
    right way round: no quarter turn (only the small angle) and not mirrored.

    Examples
    --------
    >>> upright_share(augment.Recipe(64, angle=10), n=800) in range(60, 140)
    True
    """
    gen = torch.Generator().manual_seed(rng)
    count = 0
    for _ in range(n):
        p = augment.draw((recipe.size, recipe.size), recipe, gen)
        count += round(p.angle / 90) % 4 == 0 and not p.flip_h
    return count


def training_crops(image: np.ndarray, truth: np.ndarray | None, recipe: augment.Recipe, *,
                   n: int, rng: int = 0, max_side: int | None = None):
    """``n`` crops of one image drawn as a training batch draws them
    (:func:`segcore.nn.augment.sample_batch` with ``recipe``): ``(n, S, S, C)`` images
    and ``(n, S, S)`` truths (``None`` without a truth). With ``max_side``, the image is
    first resized so its longer side is that long, as the horse training does.

    Examples
    --------
    >>> from segcore import synthetic
    >>> s = synthetic.blobs((80, 80))
    >>> crops, truths = training_crops(s.image, s.truth, augment.Recipe(32, angle=10), n=3)
    >>> crops.shape, truths.shape
    ((3, 32, 32, 1), (3, 32, 32))
    """
    if max_side is not None and max(image.shape[:2]) != max_side:
        factor = max_side / max(image.shape[:2])
        shape = tuple(max(1, round(v * factor)) for v in image.shape[:2])
        image = transform.resize(image, shape, anti_aliasing=factor < 1).astype(np.float32)
        truth = None if truth is None else sio.resize_labels(truth, shape)
    mask = np.zeros(image.shape[:2], np.int64) if truth is None else np.asarray(truth, np.int64)
    x, y = augment.sample_batch([(image_tensor(image), torch.from_numpy(mask))], recipe,
                                torch.Generator().manual_seed(rng), batch=n)
    return (x.permute(0, 2, 3, 1).numpy(),
            None if truth is None else y.numpy().astype(np.int32))


def montage(crops: np.ndarray, truths: np.ndarray | None, *, columns: int = 4,
            gap: int = 4) -> np.ndarray:
    """Crops side by side in rows of ``columns``, each with its mask drawn over it
    (:func:`mask_picture`), on a white background.

    Examples
    --------
    >>> montage(np.zeros((5, 8, 8, 1), np.float32), None, columns=3, gap=2).shape
    (18, 28, 3)
    """
    n, s = crops.shape[0], crops.shape[1]
    rows = math.ceil(n / columns)
    out = np.ones((rows * s + (rows - 1) * gap, columns * s + (columns - 1) * gap, 3),
                  np.float32)
    for k in range(n):
        r, c = divmod(k, columns)
        picture = mask_picture(crops[k], None if truths is None else truths[k])
        out[r * (s + gap):r * (s + gap) + s, c * (s + gap):c * (s + gap) + s] = picture
    return out
