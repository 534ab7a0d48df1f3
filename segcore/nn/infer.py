"""Load U-Net checkpoints safely and predict on images of any size.

A model is a checkpoint (``.pt``) plus its card: the architecture, class names, input
normalisation and scale. The card is either a JSON file beside the checkpoint (same stem)
or embedded in the checkpoint as ``{"config": card, "state_dict": weights}``. Inference
reads everything from the card; nothing about a model is hard-coded here.

Checkpoints are read with ``torch.load(..., weights_only=True)``, which only rebuilds
tensors and plain containers: a file that would run code when unpickled is refused with a
``ValueError`` before anything in it runs.

The shipped models (``membrane``, ``horse``) are package data in :mod:`segcore.nn.models`,
found with :mod:`importlib.resources` wherever segcore is installed; the environment
variable ``SEGLAB_MODELS`` points elsewhere.
"""

from __future__ import annotations

import json
import math
import pickle
import re
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

# The light module, not segcore.methods.unet, which registers methods on import.
from segcore.color import to_gray
from segcore.nn.models import BUILTIN_MODELS, model_file, models_dir
from segcore.nn.unet import UNet, UNetConfig

__all__ = [
    "BUILTIN_MODELS",
    "ModelCard",
    "models_dir",
    "read_card",
    "load_checkpoint",
    "load_model",
    "adapt_channels",
    "image_tensor",
    "predict",
]

# Tiles for checkpoints whose card does not say: big enough to amortise the padding,
# small enough to keep memory flat on large images.
DEFAULT_TILE = 512
DEFAULT_OVERLAP = 32


@dataclass(frozen=True)
class ModelCard:
    """What inference needs to know about a checkpoint.

    Attributes
    ----------
    config : UNetConfig
        The architecture.
    classes : tuple of str
        Class names; class ``k`` (0-based channel) becomes label ``k + 1``.
    mean, std : tuple of float
        Per input channel; the network sees ``(x - mean) / std`` for ``x`` in [0, 1].
    max_side : int or None
        Resize the image so its longer side has this many pixels before predicting
        (the scale the model was trained at), and the result back; ``None`` keeps the size.
    tile, overlap : int
        Images larger than ``tile`` pixels are predicted in tiles overlapping by at
        least ``overlap`` pixels.
    mirror : int
        Extend the image by this many mirrored pixels on every side before predicting
        (the U-Net paper's overlap-tile strategy), for a model trained to see mirrored
        context at image borders; 0 leaves the borders to the network's zero padding.
    raw : dict
        The whole card as read (training details, metrics).

    Examples
    --------
    >>> card = load_model("membrane")[1]
    >>> card.classes, card.config.in_channels
    (('membrane', 'cell'), 1)
    """

    config: UNetConfig
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    max_side: int | None = None
    tile: int = DEFAULT_TILE
    overlap: int = DEFAULT_OVERLAP
    mirror: int = 0
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def read_card(data: dict) -> ModelCard:
    """Parse a model card dict.

    A full card has ``architecture`` (the :class:`UNetConfig` fields), ``classes`` and
    ``input`` (``mean``, ``std``, optional ``max_side``) and optionally ``inference``
    (``tile``, ``overlap``, ``mirror``). A bare architecture dict is accepted too; its classes are then
    named ``class 1..K`` and the input is used as is (mean 0, std 1).

    Examples
    --------
    >>> card = read_card({"in_channels": 3, "n_classes": 2, "depth": 2, "base": 4})
    >>> card.classes, card.mean, card.max_side
    (('class 1', 'class 2'), (0.0, 0.0, 0.0), None)
    """
    if not isinstance(data, dict):
        raise ValueError(f"model card must be a dict, got {type(data).__name__}")
    arch = data.get("architecture")
    if arch is None:
        arch = {k: v for k, v in data.items() if k in UNetConfig.__dataclass_fields__}
        if not arch:
            raise ValueError(
                "model card has no 'architecture' (expected keys like in_channels, n_classes, "
                f"depth, base, up, skips); got keys {sorted(data)}"
            )
    config = UNetConfig.from_dict(dict(arch))
    k, c = config.n_classes, config.in_channels
    classes = tuple(str(x) for x in data.get("classes", [f"class {i + 1}" for i in range(k)]))
    if len(classes) != k:
        raise ValueError(f"model card names {len(classes)} classes but the network has {k}")
    inp = data.get("input", {})
    mean = tuple(float(x) for x in inp.get("mean", [0.0] * c))
    std = tuple(float(x) for x in inp.get("std", [1.0] * c))
    if len(mean) != c or len(std) != c:
        raise ValueError(
            f"model card input mean/std must have {c} values (one per input channel), "
            f"got {len(mean)} and {len(std)}"
        )
    if any(s <= 0 for s in std):
        raise ValueError(f"model card input std must be positive, got {std}")
    max_side = inp.get("max_side")
    inf = data.get("inference", {})
    tile = int(inf.get("tile", DEFAULT_TILE))
    overlap = int(inf.get("overlap", DEFAULT_OVERLAP))
    if tile < 2**config.depth or not (0 <= overlap < tile // 2):
        raise ValueError(f"model card inference tile {tile} / overlap {overlap} do not fit")
    mirror = int(inf.get("mirror", 0))
    if mirror < 0:
        raise ValueError(f"model card inference mirror must be 0 or more pixels, got {mirror}")
    return ModelCard(config=config, classes=classes, mean=mean, std=std,
                     max_side=None if max_side is None else int(max_side),
                     tile=tile, overlap=overlap, mirror=mirror, raw=dict(data))


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint file without running any code from it.

    Returns what the file holds: a state dict, or ``{"config": ..., "state_dict": ...}``.
    Raises ``ValueError`` for a file that is no PyTorch checkpoint or that holds Python
    objects other than tensors and plain containers (which could run code on loading).

    Examples
    --------
    >>> state = load_checkpoint(models_dir() / "membrane.pt")
    >>> any(key.endswith(".weight") for key in state)
    True
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError(f"checkpoint file {str(path)!r} does not exist") from None
    if size > MAX_CHECKPOINT_BYTES:
        raise ValueError(
            f"{path.name!r} is {size / 2**20:.0f} MB; a U-Net checkpoint SegLab can run is at "
            f"most {MAX_CHECKPOINT_BYTES >> 20} MB (the shipped ones are under 2 MB)")
    try:
        with warnings.catch_warnings():
            # Plain pickles (not torch.save zips) trigger a protocol notice; the restricted
            # unpickler still guards them, and the notice would only confuse users.
            warnings.filterwarnings("ignore", message="Detected pickle protocol",
                                    category=UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"GLOBAL ([\w.]+)", str(err))
        what = f" (it calls {found.group(1)})" if found else ""
        raise ValueError(
            f"refused to load {path.name!r}: it is not a plain weights file but holds Python "
            f"objects{what} that could run code when loaded; only tensors, numbers, strings "
            "and dicts/lists of them are accepted"
        ) from None
    except FileNotFoundError:
        raise ValueError(f"checkpoint file {str(path)!r} does not exist") from None
    except Exception as err:  # zip, EOF, magic-number errors all mean "not a checkpoint"
        raise ValueError(
            f"could not read {path.name!r} as a PyTorch checkpoint: it is not one, or it is "
            f"damaged or cut short ({type(err).__name__}: {str(err)[:200]})"
        ) from None
    if not isinstance(obj, dict):
        raise ValueError(
            f"checkpoint {path.name!r} must hold a state dict, got {type(obj).__name__}"
        )
    return obj


def _fit_state_dict(net: UNet, state: dict, name: str) -> None:
    """Load ``state`` into ``net`` or say exactly what does not fit."""
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"checkpoint {name!r}: state dict entries must be tensors; {bad[:5]} are not")
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k!r} expected {tuple(v.shape)}, got {tuple(state[k].shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise ValueError(
            f"checkpoint {name!r} has weights that are not numbers (NaN or infinite) in "
            f"{broken[:3]}{' and more' if len(broken) > 3 else ''}: it was probably saved from a "
            "training run that diverged; use an earlier checkpoint")
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}"
                         + (f" ({len(missing)} in all)" if len(missing) > 5 else ""))
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}"
                         + (f" ({len(unexpected)} in all)" if len(unexpected) > 5 else ""))
        if shapes:
            parts.append("shape mismatch: " + "; ".join(shapes[:5]))
        cfg = ", ".join(f"{k}={v!r}" for k, v in net.config.to_dict().items())
        raise ValueError(
            f"checkpoint {name!r} does not fit the U-Net its card describes ({cfg}): "
            + "; ".join(parts)
        )
    net.load_state_dict(state)


def build_model(state: dict, card: ModelCard, *, name: str = "checkpoint") -> UNet:
    """A :class:`UNet` from ``card`` with the weights in ``state``, in eval mode.

    Examples
    --------
    >>> card = load_model("membrane")[1]
    >>> net = build_model(load_checkpoint(models_dir() / "membrane.pt"), card)
    >>> net.training
    False
    """
    with torch.device("meta"):  # count the card's weights before allocating any
        weights = sum(p.numel() for p in UNet(card.config).parameters())
    if weights > MAX_WEIGHTS:
        raise ValueError(
            f"checkpoint {name!r}: its card describes a U-Net of {weights:,} weights; SegLab runs "
            f"U-Nets of at most {MAX_WEIGHTS:,} (the shipped ones have under 500,000)")
    net = UNet(card.config)
    _fit_state_dict(net, state, name)
    return net.eval()


#: Largest checkpoint file read (bytes) and largest U-Net built (weights): a hostile
#: file or card must not exhaust the server's memory. The shipped models are far below.
MAX_CHECKPOINT_BYTES = 200 << 20
MAX_WEIGHTS = 50_000_000

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def _resolve(model: str | Path) -> tuple[Path, Path | None]:
    if isinstance(model, str) and model in BUILTIN_MODELS:
        return model_file(model, ".pt"), model_file(model, ".json")
    path = Path(model).expanduser()
    if not path.is_file():
        raise ValueError(
            f"model must be one of {', '.join(BUILTIN_MODELS)} or the path of a checkpoint file; "
            f"got {str(model)!r}"
        )
    card = path.with_suffix(".json")
    return path, card if card.is_file() else None


def load_model(model: str | Path) -> tuple[UNet, ModelCard]:
    """The network and card for a shipped model name or a checkpoint path.

    Loaded models are cached (keyed by path, size and modification time), so repeated
    calls do not read the file again.

    Parameters
    ----------
    model : str or Path
        ``"membrane"``, ``"horse"``, or the path of a ``.pt`` file with a card beside it
        (same stem, ``.json``) or embedded as ``{"config": card, "state_dict": weights}``.

    Returns
    -------
    net : UNet
        In eval mode. Shared between callers: do not modify it.
    card : ModelCard

    Raises
    ------
    ValueError
        Unknown name, unreadable or unsafe file, missing card, weights that do not fit.

    Examples
    --------
    >>> net, card = load_model("horse")
    >>> card.classes
    ('background', 'horse')
    """
    path, card_path = _resolve(model)
    if not path.is_file():
        raise ValueError(f"shipped model {str(model)!r} is missing: expected {path}")
    stat = path.stat()
    card_stat = card_path.stat().st_mtime_ns if card_path is not None else None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, card_stat)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    obj = load_checkpoint(path)
    if "state_dict" in obj and "config" in obj:
        if not isinstance(obj["state_dict"], dict):
            raise ValueError(f"checkpoint {path.name!r}: 'state_dict' must be a dict")
        card = read_card(obj["config"])
        state = obj["state_dict"]
    elif card_path is not None:
        try:
            card = read_card(json.loads(card_path.read_text()))
        except json.JSONDecodeError as err:
            raise ValueError(f"model card {card_path.name!r} is not valid JSON: {err}") from None
        state = obj
    else:
        raise ValueError(
            f"checkpoint {path.name!r} has no model card: expected {path.with_suffix('.json').name!r} "
            "beside it, or a checkpoint dict {'config': card, 'state_dict': weights}"
        )
    net = build_model(state, card, name=path.name)
    with _CACHE_LOCK:
        _CACHE[key] = (net, card)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return net, card


def adapt_channels(image: np.ndarray, in_channels: int) -> np.ndarray:
    """Make an ``(H, W, C)`` image have the channels a model takes.

    Gray to RGB replicates the channel; RGB to gray takes the luminance
    (ITU-R BT.709 weights, as :func:`skimage.color.rgb2gray`).

    Examples
    --------
    >>> adapt_channels(np.full((2, 2, 1), 0.5, np.float32), 3).shape
    (2, 2, 3)
    >>> float(adapt_channels(np.ones((2, 2, 3), np.float32), 1)[0, 0, 0])
    1.0
    """
    c = image.shape[2]
    if c == in_channels:
        return image
    if c == 1 and in_channels == 3:
        return np.repeat(image, 3, axis=2)
    if c == 3 and in_channels == 1:
        return to_gray(image)[:, :, None]
    raise ValueError(f"cannot adapt a {c}-channel image to a model taking {in_channels} channels")


def image_tensor(image: np.ndarray) -> torch.Tensor:
    """An ``(H, W, C)`` image as a ``(C, H, W)`` float32 tensor, sharing its memory
    where it can. A read-only array (the app shares its images and results that way)
    is copied, since torch can only wrap memory it may write.

    Examples
    --------
    >>> img = np.zeros((4, 5, 3), np.float32); img.flags.writeable = False
    >>> tuple(image_tensor(img).shape)
    (3, 4, 5)
    """
    return torch.from_numpy(np.require(np.asarray(image, np.float32).transpose(2, 0, 1),
                                       requirements=("C", "W")))


def _pad_amounts(size: int, multiple: int) -> tuple[int, int]:
    extra = -size % multiple
    return extra // 2, extra - extra // 2


def _forward_padded(net: UNet, x: torch.Tensor) -> torch.Tensor:
    """Logits for ``x (1, C, h, w)`` of any size: reflect-pad to a multiple of ``2**depth``."""
    multiple = 2**net.config.depth
    h, w = x.shape[-2:]
    top, bottom = _pad_amounts(h, multiple)
    left, right = _pad_amounts(w, multiple)
    if top or bottom or left or right:
        # Reflection needs the pad smaller than the side; tiny images fall back to replicate.
        mode = "reflect" if max(top, bottom) < h and max(left, right) < w else "replicate"
        x = F.pad(x, (left, right, top, bottom), mode=mode)
    logits = net(x)
    return logits[..., top:top + h, left:left + w]


def mirror_pad(x: torch.Tensor, margin: int) -> torch.Tensor:
    """Extend (..., H, W) by ``margin`` mirrored pixels per side (edge pixel repeated).

    This is the reflection ``grid_sample(padding_mode="reflection")`` uses in training, and
    numpy's ``"symmetric"`` mode; ``margin`` is cut to the image size.

    Examples
    --------
    >>> mirror_pad(torch.tensor([[1.0, 2.0, 3.0]]), 2).tolist()
    [[2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0], [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0], [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]]
    """
    for dim in (-2, -1):
        m = min(margin, x.shape[dim])
        if m:
            x = torch.cat([x.narrow(dim, 0, m).flip(dim), x,
                           x.narrow(dim, x.shape[dim] - m, m).flip(dim)], dim=dim)
    return x


def _tile_starts(length: int, tile: int, overlap: int, multiple: int) -> tuple[list[int], int]:
    """Evenly spread tile starts covering ``length``, and the tile length actually used.

    The tile count is the smallest that keeps every overlap at least ``overlap``; the
    tile is then shrunk (to a multiple of ``multiple``) so no pixel is predicted more often
    than it must be.
    """
    if length <= tile:
        return [0], length
    n = math.ceil((length - overlap) / (tile - overlap))
    size = min(tile, math.ceil((length + (n - 1) * overlap) / n / multiple) * multiple)
    starts = np.linspace(0, length - size, n).round().astype(int).tolist()
    return starts, size


def _window(size: int, overlap: int) -> torch.Tensor:
    """1-D blending weight: raised-cosine ramps of ``overlap`` pixels at both ends."""
    w = torch.ones(size)
    if overlap > 0:
        ramp = torch.sin(0.5 * math.pi * (torch.arange(overlap) + 0.5) / overlap) ** 2
        w[:overlap] = ramp
        w[-overlap:] = torch.minimum(w[-overlap:], ramp.flip(0))
    return w


@contextmanager
def _threads(n: int | None):
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def working_scale(x: torch.Tensor, card: ModelCard) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` resized to the scale the model works at: ``max_side``
    pixels on its longer side (bilinear, anti-aliased when shrinking), or as it is
    for a model without ``max_side``. What :func:`predict` feeds the network, and
    the lessons with it.

    Examples
    --------
    >>> card = load_model("horse")[1]
    >>> tuple(working_scale(torch.zeros(1, 3, 80, 400), card).shape)
    (1, 3, 32, 160)
    """
    height, width = x.shape[-2:]
    if card.max_side is None:
        return x
    scale = card.max_side / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    if size == (height, width):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=scale < 1)


def normalise(x: torch.Tensor, card: ModelCard) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` less the model's mean, over its standard deviation (per
    channel), as it was trained.

    Examples
    --------
    >>> card = load_model("membrane")[1]
    >>> bool(torch.allclose(normalise(torch.full((1, 1, 2, 2), card.mean[0]), card), torch.zeros(1)))
    True
    """
    return (x - torch.tensor(card.mean).view(1, -1, 1, 1)) / torch.tensor(card.std).view(1, -1, 1, 1)


def predict(
    image: np.ndarray,
    net: UNet,
    card: ModelCard,
    *,
    tile: int | None = None,
    overlap: int | None = None,
    progress: Callable[[float], None] | None = None,
    threads: int | None = None,
    channels_last: bool = True,
) -> np.ndarray:
    """Per-class probabilities of a U-Net for an image of any size.

    The image is adapted to the model's channels, resized to the card's ``max_side`` (if
    any), normalised with the card's mean and std, extended by the card's ``mirror``
    pixels of mirrored context (if any), reflect-padded to a multiple of ``2**depth`` and
    cropped back. Images larger than ``tile`` are cut into tiles that
    overlap by at least ``overlap`` pixels; each tile's softmax is weighted by a smooth
    window that fades out towards its edges, so seams do not show.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
        ``C`` 1 or 3; adapted to the model's input channels.
    net : UNet
    card : ModelCard
    tile, overlap : int, optional
        Default to the card's.
    progress : callable, optional
        Called with the fraction done (0 to 1) after each tile.
    threads : int, optional
        Torch threads for this call (restored afterwards); default: leave torch's setting.
    channels_last : bool
        Run convolutions in channels-last memory layout: 512x512 takes about 0.11 s
        instead of 0.16 s on 2 CPU threads (``benchmarks/bench_unet.py``). Converts ``net``'s
        parameters in place (once; the values do not change).

    Returns
    -------
    (H, W, K) float32 ndarray
        Softmax over the card's ``K`` classes; channel ``k`` sums with the others to 1.

    Examples
    --------
    >>> net = UNet(in_channels=1, n_classes=2, depth=2, base=4).eval()
    >>> card = read_card(net.config.to_dict())
    >>> probs = predict(np.zeros((37, 53, 1), np.float32), net, card)
    >>> probs.shape, bool(np.allclose(probs.sum(axis=2), 1))
    ((37, 53, 2), True)
    """
    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W, C), got {image.shape}")
    height, width = image.shape[:2]
    img = adapt_channels(np.asarray(image, np.float32), card.config.in_channels)
    tile = card.tile if tile is None else int(tile)
    overlap = card.overlap if overlap is None else int(overlap)
    multiple = 2**card.config.depth
    if tile < multiple or not (0 <= overlap < tile // 2):
        raise ValueError(
            f"tile must be at least {multiple} and overlap between 0 and tile/2, "
            f"got tile={tile}, overlap={overlap}"
        )
    if channels_last:
        # In place and outside inference mode, so the (cached, shared) network keeps
        # ordinary parameters that autograd can still use; converting twice is a no-op.
        net.to(memory_format=torch.channels_last)
    with _threads(threads), torch.inference_mode():
        x = normalise(working_scale(image_tensor(img)[None], card), card)
        h, w = x.shape[-2:]
        my, mx = min(card.mirror, h), min(card.mirror, w)
        x = mirror_pad(x, card.mirror)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        ph, pw = x.shape[-2:]
        ys, th = _tile_starts(ph, tile, overlap, multiple)
        xs, tw = _tile_starts(pw, tile, overlap, multiple)
        if len(ys) == 1 and len(xs) == 1:
            probs = torch.softmax(_forward_padded(net, x), dim=1)
            if progress is not None:
                progress(1.0)
        else:
            weight = (_window(th, overlap if len(ys) > 1 else 0)[:, None]
                      * _window(tw, overlap if len(xs) > 1 else 0)[None, :])
            acc = torch.zeros(1, card.config.n_classes, ph, pw)
            norm = torch.zeros(ph, pw)
            total, done = len(ys) * len(xs), 0
            for y0 in ys:
                for x0 in xs:
                    patch = x[..., y0:y0 + th, x0:x0 + tw]
                    p = torch.softmax(_forward_padded(net, patch), dim=1)
                    acc[..., y0:y0 + th, x0:x0 + tw] += p * weight
                    norm[y0:y0 + th, x0:x0 + tw] += weight
                    done += 1
                    if progress is not None:
                        progress(done / total)
            probs = acc / norm
        probs = probs[..., my:my + h, mx:mx + w]
        if (h, w) != (height, width):
            probs = F.interpolate(probs, size=(height, width), mode="bilinear",
                                  align_corners=False)
            probs = probs / probs.sum(dim=1, keepdim=True)
        out = probs[0].detach().permute(1, 2, 0).contiguous().numpy().astype(np.float32, copy=False)
    return out
