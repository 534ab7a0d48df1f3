"""Train the shipped U-Net checkpoints and write their model cards.

Run from the repository root::

    python -m models.train --task membrane --data ../shared/data/isbi2012-membrane --out segcore/nn/models/
    python -m models.train --task horse --data ../shared/data/weizmann-horse --out segcore/nn/models/
    python -m models.train --task contours --data ../shared/data/bsds500 --out segcore/nn/models/

``--out`` defaults to ``segcore/nn/models/``, where the shipped checkpoints and cards live
(package data of :mod:`segcore.nn.models`); this folder keeps the script and the cards'
documentation (``models/README.md``).

Splits (fixed; the report split is never used for training or model selection):

- membrane: train on slices 0-22, select the best epoch on slices 23-24, report on 25-29.
  ``--val FIRST-LAST`` selects on other slices of 0-24 (cross-validation); ``--val none``
  trains on all of 0-24 for the fixed number of iterations and keeps the final weights.
  ``--report FIRST-LAST`` holds out another block instead of 25-29, for one fold of a
  cross-validation over all 30 slices (the shipped model is not such a fold).
- horse: train on images 001-208, select on 209-228, report on 229-268.
- contours: BSDS500 train images by position in id order: train on 51-185, select on
  186-200, never touch 1-50 (where hierarchical merging's settings are picked); report
  on all 100 val images. The target is the share of annotators who drew a boundary
  within one pixel (soft), and a pixel counts as boundary in val and report where any did.

Augmentation follows the U-Net paper, done with one ``grid_sample`` per crop
(:mod:`segcore.nn.augment`, which the augmentation lesson uses too): flips, 90-degree and
small arbitrary rotations, smooth elastic deformation (random displacements on a coarse
grid, interpolated), shear when ``--set shear=DEGREES`` asks for it, plus
brightness/contrast, and for the horses random scale and crop. The membrane labels sit a
fraction of a pixel off the image; the offset is measured on the training slices and kept
fixed in every crop, whatever its flip or turn. Loss: cross-entropy plus soft Dice; bf16
autocast. An exponential moving average of the weights is evaluated every epoch (train
loss, val loss, val IoU of class 1: cell / horse, val pixel error) and the best epoch by
val IoU is kept. At the end the kept weights are saved as a plain state dict, evaluated on
the report split with
:func:`segcore.nn.infer.predict` (the same code the app runs), and the card is written with
the measured numbers. The learning-rate schedule follows the iteration count only, so a
command repeats its run step for step (same ``--threads``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage as ndi
from skimage.registration import phase_cross_correlation
from torch.nn import functional as F

from segcore.datasets import open_dataset
from segcore.nn import augment
from segcore.nn.infer import build_model, predict, read_card
from segcore.nn.models import shipped_dir
from segcore.nn.unet import UNet, UNetConfig

TASKS = {
    "membrane": dict(
        in_channels=1, classes=["membrane", "cell"], depth=4, base=16, up="transpose",
        crop=256, batch=4, iters=3000, epoch_iters=100, lr=2e-3, max_side=None,
        scale=(0.9, 1.1), tile=512, overlap=32,
        elastic=4.0, angle=10.0, shear=0.0, dropout=0.0, weight_decay=1e-4, dice=1.0,
        ema=0.995,
        align=1.0, align_each=0.0, soft=0.0, exact=0.0, mirror=0.0,
    ),
    "horse": dict(
        in_channels=3, classes=["background", "horse"], depth=4, base=16, up="transpose",
        crop=128, batch=8, iters=5000, epoch_iters=100, lr=2e-3, max_side=160,
        scale=(0.7, 1.3), tile=512, overlap=32,
        elastic=4.0, angle=10.0, shear=0.0, dropout=0.0, weight_decay=1e-4, dice=1.0,
        ema=0.995,
        align=0.0, align_each=0.0, soft=0.0, exact=0.0, mirror=0.0,
    ),
    # Boundaries of natural photos (BSDS500), for hierarchical merging: the share of
    # annotators who drew a boundary within a pixel is the soft target of class 1. Every
    # BSDS image is 481 px on its longer side; other images are seen at that size too.
    "contours": dict(
        in_channels=3, classes=["region", "boundary"], depth=4, base=16, up="transpose",
        crop=160, batch=8, iters=3000, epoch_iters=100, lr=2e-3, max_side=481,
        scale=(0.8, 1.25), tile=512, overlap=32,
        elastic=2.0, angle=10.0, shear=0.0, dropout=0.0, weight_decay=1e-4, dice=1.0,
        ema=0.995,
        align=0.0, align_each=0.0, soft=1.0, exact=0.0, mirror=0.0,
    ),
}

# Training settings ``--set KEY=VALUE`` may override.
SETTINGS = ("elastic", "angle", "shear", "dropout", "weight_decay", "dice", "ema", "align",
            "align_each", "soft", "exact", "mirror")

MEMBRANE_SPLIT = {"train": list(range(0, 23)), "val": [23, 24], "report": list(range(25, 30))}
HORSE_SPLIT = {"train": list(range(1, 209)), "val": list(range(209, 229)),
               "report": list(range(229, 269))}
# BSDS500 train images by position in id order: the first 50 are where the merging
# method's settings are tuned (benchmarks/bsds.py --limit-train 50), so the boundary
# network never sees them; the last 15 pick its best epoch; val is the report split.
CONTOUR_SPLIT = {"tune": slice(0, 50), "train": slice(50, 185), "val": slice(185, 200)}


def slice_ranges(ids: list[int]) -> str:
    """[0, 1, 2, 5, 6] -> '0-2, 5-6'."""
    runs, start = [], None
    for i, k in enumerate(ids):
        if start is None:
            start = k
        if i + 1 == len(ids) or ids[i + 1] != k + 1:
            runs.append(f"{start}-{k}" if k != start else f"{k}")
            start = None
    return ", ".join(runs)


def parse_slices(text: str) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4], '7' -> [7]; [] for anything that is not a range of 0-29."""
    first, _, last = text.partition("-")
    try:
        ids = list(range(int(first), int(last or first) + 1))
    except ValueError:
        return []
    return ids if set(ids) <= set(range(30)) else []


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- data


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) float in [0, 1] -> (C, H, W) float32 tensor."""
    if img.ndim == 2:
        img = img[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))


def load_membrane(root: Path, ids: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs (image (1, H, W) in [0, 1], target (H, W) int64: 0 membrane, 1 cell), read
    by :mod:`segcore.datasets` (the label's white, truth class 2, is the cell)."""
    data = open_dataset(root, layout="membrane").select(ids)
    return [(_to_tensor(item.image), torch.from_numpy((item.truth == 2).astype(np.int64)))
            for item in data]


def load_horse(root: Path, ids: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs (rgb (3, H, W) resized to the mask's size, target (H, W) int64: 1 horse).

    Read by :mod:`segcore.datasets`: the rgb files are larger than the masks (README), so
    they are resized to the mask size (area-averaging, in 8 bits); the masks are lossy JPEG
    and binarised at 127 (truth class 2 is the horse).
    """
    data = open_dataset(root, images="rgb", masks="figure_ground").select(
        [f"horse{i:03d}" for i in ids])
    return [(_to_tensor(item.image), torch.from_numpy((item.truth == 2).astype(np.int64)))
            for item in data]


def boundary_share(truths: list[np.ndarray]) -> np.ndarray:
    """``(H, W) float32``: the share of the segmentations ``truths`` with a boundary
    within one pixel (a 3x3 square) of each pixel; a boundary lies between a pixel and
    its right or lower neighbour of another region.

    Examples
    --------
    >>> a = np.array([[1, 1, 2, 2]] * 2); b = np.ones((2, 4), int)
    >>> boundary_share([a, b]).tolist()[0]
    [0.0, 0.5, 0.5, 0.5]
    """
    total = np.zeros(truths[0].shape, np.float32)
    for t in truths:
        edge = np.zeros(t.shape, bool)
        edge[:, :-1] |= t[:, :-1] != t[:, 1:]
        edge[:-1] |= t[:-1] != t[1:]
        total += ndi.binary_dilation(edge, np.ones((3, 3), bool))
    return total / len(truths)


def load_contours(root: Path, split: str, part: slice) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs (rgb (3, H, W), target (H, W) float32: :func:`boundary_share` of the
    annotators) for the BSDS images of ``split`` at positions ``part`` in id order."""
    data = open_dataset(root, layout="bsds", split=split)
    return [(_to_tensor(item.image), torch.from_numpy(boundary_share(item.truths)))
            for item in data.select(list(data.names[part]))]


def rescale(img: torch.Tensor, target: torch.Tensor, max_side: int):
    """Resize a training pair so its longer side is ``max_side``, as inference does."""
    h, w = img.shape[-2:]
    scale = max_side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    img = F.interpolate(img[None], size=size, mode="bilinear", align_corners=False,
                        antialias=scale < 1)[0]
    soft = F.interpolate(target[None, None].float(), size=size, mode="bilinear",
                         align_corners=False, antialias=scale < 1)[0, 0]
    return img.clamp(0, 1), soft


def measure_label_offsets(pairs) -> np.ndarray:
    """The sub-pixel shift (dy, dx) of the membrane labels against the image, in pixels.

    Membranes are the dark lines of the EM image, so registering the (smoothed) darkness
    of each training image with its membrane map by phase correlation finds where the
    annotation sits relative to the image; the mean over the training slices is returned
    (ISBI 2012: about (0.6, 0.15): each label pixel shows the image a little below and to
    the right of it, so the annotation sits up and left). Flips and rotations would turn
    such an offset around from crop to crop and blur the boundaries the network learns,
    which is what pixel error counts; :func:`sample_batch` keeps it fixed instead.

    Returns an (N, 2) array: the (dy, dx) of each pair. They differ from slice to slice by
    a few tenths of a pixel; training uses their mean.
    """
    shifts = []
    for img, tgt in pairs:
        dark = ndi.gaussian_filter(1 - img[0].numpy(), 1.0)
        membrane = ndi.gaussian_filter((tgt.numpy() == 0).astype(np.float32), 1.0)
        shift, _, _ = phase_cross_correlation(dark, membrane, upsample_factor=20,
                                              normalization=None)
        shifts.append(shift)
    return np.array(shifts, dtype=float).reshape(-1, 2)


# ---------------------------------------------------------------- augmentation


def recipe(cfg: dict) -> augment.Recipe:
    """The ranges a task's crops are drawn from (``crop``, ``scale``, ``angle``,
    ``shear``, ``elastic``, ``exact`` and ``mirror`` of ``cfg``)."""
    return augment.Recipe(size=cfg["crop"], scale=tuple(cfg["scale"]), angle=cfg["angle"],
                          shear=cfg.get("shear", 0.0), elastic=cfg["elastic"],
                          exact=cfg.get("exact", 0.0), margin=int(cfg.get("mirror", 0)))


def _crop_options(cfg: dict) -> dict:
    return dict(batch=cfg["batch"], label_offset=cfg.get("label_offset"),
                pair_offsets=cfg.get("pair_offsets"), soft=bool(cfg.get("soft")))


def sample_batch(pairs, cfg: dict, gen: torch.Generator):
    """A batch of augmented crops: (N, C, S, S) images and (N, S, S) targets.

    The geometry of :func:`sample_crops`, then brightness and contrast per crop
    (:func:`segcore.nn.augment.sample_batch`).
    """
    return augment.sample_batch(pairs, recipe(cfg), gen, **_crop_options(cfg))


def sample_crops(pairs, cfg: dict, gen: torch.Generator):
    """Geometrically augmented crops: (N, C, S, S) images and (N, S, S) targets.

    Each crop is drawn with one sampling grid per sample (:mod:`segcore.nn.augment`, which
    the augmentation lesson uses too): a random centre, scale, flip, rotation (a multiple
    of 90 degrees plus up to ``angle`` degrees), shear when ``shear`` is set, and a smooth
    elastic displacement (3x3 grid of offsets with std ``elastic`` px, bicubically
    upsampled), so geometry costs one ``grid_sample`` per sample. Reflection fills outside
    the source. Targets are int64 class indices, or with ``soft`` the float fraction of
    class 1. The labels keep ``label_offset`` against the image in every crop (see
    :func:`measure_label_offsets`); with ``pair_offsets`` each pair's labels are moved to it.

    An exact crop (probability ``exact``) keeps only the flip and the turn by a multiple
    of 90 degrees and lands on pixel centres: its image is not interpolated at all, as at
    inference. With ``mirror`` = m > 0 the targets cover only the central (S - 2m) pixels,
    which may reach the image's edges: the m pixels around them are context, mirrored
    beyond the edges, as inference gives it (the U-Net paper's overlap-tile strategy).
    """
    return augment.sample_crops(pairs, recipe(cfg), gen, **_crop_options(cfg))


# ---------------------------------------------------------------- loss and metrics


def loss_fn(logits: torch.Tensor, target: torch.Tensor, dice_weight: float = 1.0) -> torch.Tensor:
    """Cross-entropy plus ``dice_weight`` times soft Dice loss (mean over classes).

    ``target`` is (N, H, W): class indices (int64), or for two classes the probability
    of class 1 (float), for soft targets.
    """
    soft = target.is_floating_point()
    if soft:
        onehot = torch.stack([1 - target, target], dim=1)
    else:
        onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).float()
    ce = F.cross_entropy(logits, onehot if soft else target)
    probs = logits.softmax(dim=1)
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    denom = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    dice = (2 * inter + 1) / (denom + 1)
    return ce + dice_weight * (1 - dice).mean()


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    union = np.logical_or(pred, truth).sum()
    return float(np.logical_and(pred, truth).sum() / union) if union else 1.0


def evaluate(net: UNet, card_dict: dict, pairs) -> dict:
    """Metrics over whole images, predicted with the app's own inference code.

    Pixel error and IoUs are pooled over all pixels of all images.
    """
    net.eval()
    card = read_card(card_dict)
    inter = np.zeros(2)
    union = np.zeros(2)
    wrong = total = 0
    loss_sum = 0.0
    for img, tgt in pairs:
        probs = predict(img.permute(1, 2, 0).numpy(), net, card)
        pred = probs.argmax(axis=2)
        truth = tgt.numpy()
        wrong += int((pred != truth).sum())
        total += truth.size
        for k in range(2):
            inter[k] += np.logical_and(pred == k, truth == k).sum()
            union[k] += np.logical_or(pred == k, truth == k).sum()
        p = torch.from_numpy(probs).permute(2, 0, 1)[None].clamp_min(1e-7)
        loss_sum += float(F.nll_loss(p.log(), tgt[None]))
    ious = inter / np.maximum(union, 1)
    return {"pixel_error": wrong / total, "iou": ious.tolist(), "loss": loss_sum / len(pairs)}


# ---------------------------------------------------------------- main


def learning_rate(peak: float, progress: float) -> float:
    """Short linear warm-up, then cosine decay to 1% of ``peak``.

    ``progress`` is the fraction of the planned iterations done, so the schedule (and with
    the seed, the whole run) is the same on any machine, however fast or busy.
    """
    progress = min(1.0, progress)
    if progress < 0.03:
        return peak * (0.1 + 0.9 * progress / 0.03)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (progress - 0.03) / 0.97)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=shipped_dir(),
                    help="folder for NAME.pt and its card NAME.json (default: the shipped "
                         "models' folder, segcore/nn/models/)")
    ap.add_argument("--iters", type=int, help="training iterations (default: per task)")
    ap.add_argument("--base", type=int, help="channels of the first level (default: per task)")
    ap.add_argument("--minutes", type=float, default=None,
                    help="optional hard stop: training ends after this many minutes, keeping "
                         "the best epoch so far (a run cut short is not reproducible)")
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16",
                    help="bf16 autocast (about 2.5x faster on CPUs with AVX512-BF16 or AMX, "
                         "and on GPUs) or plain float32")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", choices=["fp32", "fp16"], default="fp32",
                    help="how the checkpoint stores its floating-point tensors: fp16 halves the "
                         "file (the reported numbers are measured with the stored weights)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a training setting: elastic (std in px), angle (degrees "
                         "beyond multiples of 90), shear (degrees, 0: none), dropout, "
                         "weight_decay, dice (loss weight), "
                         "ema (decay of the weight average that is evaluated and kept; 0: off), "
                         "align (1: keep the measured label offset fixed under flips and turns), "
                         "align_each (1: move each slice's labels to that offset), soft (1: soft "
                         "targets), exact (fraction of crops without interpolation), mirror (px "
                         "of mirrored context around the loss region; inference uses it too)")
    ap.add_argument("--val", metavar="FIRST-LAST", default=None,
                    help="membrane only: the slices (outside the report block) that pick the "
                         "best epoch, for cross-validation (default 23-24); the others train. "
                         "'none': train on all but the report block and keep the final weights")
    ap.add_argument("--report", metavar="FIRST-LAST", default=None,
                    help="membrane only: the held-out slices that are reported on (default "
                         "25-29). Another block, e.g. 0-4, makes one fold of a cross-validation "
                         "over all 30 slices; the shipped model keeps 25-29 held out")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    args = ap.parse_args(argv)

    cfg = dict(TASKS[args.task])
    for name in ("iters", "base", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            ap.error(f"--{name} must be a positive whole number, got {value}")
    if args.iters is not None:
        cfg["iters"] = args.iters
    if args.base is not None:
        cfg["base"] = args.base
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in SETTINGS or not value:
            ap.error(f"--set {item!r}: expected KEY=VALUE with KEY one of {', '.join(SETTINGS)}")
        try:
            cfg[key] = float(value)
        except ValueError:
            ap.error(f"--set {item!r}: {value!r} is not a number")
    if not (cfg["mirror"] == int(cfg["mirror"]) and 0 <= cfg["mirror"] < cfg["crop"] / 4):
        ap.error(f"mirror must be a whole number of pixels from 0 to less than a quarter of "
                 f"the {cfg['crop']} px crop, got {cfg['mirror']:g}")
    if not 0 <= cfg["exact"] <= 1:
        ap.error(f"exact is the fraction of crops without interpolation, from 0 to 1, "
                 f"got {cfg['exact']:g}")
    try:
        recipe(cfg)
    except ValueError as err:
        ap.error(f"augmentation: {err}")
    if not (0 <= cfg["ema"] < 1 and 0 <= cfg["dropout"] < 1):
        ap.error(f"ema and dropout must be in [0, 1), got ema={cfg['ema']:g}, "
                 f"dropout={cfg['dropout']:g}")
    folders = {"membrane": ("train/image", "train/label"), "horse": ("rgb", "figure_ground"),
               "contours": ("images/train", "groundTruth/val")}
    if not all((args.data / sub).is_dir() for sub in folders[args.task]):
        ap.error(f"--data {str(args.data)!r} is not the {args.task} dataset: expected the "
                 f"folders {' and '.join(folders[args.task])} in it")
    report_ids = MEMBRANE_SPLIT["report"]
    if args.report is not None:
        report_ids = parse_slices(args.report)
        if args.task != "membrane" or not report_ids:
            ap.error(f"--report {args.report!r}: expected FIRST-LAST slices within 0-29 "
                     f"(membrane only), e.g. 0-4")
    if args.val is None:
        val_ids = MEMBRANE_SPLIT["val"]
        if args.task == "membrane" and set(val_ids) & set(report_ids):
            ap.error(f"--report {args.report}: it takes the default validation slices 23-24; "
                     f"give --val FIRST-LAST (other slices) or --val none")
    else:
        val_ids = [] if args.val == "none" else parse_slices(args.val)
        if (args.task != "membrane" or set(val_ids) & set(report_ids)
                or not (val_ids or args.val == "none")):
            ap.error(f"--val {args.val!r}: expected FIRST-LAST slices within 0-29 outside the "
                     f"report slices {slice_ranges(report_ids)} (membrane only), or none")
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    command = "python -m models.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))

    if args.task == "membrane":
        train_ids = [i for i in range(30) if i not in val_ids and i not in report_ids]
        split = {"train": train_ids, "val": val_ids, "report": report_ids}
        train = load_membrane(args.data, split["train"])
        val = load_membrane(args.data, split["val"])
        report = load_membrane(args.data, split["report"])
        split_text = {"train": "slices " + slice_ranges(train_ids),
                      "val (model selection)": ("slices " + slice_ranges(val_ids) if val_ids
                                                else "none: the final weights are kept"),
                      "report (held out)": "slices " + slice_ranges(report_ids)}
        if cfg["align"]:
            offsets = measure_label_offsets(train)
            cfg["label_offset"] = tuple(float(v) for v in offsets.mean(axis=0))
            if cfg["align_each"]:
                cfg["pair_offsets"] = offsets.tolist()
            log("label offset against the image (dy, dx), measured on the training slices: "
                "(%.3f, %.3f) px" % cfg["label_offset"])
    elif args.task == "contours":
        train = load_contours(args.data, "train", CONTOUR_SPLIT["train"])
        # Model selection and the report count a pixel as boundary where an annotator drew one.
        val = [(i, (t > 0).long()) for i, t in load_contours(args.data, "train",
                                                             CONTOUR_SPLIT["val"])]
        report = [(i, (t > 0).long()) for i, t in load_contours(args.data, "val", slice(None))]
        split_text = {"tuning of the merging method (never trained on)": "BSDS500 train, the "
                      "first 50 by id", "train": "BSDS500 train, the 51st to 185th by id",
                      "val (model selection)": "BSDS500 train, the last 15 by id",
                      "report (held out)": "BSDS500 val, all 100"}
    else:
        split = HORSE_SPLIT
        train = [rescale(i, t, cfg["max_side"]) for i, t in load_horse(args.data, split["train"])]
        # Soft targets for training keep the edges of the downscaled mask sub-pixel exact.
        val = load_horse(args.data, split["val"])
        report = load_horse(args.data, split["report"])
        split_text = {"train": "horse001-208", "val (model selection)": "horse209-228",
                      "report (held out)": "horse229-268"}
    # Normalisation from the training images only.
    stacked = torch.cat([i.flatten(1) for i, _ in train], dim=1)
    mean = stacked.mean(dim=1).tolist()
    std = stacked.std(dim=1).tolist()
    config = UNetConfig(in_channels=cfg["in_channels"], n_classes=len(cfg["classes"]),
                        depth=cfg["depth"], base=cfg["base"], up=cfg["up"], skips=True,
                        dropout=cfg["dropout"])
    card = {
        "name": args.task,
        "architecture": config.to_dict(),
        "classes": cfg["classes"],
        "labels": {name: k + 1 for k, name in enumerate(cfg["classes"])},
        "input": {"channels": "gray" if cfg["in_channels"] == 1 else "rgb",
                  "range": [0.0, 1.0], "mean": mean, "std": std, "max_side": cfg["max_side"]},
        # A tile covers ``tile`` image pixels plus the mirrored context around them.
        "inference": {"tile": cfg["tile"] + 2 * int(cfg["mirror"]), "overlap": cfg["overlap"],
                      **({"mirror": int(cfg["mirror"])} if cfg["mirror"] else {})},
    }
    log(f"task {args.task}: {len(train)} train, {len(val)} val, {len(report)} report; "
        f"device {device}, threads {args.threads}; config {config}")

    net = UNet(config).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    budget_s = math.inf if args.minutes is None else args.minutes * 60
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")
    mean_t = torch.tensor(mean).view(1, -1, 1, 1)
    std_t = torch.tensor(std).view(1, -1, 1, 1)
    # An exponential moving average of the weights (and batch-norm statistics) is what gets
    # evaluated and kept when ``ema`` is set: it smooths the epoch-to-epoch noise of the
    # raw weights on so few training images.
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()} if cfg["ema"] else None
    best = {"iou": -1.0}
    history = []
    start = time.time()
    it = 0
    epoch = 0
    stopped_early = False
    while it < cfg["iters"]:
        net.train()
        losses = []
        for _ in range(cfg["epoch_iters"]):
            x, y = sample_batch(train, cfg, gen)
            x = ((x - mean_t) / std_t).to(device).contiguous(memory_format=torch.channels_last)
            y = y.to(device)
            with autocast:
                logits = net(x)
            m = int(cfg["mirror"])
            logits = logits[..., m:logits.shape[-2] - m, m:logits.shape[-1] - m]
            loss = loss_fn(logits.float(), y, cfg["dice"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg["lr"], it / cfg["iters"])
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for k, v in net.state_dict().items():
                        if v.is_floating_point():
                            ema[k].lerp_(v, 1 - cfg["ema"])
                        else:
                            ema[k].copy_(v)
            losses.append(loss.item())
            it += 1
            if it >= cfg["iters"] or time.time() - start > budget_s:
                break
        epoch += 1
        weights = {k: v.detach().cpu().contiguous().clone()
                   for k, v in (ema if ema is not None else net.state_dict()).items()}
        entry = {"epoch": epoch, "iters": it, "train_loss": float(np.mean(losses))}
        text = ""
        if val:
            metrics = evaluate(build_model(weights, read_card(card), name=args.task), card, val)
            entry.update(val_loss=metrics["loss"], val_iou=metrics["iou"][1],
                         val_pixel_error=metrics["pixel_error"])
            text = (f"val_loss {entry['val_loss']:.4f} val_iou {entry['val_iou']:.4f} "
                    f"val_err {entry['val_pixel_error']:.4f} ")
        elapsed = time.time() - start
        entry["minutes"] = elapsed / 60
        history.append(entry)
        # Without validation slices the latest weights are the ones kept.
        improved = not val or entry["val_iou"] > best["iou"]
        if improved:
            best = {"iou": entry.get("val_iou"), "epoch": epoch, "iters": it, "state": weights}
        log(f"epoch {epoch:3d} it {it:5d} train_loss {entry['train_loss']:.4f} {text}"
            f"{elapsed / 60:.1f} min{' *' if val and improved else ''}")
        if elapsed > budget_s and it < cfg["iters"]:
            log(f"time budget of {args.minutes} min reached at iteration {it}; stopping")
            stopped_early = True
            break
    train_minutes = (time.time() - start) / 60

    if args.weights == "fp16":
        best["state"] = {k: v.half() if v.is_floating_point() else v
                         for k, v in best["state"].items()}
    final = build_model(best["state"], read_card(card), name=args.task)
    rep = evaluate(final, card, report)
    log(f"report split: pixel error {rep['pixel_error']:.4f}, IoU {rep['iou']}")
    if args.task == "membrane":
        metrics = {"split": f"slices {slice_ranges(report_ids)} (held out)",
                   "pixel_error": round(rep["pixel_error"], 4),
                   "cell_iou": round(rep["iou"][1], 4), "membrane_iou": round(rep["iou"][0], 4),
                   "note": f"cell = white (255) / non-membrane; pooled over all pixels of the "
                           f"{len(report_ids)} slices"}
    elif args.task == "contours":
        metrics = {"split": "BSDS500 val (held out)",
                   "boundary_iou": round(rep["iou"][1], 4),
                   "pixel_error": round(rep["pixel_error"], 4),
                   "note": "a pixel is boundary where any annotator drew a boundary within "
                           "one pixel; pooled over all pixels of the 100 images"}
    else:
        metrics = {"split": "horse229-268 (held out)", "foreground_iou": round(rep["iou"][1], 4),
                   "background_iou": round(rep["iou"][0], 4),
                   "pixel_error": round(rep["pixel_error"], 4),
                   "note": "pooled over all pixels, each image at its mask resolution; "
                           "rgb resized to the mask size as the input"}
    hardware = f"{device.type}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda"
                                   else f" ({platform.processor() or platform.machine()}, "
                                        f"{os.cpu_count()} cores, {args.threads} torch threads)")
    card["training"] = {
        "command": command,
        "data": str(args.data),
        "split": split_text,
        "seed": args.seed,
        "iterations": it,
        "planned_iterations": cfg["iters"],
        "stopped_early_by_time_budget": stopped_early,
        "epochs": epoch,
        "iterations_per_epoch": cfg["epoch_iters"],
        "best_epoch": best["epoch"],
        "kept": "the epoch with the best val IoU" if val else "the final weights",
        "batch": cfg["batch"],
        "crop": cfg["crop"],
        "optimizer": f"AdamW, peak lr {cfg['lr']}, warm-up then cosine decay by iterations; "
                     f"weight decay {cfg['weight_decay']:g}",
        "label_offset": ({"dy": round(cfg["label_offset"][0], 3),
                          "dx": round(cfg["label_offset"][1], 3),
                          "how": "measured on the training slices by phase correlation of the "
                                 "image's darkness with the membrane map; kept fixed in every "
                                 "augmented crop"
                                 + ("; each slice's labels moved to it from their own offset"
                                    if cfg["align_each"] else "")}
                         if cfg.get("label_offset") else None),
        "weight_average": (f"exponential moving average, decay {cfg['ema']:g}" if cfg["ema"]
                           else "none (the raw weights of the best epoch)"),
        "stored_weights": args.weights,
        "precision": "bf16 autocast, float32 weights" if args.precision == "bf16" else "float32",
        "minutes_limit": args.minutes,
        "loss": "cross-entropy" + (f" + {cfg['dice']:g} x soft Dice" if cfg["dice"] else "")
                + (" on soft targets (the label fraction each resampled pixel covers)"
                   if cfg["soft"] else ""),
        "augmentation": recipe(cfg).describe(),
        "minutes": round(train_minutes, 1),
        "hardware": hardware,
        "torch": torch.__version__,
        "history": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in h.items()}
                    for h in history],
    }
    card["metrics"] = metrics
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(best["state"], args.out / f"{args.task}.pt")
    (args.out / f"{args.task}.json").write_text(json.dumps(card, indent=2) + "\n")
    log(f"wrote {args.out / (args.task + '.pt')} and the card; {train_minutes:.1f} min")


if __name__ == "__main__":
    main()
