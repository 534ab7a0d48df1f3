"""Train the shipped U-Net checkpoints and write their model cards.

Run from the repository root::

    python -m models.train --task membrane --data ../shared/data/isbi2012-membrane --out models/
    python -m models.train --task horse --data ../shared/data/weizmann-horse --out models/

Splits (fixed; the report split is never used for training or model selection):

- membrane: train on slices 0-22, select the best epoch on slices 23-24, report on 25-29.
- horse: train on images 001-208, select on 209-228, report on 229-268.

Augmentation follows the U-Net paper, done on whole batches with one ``grid_sample``:
flips, 90-degree and small arbitrary rotations, smooth elastic deformation (random
displacements on a coarse grid, interpolated), plus brightness/contrast, and for the
horses random scale and crop. Loss: cross-entropy plus soft Dice. Every epoch logs train
loss, val loss and val IoU (of class 1: cell / horse); the best epoch by val IoU is kept.
At the end the best weights are saved as a plain state dict, evaluated on the report
split with :func:`segcore.nn.infer.predict` (the same code the app runs), and the card is
written with the measured numbers.
"""

from __future__ import annotations

import argparse
import copy
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
from PIL import Image
from torch.nn import functional as F

from segcore.nn.infer import build_model, predict, read_card
from segcore.nn.unet import UNet, UNetConfig

TASKS = {
    "membrane": dict(
        in_channels=1, classes=["membrane", "cell"], depth=4, base=16, up="transpose",
        crop=256, batch=4, iters=3000, epoch_iters=100, lr=2e-3, max_side=None,
        scale=(0.9, 1.1), tile=512, overlap=32,
    ),
    "horse": dict(
        in_channels=3, classes=["background", "horse"], depth=4, base=16, up="transpose",
        crop=128, batch=8, iters=5000, epoch_iters=100, lr=2e-3, max_side=160,
        scale=(0.7, 1.3), tile=512, overlap=32,
    ),
}

MEMBRANE_SPLIT = {"train": list(range(0, 23)), "val": [23, 24], "report": list(range(25, 30))}
HORSE_SPLIT = {"train": list(range(1, 209)), "val": list(range(209, 229)),
               "report": list(range(229, 269))}


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
    """Pairs (image (1, H, W) in [0, 1], target (H, W) int64: 0 membrane, 1 cell)."""
    pairs = []
    for i in ids:
        img = np.asarray(Image.open(root / "train/image" / f"{i}.png").convert("L"), np.float32) / 255
        lab = np.asarray(Image.open(root / "train/label" / f"{i}.png").convert("L")) > 127
        pairs.append((_to_tensor(img), torch.from_numpy(lab.astype(np.int64))))
    return pairs


def load_horse(root: Path, ids: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs (rgb (3, H, W) resized to the mask's size, target (H, W) int64: 1 horse).

    The rgb files are larger than the masks (README): they are resized to the mask size
    (area-averaging), the masks are lossy JPEG and binarised at 127.
    """
    pairs = []
    for i in ids:
        mask_img = Image.open(root / "figure_ground" / f"horse{i:03d}.jpg").convert("L")
        rgb = Image.open(root / "rgb" / f"horse{i:03d}.jpg").convert("RGB")
        rgb = rgb.resize(mask_img.size, Image.Resampling.BOX)
        img = np.asarray(rgb, np.float32) / 255
        mask = np.asarray(mask_img) > 127
        pairs.append((_to_tensor(img), torch.from_numpy(mask.astype(np.int64))))
    return pairs


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


# ---------------------------------------------------------------- augmentation


def sample_batch(pairs, cfg: dict, gen: torch.Generator):
    """A batch of augmented crops: (N, C, S, S) images and (N, S, S) int64 targets.

    Each crop is drawn with one sampling grid per sample: a random centre, scale, flip,
    rotation (a multiple of 90 degrees plus up to 10 degrees) and a smooth elastic
    displacement (3x3 grid of offsets with std 4 px, bicubically upsampled), so
    geometry costs one ``grid_sample`` per sample. Reflection fills outside the source.
    """
    s = cfg["crop"]
    images, targets = [], []
    # Pixel offsets of the output crop, centred on 0.
    lin = torch.arange(s, dtype=torch.float32) - (s - 1) / 2
    gy, gx = torch.meshgrid(lin, lin, indexing="ij")
    for _ in range(cfg["batch"]):
        idx = int(torch.randint(len(pairs), (1,), generator=gen))
        img, tgt = pairs[idx]
        h, w = img.shape[-2:]
        lo, hi = cfg["scale"]
        scale = math.exp(float(torch.empty(1).uniform_(math.log(lo), math.log(hi), generator=gen)))
        angle = (int(torch.randint(4, (1,), generator=gen)) * 90
                 + float(torch.empty(1).uniform_(-10, 10, generator=gen)))
        theta = math.radians(angle)
        flip = -1.0 if float(torch.rand(1, generator=gen)) < 0.5 else 1.0
        cos, sin = math.cos(theta), math.sin(theta)
        u = scale * (cos * gx * flip - sin * gy)
        v = scale * (sin * gx * flip + cos * gy)
        coarse = torch.randn(2, 3, 3, generator=gen) * 4.0
        disp = F.interpolate(coarse[None], size=(s, s), mode="bicubic", align_corners=True)[0]
        u = u + disp[0]
        v = v + disp[1]
        # Centre anywhere in the image (half a crop in from the edges where it fits).
        half = s * scale / 2
        cy = float(torch.empty(1).uniform_(min(half, h / 2), max(h - half, h / 2), generator=gen))
        cx = float(torch.empty(1).uniform_(min(half, w / 2), max(w - half, w / 2), generator=gen))
        # Pixel coordinates -> grid_sample's [-1, 1] (align_corners=False convention).
        grid = torch.stack([(cx + u + 0.5) / w * 2 - 1, (cy + v + 0.5) / h * 2 - 1], dim=-1)[None]
        out = F.grid_sample(img[None], grid, mode="bilinear", padding_mode="reflection",
                            align_corners=False)[0]
        t = F.grid_sample(tgt[None, None].float(), grid, mode="bilinear",
                          padding_mode="reflection", align_corners=False)[0, 0]
        images.append(out)
        targets.append((t > 0.5).long())
    x = torch.stack(images)
    n = x.shape[0]
    # Brightness and contrast around each image's mean.
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.8, 1.25, generator=gen)
    bright = torch.empty(n, 1, 1, 1).uniform_(-0.1, 0.1, generator=gen)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + bright).clamp(0, 1)
    return x, torch.stack(targets)


# ---------------------------------------------------------------- loss and metrics


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy plus soft Dice (mean over classes)."""
    ce = F.cross_entropy(logits, target)
    probs = logits.softmax(dim=1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).float()
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    denom = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    dice = (2 * inter + 1) / (denom + 1)
    return ce + (1 - dice).mean()


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


def learning_rate(peak: float, by_iters: float, by_time: float) -> float:
    """Short linear warm-up, then cosine decay to 1% of ``peak``.

    Progress is whichever is further along, iterations or the time budget, so a slow or
    busy machine still finishes the schedule (annealed) inside ``--minutes``; with time to
    spare the schedule is purely by iteration and the run is repeatable step for step.
    """
    progress = min(1.0, max(by_iters, by_time))
    if progress < 0.03:
        return peak * (0.1 + 0.9 * progress / 0.03)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (progress - 0.03) / 0.97)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--iters", type=int, help="training iterations (default: per task)")
    ap.add_argument("--minutes", type=float, default=50.0,
                    help="time budget: the learning-rate schedule ends by then at the latest, "
                         "and training stops (the best epoch so far is kept)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    args = ap.parse_args(argv)

    cfg = dict(TASKS[args.task])
    if args.iters:
        cfg["iters"] = args.iters
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    command = "python -m models.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))

    if args.task == "membrane":
        split = MEMBRANE_SPLIT
        train = load_membrane(args.data, split["train"])
        val = load_membrane(args.data, split["val"])
        report = load_membrane(args.data, split["report"])
        split_text = {"train": "slices 0-22", "val (model selection)": "slices 23-24",
                      "report (held out)": "slices 25-29"}
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
                        depth=cfg["depth"], base=cfg["base"], up=cfg["up"], skips=True)
    card = {
        "name": args.task,
        "architecture": config.to_dict(),
        "classes": cfg["classes"],
        "labels": {name: k + 1 for k, name in enumerate(cfg["classes"])},
        "input": {"channels": "gray" if cfg["in_channels"] == 1 else "rgb",
                  "range": [0.0, 1.0], "mean": mean, "std": std, "max_side": cfg["max_side"]},
        "inference": {"tile": cfg["tile"], "overlap": cfg["overlap"]},
    }
    log(f"task {args.task}: {len(train)} train, {len(val)} val, {len(report)} report; "
        f"device {device}, threads {args.threads}; config {config}")

    net = UNet(config).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=1e-4)
    budget_s = args.minutes * 60
    mean_t = torch.tensor(mean).view(1, -1, 1, 1)
    std_t = torch.tensor(std).view(1, -1, 1, 1)
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
            x = ((x - mean_t) / std_t).to(device)
            y = y.to(device)
            loss = loss_fn(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg["lr"], it / cfg["iters"],
                                            (time.time() - start) / budget_s)
            opt.step()
            losses.append(loss.item())
            it += 1
            if it >= cfg["iters"] or time.time() - start > budget_s:
                break
        epoch += 1
        cpu_net = copy.deepcopy(net).cpu()
        metrics = evaluate(cpu_net, card, val)
        elapsed = time.time() - start
        entry = {"epoch": epoch, "iters": it, "train_loss": float(np.mean(losses)),
                 "val_loss": metrics["loss"], "val_iou": metrics["iou"][1],
                 "val_pixel_error": metrics["pixel_error"], "minutes": elapsed / 60}
        history.append(entry)
        improved = entry["val_iou"] > best["iou"]
        if improved:
            best = {"iou": entry["val_iou"], "epoch": epoch, "iters": it,
                    "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}}
        log(f"epoch {epoch:3d} it {it:5d} train_loss {entry['train_loss']:.4f} "
            f"val_loss {entry['val_loss']:.4f} val_iou {entry['val_iou']:.4f} "
            f"val_err {entry['val_pixel_error']:.4f} {elapsed / 60:.1f} min{' *' if improved else ''}")
        if elapsed > budget_s and it < cfg["iters"]:
            log(f"time budget of {args.minutes} min reached at iteration {it}; stopping")
            stopped_early = True
            break
    train_minutes = (time.time() - start) / 60

    final = build_model(best["state"], read_card(card), name=args.task)
    rep = evaluate(final, card, report)
    log(f"report split: pixel error {rep['pixel_error']:.4f}, IoU {rep['iou']}")
    if args.task == "membrane":
        metrics = {"split": "slices 25-29 (held out)", "pixel_error": round(rep["pixel_error"], 4),
                   "cell_iou": round(rep["iou"][1], 4), "membrane_iou": round(rep["iou"][0], 4),
                   "note": "cell = white (255) / non-membrane; pooled over all pixels of the 5 slices"}
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
        "batch": cfg["batch"],
        "crop": cfg["crop"],
        "optimizer": f"AdamW, peak lr {cfg['lr']}, warm-up then cosine decay by iterations or "
                     f"time budget, whichever is further; weight decay 1e-4",
        "minutes_budget": args.minutes,
        "loss": "cross-entropy + soft Dice",
        "augmentation": "flips, 90-degree + up to 10-degree rotations, elastic (3x3 grid, std 4 px), "
                        f"scale {cfg['scale'][0]}-{cfg['scale'][1]}, brightness +-0.1, contrast 0.8-1.25",
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
