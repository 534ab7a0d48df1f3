"""The training script: label alignment, augmentation geometry, and a whole (tiny) run."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi
from skimage.registration import phase_cross_correlation
from skimage.segmentation import find_boundaries
from torch.nn import functional as F

from models.train import (CONTOUR_SPLIT, TASKS, boundary_share, load_contours, loss_fn, main,
                          measure_label_offsets, recipe, sample_batch, sample_crops,
                          slice_ranges)
from segcore import segment
from segcore.datasets import open_dataset
from segcore.nn.augment import Recipe

ROOT = Path(__file__).resolve().parents[1]


def membrane_pair(shift=(1, 0), size=96, seed=0):
    """An EM-like pair: dark cell walls in the image, a label drawn ``shift`` pixels off.

    The label at ``p`` shows the wall map at ``p + shift`` (the convention of
    :func:`measure_label_offsets`). Returns (image (1, H, W), target (H, W): 0 membrane).
    """
    rng = np.random.default_rng(seed)
    seeds = np.zeros((size, size), int)
    pts = rng.integers(0, size, (30, 2))
    seeds[pts[:, 0], pts[:, 1]] = np.arange(1, 31)
    _, (iy, ix) = ndi.distance_transform_edt(seeds == 0, return_indices=True)
    walls = find_boundaries(seeds[iy, ix], mode="thick")
    image = 1 - 0.7 * ndi.gaussian_filter(walls.astype(np.float32), 0.7)
    label = np.roll(walls, (-shift[0], -shift[1]), axis=(0, 1))
    return (torch.from_numpy(image.astype(np.float32))[None],
            torch.from_numpy((~label).astype(np.int64)))


def crop_offsets(pairs, label_offset, n=24, **extra):
    cfg = dict(TASKS["membrane"], crop=64, batch=n, elastic=0.0, scale=(1.0, 1.0),
               angle=0.0, label_offset=label_offset, **extra)
    x, y = sample_batch(pairs, cfg, torch.Generator().manual_seed(0))
    return np.array([
        phase_cross_correlation(ndi.gaussian_filter(1 - x[i, 0].numpy(), 1.0),
                                ndi.gaussian_filter((y[i] == 0).numpy().astype(np.float32), 1.0),
                                upsample_factor=10, normalization=None)[0]
        for i in range(n)
    ])


def test_measure_label_offsets_recovers_a_known_shift():
    for shift in [(1, 0), (0, -1), (2, 1)]:
        pairs = [membrane_pair(shift, seed=s) for s in range(3)]
        offsets = measure_label_offsets(pairs)
        assert offsets.shape == (3, 2)
        assert np.allclose(offsets, shift, atol=0.15), shift


def test_aligned_crops_keep_the_label_offset_through_flips_and_turns():
    pairs = [membrane_pair((1, 0), seed=s) for s in range(3)]
    kept = crop_offsets(pairs, (1.0, 0.0))
    # Each small crop measures within half a pixel; together they agree closely.
    assert np.allclose(kept, (1, 0), atol=0.5)
    assert np.allclose(kept.mean(axis=0), (1, 0), atol=0.1)
    # Without it, flips and quarter turns point the offset every which way.
    turned = crop_offsets(pairs, None)
    assert (turned[:, 0] < -0.5).sum() >= 3 and (np.abs(turned[:, 1]) > 0.5).sum() >= 3


def test_each_slice_s_labels_can_be_moved_to_the_common_offset():
    pairs = [membrane_pair((1, 0), seed=0), membrane_pair((0, 0), seed=1)]
    offsets = measure_label_offsets(pairs)
    assert np.allclose(offsets, [(1, 0), (0, 0)], atol=0.15)
    common = tuple(offsets.mean(axis=0))
    for k, pair in enumerate(pairs):
        moved = crop_offsets([pair], common, pair_offsets=[offsets[k]])
        assert np.allclose(moved.mean(axis=0), (0.5, 0), atol=0.1), k
        # Crop by crop (each measures within about 0.2 px): all at the common offset...
        assert np.linalg.norm(moved - (0.5, 0), axis=1).mean() < 0.3, k
        # ...while without it each slice's own offset, turned with the crop, is half a
        # pixel away in some direction.
        kept = crop_offsets([pair], common)
        assert np.linalg.norm(kept - (0.5, 0), axis=1).mean() > 0.38, k


def test_exact_crops_copy_pixels_in_all_eight_orientations():
    h, w = 40, 50
    img = torch.arange(h * w, dtype=torch.float32).reshape(1, h, w) / (h * w)
    tgt = torch.zeros(h, w, dtype=torch.int64)
    cfg = dict(TASKS["membrane"], crop=16, batch=64, exact=1.0, label_offset=None)
    x, _ = sample_crops([(img, tgt)], cfg, torch.Generator().manual_seed(0))
    index = x[:, 0] * (h * w)
    assert torch.allclose(index, index.round(), atol=1e-2)
    index = index.round().long()
    steps = set()
    for crop in index:
        # A rigid copy: one step along rows and another, perpendicular one down columns.
        along, down = crop[:, 1:] - crop[:, :-1], crop[1:] - crop[:-1]
        assert (along == along[0, 0]).all() and (down == down[0, 0]).all()
        steps.add((int(along[0, 0]), int(down[0, 0])))
    assert steps == {(a, b) for a in (1, -1) for b in (w, -w)} | {(b, a) for a in (1, -1) for b in (w, -w)}
    # Ordinary crops are interpolated, which is what exact ones avoid.
    x, _ = sample_crops([(img, tgt)], dict(cfg, exact=0.0), torch.Generator().manual_seed(0))
    assert not torch.allclose(x * (h * w), (x * (h * w)).round(), atol=1e-2)


def test_mirrored_context_crops_reach_the_image_edges():
    h, w, s, m = 20, 24, 16, 4
    img = torch.arange(h * w, dtype=torch.float32).reshape(1, h, w) / (h * w)
    tgt = torch.arange(h * w).reshape(h, w) % 2
    cfg = dict(TASKS["membrane"], crop=s, batch=64, exact=1.0, label_offset=None, mirror=m)
    x, y = sample_crops([(img, tgt)], cfg, torch.Generator().manual_seed(0))
    assert x.shape == (64, 1, s, s) and y.shape == (64, s - 2 * m, s - 2 * m)
    index = (x[:, 0] * (h * w)).round().long()
    centre = index[:, m:s - m, m:s - m]
    # The targets are the labels of the central pixels...
    assert torch.equal(y, centre % 2)
    # ...which together reach every row and column of the image, edges included,
    covered = set(centre.flatten().tolist())
    assert {i // w for i in covered} == set(range(h))
    assert {i % w for i in covered} == set(range(w))
    # while the context beyond an edge mirrors the image, edge pixel repeated, as
    # inference's mirror_pad does.
    def mirrored(crop):
        return any(all(torch.equal(c[m - 1 - k], c[m + k]) for k in range(m))
                   for c in (crop, crop.flip(0), crop.T, crop.T.flip(0)))
    assert sum(mirrored(crop) for crop in index) >= 8


def test_soft_targets_keep_label_fractions_and_the_loss_agrees_on_hard_ones():
    img, tgt = membrane_pair((1, 0), seed=0)
    cfg = dict(TASKS["membrane"], crop=32, batch=8, exact=1.0, label_offset=(0.5, 0.0))
    _, hard = sample_crops([(img, tgt)], cfg, torch.Generator().manual_seed(0))
    _, soft = sample_crops([(img, tgt)], dict(cfg, soft=1.0), torch.Generator().manual_seed(0))
    assert hard.dtype == torch.int64 and soft.is_floating_point()
    # Half a pixel of label offset leaves halves along the walls, which a hard target rounds.
    assert ((soft - 0.5).abs() < 0.01).any()
    assert torch.equal(hard, (soft > 0.5).long())
    logits = torch.randn(8, 2, 32, 32)
    assert torch.allclose(loss_fn(logits, hard), loss_fn(logits, hard.float()), atol=1e-6)
    assert not torch.allclose(loss_fn(logits, hard), loss_fn(logits, soft), atol=1e-4)


# ---------------------------------------------------------------- the augmentation before
# segcore.nn.augment: kept here only to check that training still draws every crop bit for
# bit as it did (the shipped checkpoints were trained with it).


def _old_sample_batch(pairs, cfg, gen):
    x, targets = _old_sample_crops(pairs, cfg, gen)
    n = x.shape[0]
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.8, 1.25, generator=gen)
    bright = torch.empty(n, 1, 1, 1).uniform_(-0.1, 0.1, generator=gen)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + bright).clamp(0, 1)
    return x, targets


def _old_sample_crops(pairs, cfg, gen):
    s = cfg["crop"]
    images, targets = [], []
    lin = torch.arange(s, dtype=torch.float32) - (s - 1) / 2
    gy, gx = torch.meshgrid(lin, lin, indexing="ij")
    for _ in range(cfg["batch"]):
        idx = int(torch.randint(len(pairs), (1,), generator=gen))
        img, tgt = pairs[idx]
        h, w = img.shape[-2:]
        lo, hi = cfg["scale"]
        scale = math.exp(float(torch.empty(1).uniform_(math.log(lo), math.log(hi), generator=gen)))
        angle = (int(torch.randint(4, (1,), generator=gen)) * 90
                 + float(torch.empty(1).uniform_(-cfg["angle"], cfg["angle"], generator=gen)))
        theta = math.radians(angle)
        flip = -1.0 if float(torch.rand(1, generator=gen)) < 0.5 else 1.0
        coarse = torch.randn(2, 3, 3, generator=gen) * cfg["elastic"]
        exact = cfg.get("exact", 0) > 0 and float(torch.rand(1, generator=gen)) < cfg["exact"]
        cos, sin = math.cos(theta), math.sin(theta)
        if exact:
            quarter = round(angle / 90) * math.pi / 2
            cos, sin = float(round(math.cos(quarter))), float(round(math.sin(quarter)))
            scale, coarse = 1.0, torch.zeros_like(coarse)
        u = scale * (cos * gx * flip - sin * gy)
        v = scale * (sin * gx * flip + cos * gy)
        disp = F.interpolate(coarse[None], size=(s, s), mode="bicubic", align_corners=True)[0]
        u = u + disp[0]
        v = v + disp[1]
        margin = int(cfg.get("mirror", 0))
        half = (s / 2 - margin) * scale
        cy = float(torch.empty(1).uniform_(min(half, h / 2), max(h - half, h / 2), generator=gen))
        cx = float(torch.empty(1).uniform_(min(half, w / 2), max(w - half, w / 2), generator=gen))
        if exact:
            phase = (s - 1) / 2 % 1
            cy, cx = math.floor(cy - phase) + phase, math.floor(cx - phase) + phase
        grid = torch.stack([(cx + u + 0.5) / w * 2 - 1, (cy + v + 0.5) / h * 2 - 1], dim=-1)[None]
        out = F.grid_sample(img[None], grid, mode="bilinear", padding_mode="reflection",
                            align_corners=False)[0]
        dy, dx = map(float, cfg.get("label_offset") or (0.0, 0.0))
        ly, lx = map(float, cfg["pair_offsets"][idx] if cfg.get("pair_offsets") is not None
                         else (dy, dx))
        if dy or dx or ly or lx:
            ox = scale * (cos * flip * dx - sin * dy) - lx
            oy = scale * (sin * flip * dx + cos * dy) - ly
            grid = grid + torch.tensor([ox / w * 2, oy / h * 2])
        t = F.grid_sample(tgt[None, None].float(), grid, mode="bilinear",
                          padding_mode="reflection", align_corners=False)[0, 0]
        images.append(out)
        t = t[margin:s - margin, margin:s - margin]
        targets.append(t.clamp(0, 1) if cfg.get("soft") else (t > 0.5).long())
    return torch.stack(images), torch.stack(targets)


def _gray_pairs(h=70, w=90):
    gen = torch.Generator().manual_seed(0)
    return [(torch.rand(1, h + 7 * k, w - 5 * k, generator=gen),
             (torch.rand(h + 7 * k, w - 5 * k, generator=gen) > 0.6).long()) for k in range(3)]


def _rgb_soft_pairs():
    gen = torch.Generator().manual_seed(1)
    return [(torch.rand(3, 60, 80, generator=gen), torch.rand(60, 80, generator=gen))
            for _ in range(2)]


@pytest.mark.parametrize("make, cfg", [
    (_gray_pairs, dict(TASKS["membrane"], crop=48, batch=6)),
    (_gray_pairs, dict(TASKS["membrane"], crop=48, batch=6, label_offset=(0.585, 0.154))),
    (_gray_pairs, dict(TASKS["membrane"], crop=40, batch=6, label_offset=(0.5, 0.1),
                       pair_offsets=[[0.4, 0.2], [0.6, 0.0], [0.5, 0.1]])),
    (_rgb_soft_pairs, dict(TASKS["horse"], crop=64, batch=8)),
    (_rgb_soft_pairs, dict(TASKS["horse"], crop=64, batch=8, soft=1.0)),
    (_gray_pairs, dict(TASKS["membrane"], crop=33, batch=8, exact=0.5,
                       label_offset=(0.585, 0.154))),
    (_gray_pairs, dict(TASKS["membrane"], crop=32, batch=8, exact=1.0)),
    (_gray_pairs, dict(TASKS["membrane"], crop=48, batch=6, mirror=8, exact=0.3, soft=1.0,
                       label_offset=(0.3, -0.2))),
    (lambda: _gray_pairs(40, 50), dict(TASKS["membrane"], crop=96, batch=3)),
    (_gray_pairs, dict(TASKS["membrane"], crop=48, batch=5, elastic=0.0, angle=0.0,
                       scale=(1.0, 1.0))),
], ids=["membrane", "offset", "pair offsets", "horse", "soft", "exact", "all exact", "mirror",
        "crop beyond the image", "no elastic"])
def test_training_crops_repeat_the_augmentation_before_it_moved_bit_for_bit(make, cfg):
    """sample_crops and sample_batch, now over segcore.nn.augment, give exactly the
    tensors the training script's own augmentation gave (and leave the generator in the
    same state: the next batch agrees too)."""
    for new, old in [(sample_crops, _old_sample_crops), (sample_batch, _old_sample_batch)]:
        gen_new, gen_old = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
        for _ in range(2):
            got, want = new(make(), cfg, gen_new), old(make(), cfg, gen_old)
            for a, b in zip(got, want):
                assert a.dtype == b.dtype and torch.equal(a, b)


def test_the_shipped_cards_record_the_recipe_training_draws_from():
    for task in TASKS:
        card = json.loads((ROOT / "segcore" / "nn" / "models" / f"{task}.json").read_text())
        assert recipe(TASKS[task]).describe() == card["training"]["augmentation"]
        assert Recipe.from_card(card) == recipe(TASKS[task])
    sheared = recipe(dict(TASKS["membrane"], shear=7.5, exact=0.5, mirror=16))
    assert "shear up to 7.5 degrees" in sheared.describe()
    card = {"training": {"crop": sheared.size, "augmentation": sheared.describe()}}
    assert Recipe.from_card(card) == sheared


def test_shear_changes_the_crops_only_when_set():
    cfg = dict(TASKS["membrane"], crop=32, batch=4)
    plain = sample_crops(_gray_pairs(), cfg, torch.Generator().manual_seed(0))
    sheared = sample_crops(_gray_pairs(), dict(cfg, shear=10.0),
                           torch.Generator().manual_seed(0))
    assert not torch.equal(plain[0], sheared[0])
    assert torch.equal(plain[0], sample_crops(_gray_pairs(), dict(cfg, shear=0.0),
                                              torch.Generator().manual_seed(0))[0])


def test_slice_ranges_reads_like_the_split():
    assert slice_ranges(list(range(23))) == "0-22"
    assert slice_ranges([0, 1, 2, 5, 6, 9]) == "0-2, 5-6, 9"


# ---------------------------------------------------------------- a whole run


@pytest.mark.parametrize("args, message", [
    (["--base", "0"], "--base must be a positive whole number"),
    (["--iters", "-5"], "--iters must be a positive whole number"),
    (["--set", "colour=1"], "expected KEY=VALUE with KEY one of elastic"),
    (["--set", "ema=fast"], "'fast' is not a number"),
    (["--set", "dropout=1.5"], "ema and dropout must be in [0, 1)"),
    (["--val", "20-27"], "expected FIRST-LAST slices within 0-29 outside the report slices 25-29"),
    (["--set", "mirror=2.5"], "mirror must be a whole number of pixels"),
    (["--set", "exact=2"], "exact is the fraction of crops without interpolation"),
    (["--set", "shear=-3"], "augmentation: shear must be 0 to less than 89 degrees"),
    (["--val", "a-b"], "expected FIRST-LAST slices within 0-29 outside"),
    (["--val", "None"], "expected FIRST-LAST slices within 0-29 outside"),
    (["--report", "0-40"], "--report '0-40': expected FIRST-LAST slices within 0-29"),
    (["--report", "20-24"], "it takes the default validation slices 23-24; give --val"),
    (["--report", "0-4", "--val", "3-5"], "outside the report slices 0-4"),
])
def test_bad_arguments_get_one_clear_line(tmp_path, capsys, membrane_data, args, message):
    with pytest.raises(SystemExit) as stop:
        main(["--task", "membrane", "--data", str(membrane_data), "--out", str(tmp_path), *args])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_data_that_is_not_the_dataset_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--task", "horse", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    assert "is not the horse dataset: expected the folders rgb and figure_ground" \
        in capsys.readouterr().err


def test_checkpoints_go_to_the_shipped_folder_by_default(capsys):
    """``--out`` defaults to segcore/nn/models/, where the package data the app reads live."""
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "default: the shipped models' folder, segcore/nn/models/" in help_text
    from segcore.nn.models import shipped_dir
    assert shipped_dir().resolve() == ROOT / "segcore" / "nn" / "models"
    assert (ROOT / "models" / "train.py").is_file()
    assert not list((ROOT / "models").glob("*.pt")), "checkpoints belong in segcore/nn/models/"


def _train(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "models.train", "--task", "membrane", "--data", str(data),
           "--out", str(out), "--iters", "3", "--base", "4", "--threads", "1", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.data
def test_training_script_writes_a_card_and_repeats_itself_exactly(tmp_path, membrane_data):
    """Two runs with the same seed give the same weights: the schedule is by iterations."""
    runs = [_train(membrane_data, tmp_path / name) for name in ("a", "b")]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    a, b = (torch.load(tmp_path / name / "membrane.pt", weights_only=True) for name in ("a", "b"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    card = json.loads((tmp_path / "a" / "membrane.json").read_text())
    assert card["training"]["iterations"] == 3
    assert card["training"]["command"].startswith("python -m models.train --task membrane")
    assert card["architecture"]["base"] == 4
    assert set(card["metrics"]) >= {"pixel_error", "cell_iou", "membrane_iou"}
    # The card it wrote is one the app loads: the checkpoint predicts through segment().
    img = np.random.default_rng(0).random((40, 50)).astype(np.float32)
    assert segment(img, "unet", model=str(tmp_path / "a" / "membrane.pt")).labels.shape == (40, 50)
    # A different seed gives different weights, so the equality above means something.
    other = _train(membrane_data, tmp_path / "c", "--seed", "1", "--val", "0-1")
    assert other.returncode == 0, other.stderr[-2000:]
    split = json.loads((tmp_path / "c" / "membrane.json").read_text())["training"]["split"]
    assert split["train"] == "slices 2-24" and split["val (model selection)"] == "slices 0-1"
    c = torch.load(tmp_path / "c" / "membrane.pt", weights_only=True)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.data
def test_without_validation_all_of_0_24_trains_and_the_final_weights_are_kept(tmp_path,
                                                                             membrane_data):
    run = _train(membrane_data, tmp_path, "--iters", "4", "--val", "none")
    assert run.returncode == 0, run.stderr[-2000:]
    training = json.loads((tmp_path / "membrane.json").read_text())["training"]
    assert training["split"]["train"] == "slices 0-24"
    assert training["split"]["val (model selection)"].startswith("none")
    assert training["kept"] == "the final weights" and training["best_epoch"] == 1
    assert [set(h) for h in training["history"]] == [{"epoch", "iters", "train_loss", "minutes"}]
    # The slices 25-29 are still only reported on.
    assert "25 train, 0 val, 5 report" in run.stdout


@pytest.mark.data
def test_another_report_block_makes_a_cross_validation_fold(tmp_path, membrane_data):
    run = _train(membrane_data, tmp_path, "--report", "0-4", "--val", "none")
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads((tmp_path / "membrane.json").read_text())
    split = card["training"]["split"]
    assert split["train"] == "slices 5-29" and split["report (held out)"] == "slices 0-4"
    assert split["val (model selection)"] == "none: the final weights are kept"
    assert card["metrics"]["split"] == "slices 0-4 (held out)"
    assert "25 train, 0 val, 5 report" in run.stdout


def test_contour_targets_are_the_share_of_annotators_with_a_boundary_within_a_pixel():
    split = np.ones((6, 8), np.int32)
    split[:, 4:] = 2  # a boundary between columns 3 and 4
    whole = np.ones((6, 8), np.int32)
    share = boundary_share([split, whole])
    # One annotator of two drew it: columns 2-4 are within a pixel of column 3's edge.
    np.testing.assert_array_equal(share, np.where(np.isin(np.arange(8), [2, 3, 4]), 0.5, 0.0)[None]
                                  .repeat(6, 0))
    assert boundary_share([whole]).max() == 0


@pytest.mark.data
def test_contour_training_never_sees_the_images_merging_is_tuned_on():
    from test_datasets import shared

    root = shared("bsds500")
    names = open_dataset(root, split="train").names
    parts = {k: set(names[v]) for k, v in CONTOUR_SPLIT.items()}
    assert [len(parts[k]) for k in ("tune", "train", "val")] == [50, 135, 15]
    assert not (parts["tune"] & parts["train"] or parts["tune"] & parts["val"]
                or parts["train"] & parts["val"])
    # benchmarks/bsds.py --limit-train 50 tunes on the first 50 train images by id.
    assert parts["tune"] == set(names[:50])
    (image, target), = load_contours(root, "train", slice(50, 51))
    assert image.shape[0] == 3 and target.shape == image.shape[1:]
    assert 0 < float(target.mean()) < 0.5 and float(target.max()) <= 1
