"""Data augmentation for segmentation: one sampling grid moves an image and its mask
together.

The U-Net training (``models/train.py``) and the augmentation lesson use this module and
nothing else for their augmentation. An :class:`Augment` holds one augmentation's
parameters, all explicit; :func:`draw` samples them from a ``torch.Generator`` the way
training does, within the ranges of a :class:`Recipe`; :func:`apply` warps an image and
its mask with the same grid and changes the image's brightness and contrast.

Geometry is a backward map. Output pixel ``p`` (``(x, y)``, x to the right, y down, in
pixels from the output's centre) shows the source at::

    q = c + s R(angle) Sh(shear) F (p - shift) + d(p)

``F`` flips (``diag(±1, ±1)``), ``Sh = [[1, tan(shear)], [0, 1]]``, ``R`` turns, ``s`` is
the scale (source pixels per output pixel), ``c`` the source point at the output's
centre and ``d`` the elastic displacement: a coarse grid of offsets interpolated
bicubically. Seen forward, the content turns counter-clockwise by ``angle``. One
``grid_sample`` per image resamples it bilinearly at ``q``, reflecting beyond the
source's edges; the mask is resampled at the very same points (each class's share of a
pixel, bilinearly), so it follows its image exactly.

>>> import torch
>>> image = torch.zeros(1, 8, 8); image[:, :2, :] = 1       # the top two rows bright
>>> mask = (image[0] > 0.5).long()
>>> out, turned = apply(image, mask, Augment(angle=90))    # a quarter turn, to the left
>>> turned[:, :2].float().mean().item(), turned[:, 2:].sum().item()
(1.0, 0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch.nn import functional as F

__all__ = ["Augment", "Recipe", "elastic_offsets", "draw", "draw_photometric", "matrix",
           "displacement", "apply", "adjust", "sample_crops", "sample_batch"]

#: Cosine and sine of the quarter turns, exact: a turn by a multiple of 90 degrees with
#: scale 1 and no elastic displacement lands on pixel centres (it copies pixels).
_QUARTERS = {0: (1.0, 0.0), 1: (0.0, 1.0), 2: (-1.0, 0.0), 3: (0.0, -1.0)}


@dataclass(frozen=True)
class Augment:
    """One augmentation, every parameter explicit (the defaults change nothing).

    Attributes
    ----------
    centre : (float, float) or None
        ``(y, x)``: the source point, in pixels (pixel centres at whole numbers), that
        the output's centre shows; ``None``: the source's centre. Training's random crop
        position.
    shift : (float, float)
        ``(dy, dx)``: how far the content moves, in output pixels.
    angle : float
        Degrees the content turns, counter-clockwise.
    shear : float
        Degrees of horizontal shear: a row ``y`` pixels below the centre slides
        ``y tan(shear)`` pixels to the left.
    scale : float
        Source pixels per output pixel: above 1 shows more of the source, smaller
        (zooms out); below 1 zooms in.
    flip_h, flip_v : bool
        Mirror left-right, top-bottom (before the turn). Training flips left-right
        only: with the quarter turns that gives all eight orientations.
    elastic : tuple or None
        ``(2, G, G)`` nested tuples: the coarse grid of displacements (x, then y), in
        source pixels, spread over the output and interpolated bicubically.
    contrast, brightness : float
        ``(v - mean) * contrast + mean + brightness``, clipped to ``[0, 1]``; the image's
        mean over all its pixels and channels. The mask does not change.

    Examples
    --------
    >>> Augment(angle=90, flip_h=True).is_identity(), Augment().is_identity()
    (False, True)
    """

    centre: tuple[float, float] | None = None
    shift: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    shear: float = 0.0
    scale: float = 1.0
    flip_h: bool = False
    flip_v: bool = False
    elastic: tuple | None = field(default=None, repr=False)
    contrast: float = 1.0
    brightness: float = 0.0

    def __post_init__(self):
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a positive number, got {self.scale}")
        if not -89 <= self.shear <= 89:
            raise ValueError(f"shear must be within -89 to 89 degrees, got {self.shear}")
        if self.contrast < 0:
            raise ValueError(f"contrast must be 0 or more, got {self.contrast}")
        if self.elastic is not None:
            shape = np.shape(self.elastic)
            if len(shape) != 3 or shape[0] != 2 or min(shape[1:]) < 2:
                raise ValueError(f"elastic must be (2, G, G) offsets with G >= 2, got shape "
                                 f"{shape}")

    def is_identity(self) -> bool:
        """Whether it leaves a centred image as it is.

        Examples
        --------
        >>> Augment(shift=(0, 3)).is_identity()
        False
        """
        return (self.centre is None and not any(self.shift) and self.angle % 360 == 0
                and not self.shear and self.scale == 1 and not self.flip_h
                and not self.flip_v and not np.any(self.elastic)
                and self.contrast == 1 and not self.brightness)


@dataclass(frozen=True)
class Recipe:
    """The ranges training draws an :class:`Augment` from (see :func:`draw`).

    Attributes
    ----------
    size : int
        Side of the square crop, in pixels.
    scale : (float, float)
        Lowest and highest scale, drawn evenly in log scale.
    angle : float
        Degrees drawn evenly from ``[-angle, angle]``, on top of a random quarter turn.
    shear : float
        Degrees of shear drawn evenly from ``[-shear, shear]`` (0: none, and no draw).
    elastic : float
        Standard deviation, in pixels, of the coarse grid of elastic offsets.
    grid : int
        The coarse grid is ``grid x grid``.
    contrast : (float, float)
        Contrast drawn evenly from this range.
    brightness : float
        Brightness drawn evenly from ``[-brightness, brightness]``.
    exact : float
        The fraction of crops that only flip and turn by quarters, on pixel centres:
        not interpolated at all (no draw when 0).
    margin : int
        Pixels of context around the crop's central part; the centre is drawn so that
        the central part stays within the image where it fits.

    Examples
    --------
    >>> Recipe(size=64, angle=10.0).describe().split(", ")[:2]
    ['flips', '90-degree + up to 10-degree rotations']
    """

    size: int
    scale: tuple[float, float] = (1.0, 1.0)
    angle: float = 0.0
    shear: float = 0.0
    elastic: float = 0.0
    grid: int = 3
    contrast: tuple[float, float] = (0.8, 1.25)
    brightness: float = 0.1
    exact: float = 0.0
    margin: int = 0

    def __post_init__(self):
        lo, hi = self.scale
        problems = [
            (self.size >= 1, f"size must be 1 or more, got {self.size}"),
            (0 < lo <= hi, f"scale must be (low, high) with 0 < low <= high, got {self.scale}"),
            (0 <= self.angle <= 180, f"angle must be 0 to 180 degrees, got {self.angle}"),
            (0 <= self.shear < 89, f"shear must be 0 to less than 89 degrees, got {self.shear}"),
            (self.elastic >= 0, f"elastic must be 0 or more, got {self.elastic}"),
            (self.grid >= 2, f"grid must be 2 or more, got {self.grid}"),
            (0 <= self.contrast[0] <= self.contrast[1],
             f"contrast must be (low, high) with 0 <= low <= high, got {self.contrast}"),
            (self.brightness >= 0, f"brightness must be 0 or more, got {self.brightness}"),
            (0 <= self.exact <= 1, f"exact must be a fraction from 0 to 1, got {self.exact}"),
            (0 <= self.margin < self.size / 2,
             f"margin must be 0 to less than half the {self.size} px crop, got {self.margin}"),
        ]
        for ok, message in problems:
            if not ok:
                raise ValueError(message)

    def describe(self) -> str:
        """The recipe in the words a model card records it with.

        Examples
        --------
        >>> print(Recipe(size=32, shear=5.0, margin=4).describe().split("; ")[1])
        loss on the central 24 px of each crop, the 4 px around it context ...
        """
        lo, hi = self.scale
        text = (f"flips, 90-degree + up to {self.angle:g}-degree rotations, "
                + (f"shear up to {self.shear:g} degrees, " if self.shear else "")
                + f"elastic ({self.grid}x{self.grid} grid, std {self.elastic:g} px), "
                f"scale {lo}-{hi}, brightness +-{self.brightness:g}, "
                f"contrast {self.contrast[0]:g}-{self.contrast[1]:g}")
        if self.exact:
            text += (f"; {self.exact:.0%} of crops exact (flip and quarter turn only, on "
                     f"pixel centres: no interpolation)")
        if self.margin:
            text += (f"; loss on the central {self.size - 2 * self.margin} px of each crop, "
                     f"the {self.margin} px around it context (mirrored beyond the image's "
                     f"edges, as inference does)")
        return text

    @classmethod
    def from_card(cls, card: dict) -> "Recipe":
        """The recipe a model card's training used, read from its ``training`` entry
        (``crop`` and the ``augmentation`` words :meth:`describe` writes).

        Raises ``ValueError`` when the card does not record one.

        Examples
        --------
        >>> card = {"training": {"crop": 64, "augmentation": Recipe(64, angle=5.0).describe()}}
        >>> Recipe.from_card(card).angle
        5.0
        """
        training = card.get("training") or {}
        text = training.get("augmentation")
        if not isinstance(text, str) or "crop" not in training:
            raise ValueError("the model card records no training augmentation (expected "
                             "training.crop and training.augmentation)")
        number = r"(\d+(?:\.\d+)?)"
        patterns = {
            "angle": rf"up to {number}-degree rotations",
            "grid_std": rf"elastic \((\d+)x\d+ grid, std {number} px\)",
            "scale": rf"scale {number}-{number}",
            "brightness": rf"brightness \+-{number}",
            "contrast": rf"contrast {number}-{number}",
        }
        found = {}
        for name, pattern in patterns.items():
            match = re.search(pattern, text)
            if match is None:
                raise ValueError(f"the model card's augmentation does not say its {name}: "
                                 f"{text!r}")
            found[name] = [float(v) for v in match.groups()]
        shear = re.search(rf"shear up to {number} degrees", text)
        exact = re.search(r"(\d+)% of crops exact", text)
        margin = re.search(r"the (\d+) px around it context", text)
        return cls(size=int(training["crop"]), scale=tuple(found["scale"]),
                   angle=found["angle"][0], shear=float(shear.group(1)) if shear else 0.0,
                   elastic=found["grid_std"][1], grid=int(found["grid_std"][0]),
                   contrast=tuple(found["contrast"]), brightness=found["brightness"][0],
                   exact=int(exact.group(1)) / 100 if exact else 0.0,
                   margin=int(margin.group(1)) if margin else 0)


def elastic_offsets(std: float, rng: torch.Generator, *, grid: int = 3) -> tuple:
    """A coarse ``(2, grid, grid)`` grid of random offsets (x, then y) with standard
    deviation ``std`` pixels, as :attr:`Augment.elastic` holds them.

    Examples
    --------
    >>> offsets = elastic_offsets(4.0, torch.Generator().manual_seed(0))
    >>> np.shape(offsets)
    (2, 3, 3)
    """
    return tuple(map(tuple, (torch.randn(2, grid, grid, generator=rng) * std).tolist()))


def _uniform(low: float, high: float, rng: torch.Generator) -> float:
    return float(torch.empty(1).uniform_(low, high, generator=rng))


def draw(shape: tuple[int, int], recipe: Recipe, rng: torch.Generator, *,
         photometric: bool = True) -> Augment:
    """One crop's augmentation for a source of ``shape`` ``(H, W)``, drawn from ``rng``
    as training draws it: scale, a quarter turn plus a small angle, shear (when the
    recipe has any), a left-right flip half the time, the elastic offsets, whether the
    crop is exact, the crop's centre; then, with ``photometric``, contrast and
    brightness. (A batch draws those for all its crops after the geometry:
    :func:`draw_photometric`.)

    Examples
    --------
    >>> rng = torch.Generator().manual_seed(0)
    >>> a = draw((100, 120), Recipe(size=64, scale=(0.9, 1.1), angle=10), rng)
    >>> 0.9 <= a.scale <= 1.1, a.flip_v, 0.8 <= a.contrast <= 1.25
    (True, False, True)
    """
    h, w = shape
    s, margin = recipe.size, recipe.margin
    lo, hi = recipe.scale
    scale = math.exp(_uniform(math.log(lo), math.log(hi), rng))
    angle = (int(torch.randint(4, (1,), generator=rng)) * 90
             + _uniform(-recipe.angle, recipe.angle, rng))
    # No draw without shear, so runs from before it existed repeat bit for bit.
    shear = _uniform(-recipe.shear, recipe.shear, rng) if recipe.shear else 0.0
    flip = float(torch.rand(1, generator=rng)) < 0.5
    elastic = elastic_offsets(recipe.elastic, rng, grid=recipe.grid)
    if not recipe.elastic:
        elastic = None
    # An exact crop (probability ``exact``) keeps only the flip and the turn by a multiple
    # of 90 degrees and lands on pixel centres: its image is not interpolated at all, as
    # at inference. (No draw when ``exact`` is 0.)
    exact = recipe.exact > 0 and float(torch.rand(1, generator=rng)) < recipe.exact
    if exact:
        angle, scale, shear, elastic = 90.0 * round(angle / 90), 1.0, 0.0, None
    # Centre anywhere in the image (half a crop, less its context, in from the edges
    # where it fits).
    half = (s / 2 - margin) * scale
    cy = _uniform(min(half, h / 2), max(h - half, h / 2), rng)
    cx = _uniform(min(half, w / 2), max(w - half, w / 2), rng)
    if exact:
        # Offsets from the centre are whole for odd crops and halves for even ones: snap
        # the centre down to the same phase, so the crop lands on pixel centres.
        phase = (s - 1) / 2 % 1
        cy, cx = math.floor(cy - phase) + phase, math.floor(cx - phase) + phase
    params = Augment(centre=(cy, cx), angle=angle, shear=shear, scale=scale, flip_h=flip,
                     elastic=elastic)
    if photometric:
        contrast, brightness = draw_photometric(1, recipe, rng)
        params = replace(params, contrast=float(contrast[0]), brightness=float(brightness[0]))
    return params


def draw_photometric(n: int, recipe: Recipe, rng: torch.Generator):
    """Contrast and brightness for ``n`` crops, drawn as a training batch draws them:
    all contrasts, then all brightnesses. Returns two ``(n,)`` float32 tensors.

    Examples
    --------
    >>> contrast, brightness = draw_photometric(4, Recipe(size=8), torch.Generator())
    >>> contrast.shape, bool((brightness.abs() <= 0.1).all())
    (torch.Size([4]), True)
    """
    contrast = torch.empty(n).uniform_(*recipe.contrast, generator=rng)
    brightness = torch.empty(n).uniform_(-recipe.brightness, recipe.brightness, generator=rng)
    return contrast, brightness


def _turn(params: Augment, x, y):
    """``s R Sh F (x, y)``: the linear part of the map, on offsets (tensors or floats)."""
    # Each step is skipped when it changes nothing, and the arithmetic keeps the order
    # training has always used, so crops repeat bit for bit.
    if params.flip_h:
        x = x * -1.0
    if params.flip_v:
        y = y * -1.0
    if params.shear:
        x = x + math.tan(math.radians(params.shear)) * y
    quarter = params.angle / 90
    if quarter == round(quarter):
        cos, sin = _QUARTERS[round(quarter) % 4]
    else:
        theta = math.radians(params.angle)
        cos, sin = math.cos(theta), math.sin(theta)
    s = params.scale
    return s * (cos * x - sin * y), s * (sin * x + cos * y)


def _size(size, shape) -> tuple[int, int]:
    if size is None:
        return tuple(shape)
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    return int(size[0]), int(size[1])


def matrix(params: Augment, shape: tuple[int, int], size=None) -> np.ndarray:
    """The affine part of the map as a ``(2, 3)`` matrix ``M``: output pixel
    ``(x, y, 1)`` (column, row; pixel centres at whole numbers) to the source point
    ``(x, y)`` it shows, for a source of ``shape`` ``(H, W)`` and an output of ``size``
    (the source's shape when ``None``). The elastic displacement comes on top.

    Examples
    --------
    >>> matrix(Augment(flip_h=True), (4, 6)).tolist()
    [[-1.0, 0.0, 5.0], [0.0, 1.0, 0.0]]
    """
    h, w = shape
    oh, ow = _size(size, shape)
    cy, cx = params.centre if params.centre is not None else ((h - 1) / 2, (w - 1) / 2)
    a, c = _turn(params, 1.0, 0.0)
    b, d = _turn(params, 0.0, 1.0)
    linear = np.array([[a, b], [c, d]], float)
    out_centre = np.array([(ow - 1) / 2 + params.shift[1], (oh - 1) / 2 + params.shift[0]])
    return np.column_stack([linear, np.array([cx, cy]) - linear @ out_centre])


def displacement(params: Augment, size: tuple[int, int]) -> torch.Tensor:
    """The elastic displacement at every output pixel, ``(2, h, w)`` float32 (x, then y,
    in source pixels): the coarse offsets spread over the output's ``size`` (their
    corners on its corner pixels) and interpolated bicubically; zeros without any.

    Examples
    --------
    >>> offsets = (((1.0, 1.0), (1.0, 1.0)), ((0.0, 0.0), (0.0, 2.0)))
    >>> d = displacement(Augment(elastic=offsets), (3, 3))
    >>> d[0].unique().tolist(), d[1, 2, 2].item(), d[1, 1, 1].item()
    ([1.0], 2.0, 0.5)
    """
    oh, ow = size
    if params.elastic is None:
        return torch.zeros(2, oh, ow)
    coarse = torch.tensor(params.elastic, dtype=torch.float32)
    return F.interpolate(coarse[None], size=(oh, ow), mode="bicubic", align_corners=True)[0]


def _grid(params: Augment, shape: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """``grid_sample``'s grid: where each output pixel samples the source."""
    h, w = shape
    oh, ow = size
    # Pixel offsets of the output, centred on 0.
    if oh == ow:
        lin = torch.arange(oh, dtype=torch.float32) - (oh - 1) / 2
        gy, gx = torch.meshgrid(lin, lin, indexing="ij")
    else:
        gy, gx = torch.meshgrid(torch.arange(oh, dtype=torch.float32) - (oh - 1) / 2,
                                torch.arange(ow, dtype=torch.float32) - (ow - 1) / 2,
                                indexing="ij")
    dy, dx = params.shift
    if dy or dx:
        gy, gx = gy - dy, gx - dx
    u, v = _turn(params, gx, gy)
    if params.elastic is not None:
        disp = displacement(params, (oh, ow))
        u = u + disp[0]
        v = v + disp[1]
    cy, cx = params.centre if params.centre is not None else ((h - 1) / 2, (w - 1) / 2)
    # Pixel coordinates -> grid_sample's [-1, 1] (align_corners=False convention).
    return torch.stack([(cx + u + 0.5) / w * 2 - 1, (cy + v + 0.5) / h * 2 - 1], dim=-1)[None]


def _sample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(x[None], grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)[0]


def adjust(image: torch.Tensor, *, contrast, brightness) -> torch.Tensor:
    """Contrast and brightness around the image's mean: ``(v - mean) * contrast + mean
    + brightness``, clipped to ``[0, 1]``. ``image`` is ``(C, H, W)``, or ``(N, C, H,
    W)`` with ``(N, 1, 1, 1)`` tensors of contrast and brightness; the mean is each
    image's, over its pixels and channels.

    Examples
    --------
    >>> adjust(torch.tensor([[[0.2, 0.6]]]), contrast=2.0, brightness=0.1).flatten().tolist()
    [0.1..., 0.9...]
    """
    mean = image.mean(dim=(-3, -2, -1), keepdim=True)
    return ((image - mean) * contrast + mean + brightness).clamp(0, 1)


def apply(image: torch.Tensor, mask: torch.Tensor | None, params: Augment, *, size=None,
          label_offset=None, keep_offset=None, soft: bool = False):
    """Warp ``image`` and its ``mask`` with one grid, then adjust the image's contrast
    and brightness.

    Parameters
    ----------
    image : (C, H, W) float32 tensor in [0, 1]
    mask : (H, W) tensor or None
        Class ids ``0..K-1`` (int), or the share of class 1 in each pixel (float in
        ``[0, 1]``). Every class's share is resampled at the image's points; a pixel
        takes the class with the largest share (for two classes: class 1 above half).
    params : Augment
    size : int or (int, int), optional
        The output's ``(height, width)`` (an int: a square); the source's by default.
    label_offset : (float, float), optional
        ``(dy, dx)``: the mask at ``p`` shows the image at ``p + (dy, dx)`` (labels
        drawn a fraction of a pixel off). Flips and turns would turn that offset with
        the image; the mask is sampled so the output keeps ``keep_offset`` instead
        (``label_offset`` by default), whatever the turn.
    soft : bool
        Return the share of class 1 (two classes only) instead of class ids.

    Returns
    -------
    image : (C, h, w) float32 tensor
    mask : (h, w) int64 tensor, float32 with ``soft``, or None

    Examples
    --------
    >>> image = torch.rand(3, 10, 12); mask = (image[0] > 0.5).long()
    >>> out, moved = apply(image, mask, Augment(flip_h=True), size=(6, 6))
    >>> out.shape, moved.dtype
    (torch.Size([3, 6, 6]), torch.int64)
    """
    if image.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {tuple(image.shape)}")
    h, w = image.shape[-2:]
    if mask is not None and tuple(mask.shape) != (h, w):
        raise ValueError(f"mask must be ({h}, {w}) like the image, got {tuple(mask.shape)}")
    size = _size(size, (h, w))
    grid = _grid(params, (h, w), size)
    out = _sample(image, grid)
    if params.contrast != 1 or params.brightness:
        out = adjust(out, contrast=params.contrast, brightness=params.brightness)
    if mask is None:
        return out, None
    dy, dx = map(float, keep_offset if keep_offset is not None
                 else label_offset if label_offset is not None else (0.0, 0.0))
    ly, lx = map(float, label_offset if label_offset is not None else (dy, dx))
    if dy or dx or ly or lx:
        # The labels sit (ly, lx) pixels off the image. Moving them with the image would
        # flip or turn that offset with it; sampling them A (dy, dx) - (ly, lx) further
        # keeps (dy, dx) in every output, so the targets agree.
        ox, oy = _turn(params, dx, dy)
        grid = grid + torch.tensor([(ox - lx) / w * 2, (oy - ly) / h * 2])
    if mask.is_floating_point() or int(mask.max()) <= 1:
        if not mask.is_floating_point() and int(mask.min()) < 0:
            raise ValueError("mask class ids must be 0 or more")
        t = _sample(mask[None].float(), grid)[0]
        # Soft targets keep the fraction of class 1 the resampled pixel covers.
        return out, (t.clamp(0, 1) if soft else (t > 0.5).long())
    if soft:
        raise ValueError(f"soft masks need two classes (0 and 1), got ids up to "
                         f"{int(mask.max())}")
    if int(mask.min()) < 0:
        raise ValueError("mask class ids must be 0 or more")
    ids = torch.arange(1, int(mask.max()) + 1)
    shares = _sample((mask[None] == ids[:, None, None]).float(), grid)
    return out, torch.cat([1 - shares.sum(dim=0, keepdim=True), shares]).argmax(dim=0)


def sample_crops(pairs, recipe: Recipe, rng: torch.Generator, *, batch: int,
                 label_offset=None, pair_offsets=None, soft: bool = False):
    """Geometrically augmented crops: ``(N, C, S, S)`` images and ``(N, S - 2m, S - 2m)``
    targets (``m`` the recipe's margin), as the U-Net training makes them.

    Each crop picks one of ``pairs`` (``(image (C, H, W), target (H, W))``) at random,
    draws its geometry with :func:`draw` and warps both with :func:`apply`. Targets are
    int64 class ids, or with ``soft`` the float share of class 1. ``label_offset`` is
    where the labels sit against their images (``(dy, dx)`` pixels); with
    ``pair_offsets`` (one per pair), each pair's labels are moved from their own offset
    to ``label_offset``, so annotations drawn a little differently per image agree.
    With a margin ``m`` the targets cover only the central ``S - 2m`` pixels, which may
    reach the image's edges: the ``m`` pixels around them are context, mirrored beyond
    the edges, as inference gives it.

    Examples
    --------
    >>> pairs = [(torch.rand(1, 40, 50), torch.randint(2, (40, 50)))]
    >>> x, y = sample_crops(pairs, Recipe(size=16, margin=2), torch.Generator(), batch=3)
    >>> tuple(x.shape), tuple(y.shape)
    ((3, 1, 16, 16), (3, 12, 12))
    """
    s, margin = recipe.size, recipe.margin
    images, targets = [], []
    for _ in range(batch):
        idx = int(torch.randint(len(pairs), (1,), generator=rng))
        img, tgt = pairs[idx]
        params = draw(tuple(img.shape[-2:]), recipe, rng, photometric=False)
        common = label_offset or (0.0, 0.0)
        own = pair_offsets[idx] if pair_offsets is not None else common
        out, t = apply(img, tgt, params, size=s, label_offset=own, keep_offset=common,
                       soft=soft)
        images.append(out)
        targets.append(t[margin:s - margin, margin:s - margin])
    return torch.stack(images), torch.stack(targets)


def sample_batch(pairs, recipe: Recipe, rng: torch.Generator, *, batch: int, **crops):
    """A training batch: the crops of :func:`sample_crops` (``crops`` are its keyword
    arguments), then each crop's contrast and brightness (:func:`adjust`), drawn after
    all the geometry (:func:`draw_photometric`).

    Examples
    --------
    >>> pairs = [(torch.rand(3, 30, 30), torch.randint(2, (30, 30)))]
    >>> x, y = sample_batch(pairs, Recipe(size=8), torch.Generator(), batch=2)
    >>> tuple(x.shape), float(x.min()) >= 0
    ((2, 3, 8, 8), True)
    """
    x, targets = sample_crops(pairs, recipe, rng, batch=batch, **crops)
    n = x.shape[0]
    contrast, brightness = draw_photometric(n, recipe, rng)
    return adjust(x, contrast=contrast.view(n, 1, 1, 1),
                  brightness=brightness.view(n, 1, 1, 1)), targets
