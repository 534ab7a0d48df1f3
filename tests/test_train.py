"""The training script: label alignment, augmentation geometry, and a whole (tiny) run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi
from skimage.registration import phase_cross_correlation
from skimage.segmentation import find_boundaries

from models.train import TASKS, main, measure_label_offset, sample_batch
from segcore import segment

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/isbi2012-membrane"


def membrane_pair(shift=(1, 0), size=96, seed=0):
    """An EM-like pair: dark cell walls in the image, a label drawn ``shift`` pixels off.

    The label at ``p`` shows the wall map at ``p + shift`` (the convention of
    :func:`measure_label_offset`). Returns (image (1, H, W), target (H, W): 0 membrane).
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


def crop_offsets(pairs, label_offset, n=24):
    cfg = dict(TASKS["membrane"], crop=64, batch=n, elastic=0.0, scale=(1.0, 1.0),
               angle=0.0, label_offset=label_offset)
    x, y = sample_batch(pairs, cfg, torch.Generator().manual_seed(0))
    return np.array([
        phase_cross_correlation(ndi.gaussian_filter(1 - x[i, 0].numpy(), 1.0),
                                ndi.gaussian_filter((y[i] == 0).numpy().astype(np.float32), 1.0),
                                upsample_factor=10, normalization=None)[0]
        for i in range(n)
    ])


def test_measure_label_offset_recovers_a_known_shift():
    for shift in [(1, 0), (0, -1), (2, 1)]:
        pairs = [membrane_pair(shift, seed=s) for s in range(3)]
        assert np.allclose(measure_label_offset(pairs), shift, atol=0.15), shift


def test_aligned_crops_keep_the_label_offset_through_flips_and_turns():
    pairs = [membrane_pair((1, 0), seed=s) for s in range(3)]
    kept = crop_offsets(pairs, (1.0, 0.0))
    # Each small crop measures within half a pixel; together they agree closely.
    assert np.allclose(kept, (1, 0), atol=0.5)
    assert np.allclose(kept.mean(axis=0), (1, 0), atol=0.1)
    # Without it, flips and quarter turns point the offset every which way.
    turned = crop_offsets(pairs, None)
    assert (turned[:, 0] < -0.5).sum() >= 3 and (np.abs(turned[:, 1]) > 0.5).sum() >= 3


# ---------------------------------------------------------------- a whole run


@pytest.mark.parametrize("args, message", [
    (["--base", "0"], "--base must be a positive whole number"),
    (["--iters", "-5"], "--iters must be a positive whole number"),
    (["--set", "colour=1"], "expected KEY=VALUE with KEY one of elastic"),
    (["--set", "ema=fast"], "'fast' is not a number"),
    (["--set", "dropout=1.5"], "ema and dropout must be in [0, 1)"),
])
def test_bad_arguments_get_one_clear_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        main(["--task", "membrane", "--data", str(DATA), "--out", str(tmp_path), *args])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_data_that_is_not_the_dataset_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--task", "horse", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    assert "is not the horse dataset: expected the folders rgb and figure_ground" \
        in capsys.readouterr().err


def _train(out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "models.train", "--task", "membrane", "--data", str(DATA),
           "--out", str(out), "--iters", "3", "--base", "4", "--threads", "1", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.data
def test_training_script_writes_a_card_and_repeats_itself_exactly(tmp_path):
    """Two runs with the same seed give the same weights: the schedule is by iterations."""
    if not DATA.is_dir():
        pytest.fail(f"the membrane data is missing: expected {DATA}")
    runs = [_train(tmp_path / name) for name in ("a", "b")]
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
    other = _train(tmp_path / "c", "--seed", "1")
    assert other.returncode == 0, other.stderr[-2000:]
    c = torch.load(tmp_path / "c" / "membrane.pt", weights_only=True)
    assert not all(torch.equal(a[k], c[k]) for k in a)
