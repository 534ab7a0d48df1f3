"""Dataset readers (segcore.datasets) on tiny generated folders of each layout and on the
real folders in ../shared/data, and the BSDS ODS/OIS scoring (segcore.benchmark)."""

import itertools
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from segcore import metrics, synthetic
from segcore.benchmark import image_scores, ods_ois, region_scores, sweep_scores
from segcore.datasets import Item, open_dataset
from segcore.io import ImageError, save_png

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared/data"


# ---------------------------------------------------------------- tiny folders


def write_bsds(root: Path, splits: dict) -> dict:
    """A BSDS-shaped folder: ``splits = {split: {id: n_truths}}``. Returns the truths
    written, ``{id: [truth, ...]}``, each a (6, 8) uint16 like the real ones."""
    rng = np.random.default_rng(0)
    written = {}
    for split, ids in splits.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "groundTruth" / split).mkdir(parents=True)
        for name, n in ids.items():
            Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).save(
                root / "images" / split / f"{name}.jpg")
            truths = [rng.integers(1, 4, (6, 8)).astype(np.uint16) for _ in range(n)]
            cell = np.empty((1, n), object)
            for k, t in enumerate(truths):
                cell[0, k] = {"Segmentation": t, "Boundaries": np.zeros((6, 8), np.uint8)}
            scipy.io.savemat(root / "groundTruth" / split / f"{name}.mat", {"groundTruth": cell})
            written[name] = truths
    return written


def write_pairs(root: Path, names, *, images="images", masks="masks", mask_ext="png",
                suffix="", shape=(6, 8)):
    (root / images).mkdir(parents=True, exist_ok=True)
    (root / masks).mkdir(parents=True, exist_ok=True)
    mask = np.zeros(shape, np.uint8)
    mask[:, shape[1] // 2:] = 255
    for name in names:
        save_png(root / images / f"{name}.png", (mask // 3 + 20).astype(np.uint8))
        Image.fromarray(mask).save(root / masks / f"{name}{suffix}.{mask_ext}")
    return mask


def write_membrane_slices(root: Path, n: int) -> list:
    rng = np.random.default_rng(1)
    (root / "train/image").mkdir(parents=True)
    (root / "train/label").mkdir(parents=True)
    (root / "test/image").mkdir(parents=True)
    slices = []
    for k in range(n):
        image = rng.integers(1, 253, (8, 10), dtype=np.uint8)
        label = np.where(rng.random((8, 10)) < 0.25, 0, 255).astype(np.uint8)
        save_png(root / f"train/image/{k}.png", image)
        save_png(root / f"train/label/{k}.png", label)
        save_png(root / f"test/image/{k}.png", image)
        slices.append((image, label))
    return slices


def test_bsds_folder_reads_every_annotator_by_split(tmp_path):
    written = write_bsds(tmp_path, {"train": {"20": 4, "3": 5}, "val": {"7": 9}})
    (tmp_path / "images/val/99.jpg").write_bytes((tmp_path / "images/val/7.jpg").read_bytes())
    data = open_dataset(tmp_path)
    assert data.layout == "bsds" and data.splits == ("train", "val")
    assert data.names == ("3", "20", "7")  # by split, then by number
    assert data.unmatched == (str(Path("images/val/99.jpg")),)
    for item in data:
        assert item.image.shape == (6, 8, 3) and item.image.dtype == np.float32
        assert [t.dtype for t in item.truths] == [np.int32] * len(written[item.name])
        assert all(np.array_equal(a, b) for a, b in zip(item.truths, written[item.name]))
        assert item.ignore is None
    val = open_dataset(tmp_path, split="val")
    assert len(val) == 1 and val[0].split == "val" and len(val[0].truths) == 9
    assert data.with_split("train").names == ("3", "20")
    assert data.with_split("train").with_split(None).names == data.names


def test_bsds_truths_of_another_size_are_refused_when_read(tmp_path):
    write_bsds(tmp_path, {"val": {"1": 4}})
    cell = np.empty((1, 1), object)
    cell[0, 0] = {"Segmentation": np.ones((5, 8), np.uint16)}
    scipy.io.savemat(tmp_path / "groundTruth/val/1.mat", {"groundTruth": cell})
    data = open_dataset(tmp_path)  # lazy: nothing is read yet
    with pytest.raises(ImageError, match=r"1.mat' is 8 × 5 pixels but its image is 8 × 6"):
        data[0]
    (tmp_path / "groundTruth/val/1.mat").write_bytes(b"not a mat file")
    with pytest.raises(ImageError, match="cannot read the ground truth .*expected a BSDS .mat"):
        data[0]


def test_membrane_slices_split_as_the_project_does(tmp_path):
    slices = write_membrane_slices(tmp_path, 30)
    data = open_dataset(tmp_path)
    assert data.layout == "membrane" and len(data) == 30  # the unlabelled test slices are not items
    assert data.names == tuple(str(k) for k in range(30))
    assert data.with_split("train").names == tuple(str(k) for k in range(25))
    assert open_dataset(tmp_path, split="report").names == ("25", "26", "27", "28", "29")
    item = data["12"]
    image, label = slices[12]
    assert item.split == "train" and item.image.shape == (8, 10, 1)
    assert np.array_equal(item.image[:, :, 0], image.astype(np.float32) / 255)
    # black is membrane (1), white is cell (2)
    assert np.array_equal(item.truth, np.where(label == 255, 2, 1))
    assert [item.name for item in data.select([3, "0"])] == ["3", "0"]
    with pytest.raises(ValueError, match="no item named 30"):
        data.select([30])


def test_a_shorter_membrane_stack_has_no_splits(tmp_path):
    write_membrane_slices(tmp_path, 4)
    data = open_dataset(tmp_path)
    assert data.splits == () and len(data) == 4 and data[0].split is None
    with pytest.raises(ValueError, match="split 'train' is not in the membrane dataset .*it has "
                                         "no splits"):
        data.with_split("train")


def test_membrane_tiff_stacks_read_as_the_slices(tmp_path):
    slices = write_membrane_slices(tmp_path / "png", 30)
    stack = tmp_path / "tif"
    stack.mkdir()
    for name, which in (("train-volume.tif", 0), ("train-labels.tif", 1)):
        pages = [Image.fromarray(s[which]) for s in slices]
        pages[0].save(stack / name, save_all=True, append_images=pages[1:])
    from_pages, from_files = open_dataset(stack), open_dataset(tmp_path / "png")
    assert from_pages.layout == "membrane" and from_pages.names == from_files.names
    assert from_pages.splits == ("train", "report")
    for k in (0, 17, 29):
        a, b = from_pages[k], from_files[k]
        assert np.array_equal(a.image, b.image) and np.array_equal(a.truth, b.truth)
    pages = [Image.fromarray(s[1]) for s in slices[:3]]
    pages[0].save(stack / "train-labels.tif", save_all=True, append_images=pages[1:])
    with pytest.raises(ValueError, match="has 30 slices but .* has 3"):
        open_dataset(stack)


def test_pairs_match_by_stem_and_by_mask_suffix(tmp_path):
    mask = write_pairs(tmp_path, ["b", "a10", "a9"])
    write_pairs(tmp_path, ["c"], suffix="_mask")
    (tmp_path / "images/lonely.png").write_bytes((tmp_path / "images/b.png").read_bytes())
    (tmp_path / "masks/.hidden.png").write_bytes(b"")
    (tmp_path / "masks/notes.txt").write_text("not an image")
    data = open_dataset(tmp_path)
    assert data.layout == "pairs" and data.names == ("a9", "a10", "b", "c")
    assert data.unmatched == (str(Path("images/lonely.png")),)
    item = data["c"]
    assert item.image.shape == (6, 8, 1) and len(item.truths) == 1
    assert np.array_equal(item.truth, np.where(mask == 255, 2, 1))


def test_pairs_in_other_folders_are_named(tmp_path):
    write_pairs(tmp_path, ["x"], images="photos_2024", masks="truth_png")
    with pytest.raises(ValueError, match="not a dataset folder we know.*found photos_2024/, "
                                         "truth_png/ and 0 file"):
        open_dataset(tmp_path)
    data = open_dataset(tmp_path, images="photos_2024", masks="truth_png")
    assert data.names == ("x",)
    with pytest.raises(ValueError, match="give both images= and masks="):
        open_dataset(tmp_path, images="photos_2024")
    with pytest.raises(ValueError, match="no such folder"):
        open_dataset(tmp_path, images="photos_2024", masks="nowhere")


def test_lossy_masks_are_cut_at_half_range_and_large_images_resized(tmp_path):
    """The Weizmann layout: rgb/ larger than figure_ground/, masks as JPEG."""
    rng = np.random.default_rng(2)
    (tmp_path / "rgb").mkdir()
    (tmp_path / "figure_ground").mkdir()
    (tmp_path / "gray").mkdir()  # not taken for the images: rgb/ is
    rgb = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    save_png(tmp_path / "rgb/horse001.png", rgb)
    mask = np.zeros((20, 30), np.uint8)
    mask[5:15, 10:25] = 255
    Image.fromarray(mask).save(tmp_path / "figure_ground/horse001.jpg", quality=60)
    with Image.open(tmp_path / "figure_ground/horse001.jpg") as img:
        stored = np.asarray(img)
    assert len(np.unique(stored)) > 2  # JPEG blurs the two values
    item = open_dataset(tmp_path)[0]
    assert np.array_equal(item.truth, np.where(stored > 127, 2, 1))
    # Resized as Pillow resizes the 8-bit file (the training script did exactly this).
    small = np.asarray(Image.fromarray(rgb).resize((30, 20), Image.Resampling.BOX), np.float32)
    assert item.image.shape == (20, 30, 3) and np.array_equal(item.image, small / 255)


def test_16_bit_images_are_resized_in_floats(tmp_path):
    write_pairs(tmp_path, ["a"])
    wide = np.linspace(0, 65535, 12 * 16).reshape(12, 16).astype(np.uint16)
    save_png(tmp_path / "images/a.png", wide)
    item = open_dataset(tmp_path)[0]
    assert item.image.shape == (6, 8, 1) and item.image.dtype == np.float32
    means = (wide / 65535.0).reshape(6, 2, 8, 2).mean(axis=(1, 3))
    assert np.allclose(item.image[:, :, 0], means, atol=1e-6)


def test_a_mask_of_another_shape_is_refused_when_read(tmp_path):
    write_pairs(tmp_path, ["a"])
    save_png(tmp_path / "images/a.png", np.zeros((6, 20), np.uint8))
    data = open_dataset(tmp_path)
    with pytest.raises(ImageError, match=r"a.png' is 20 × 6 pixels but its mask .* is 8 × 6: "
                                         "not the same shape"):
        data[0]


def test_mask_values_follow_load_mask(tmp_path):
    write_pairs(tmp_path, ["flat", "labels"])
    save_png(tmp_path / "masks/flat.png", np.full((6, 8), 255, np.uint8))
    labels = np.zeros((6, 8), np.uint8)
    labels[:, 2:4], labels[:, 4:] = 1, 7
    save_png(tmp_path / "masks/labels.png", labels)
    data = open_dataset(tmp_path)
    assert np.array_equal(data["flat"].truth, np.ones((6, 8)))  # one value: one region
    assert np.array_equal(data["labels"].truth, labels) and data["labels"].ignore is None
    ignoring = open_dataset(tmp_path, zero="ignore")["labels"]
    assert ignoring.ignore == 0 and np.array_equal(ignoring.truth, labels)


def test_a_broken_file_is_named_when_its_item_is_read(tmp_path):
    write_pairs(tmp_path, ["a", "b"])
    (tmp_path / "images/b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    data = open_dataset(tmp_path)
    assert len(data) == 2 and data["a"].name == "a"
    with pytest.raises(ImageError, match="b.png"):
        data["b"]
    (tmp_path / "masks/a.png").write_bytes(b"GIF89a broken")
    with pytest.raises(ImageError, match="a.png"):
        data["a"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nowhere", "not found"),
    (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "a file, not a folder"),
    (lambda p: (p / "stuff").mkdir() or p, "not a dataset folder we know: expected images/ and "
                                           "groundTruth/ .*found stuff/ and 0 file"),
])
def test_what_is_not_a_dataset_says_what_was_expected(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        open_dataset(make(tmp_path))


def test_wrong_options_are_refused(tmp_path):
    write_pairs(tmp_path, ["a"])
    with pytest.raises(ValueError, match="layout must be one of bsds, membrane, pairs"):
        open_dataset(tmp_path, layout="voc")
    with pytest.raises(ValueError, match="zero must be 'class' or 'ignore'"):
        open_dataset(tmp_path, zero="drop")
    with pytest.raises(ValueError, match="split 'val' is not in the pairs dataset"):
        open_dataset(tmp_path, split="val")
    (tmp_path / "groundTruth").mkdir()
    with pytest.raises(ValueError, match="read as the bsds layout has no image with its "
                                         "ground truth"):
        open_dataset(tmp_path, layout="bsds")
    with pytest.raises(KeyError, match="no item named 'zz'"):
        open_dataset(tmp_path, layout="pairs")["zz"]


def test_a_dataset_travels_to_worker_processes(tmp_path):
    write_pairs(tmp_path, ["a", "b"])
    data = open_dataset(tmp_path).select(["b"])
    again = pickle.loads(pickle.dumps(data))
    assert again.names == ("b",) and np.array_equal(again[0].truth, data[0].truth)


# ---------------------------------------------------------------- ODS and OIS


def brute_force(table, weights, lower):
    """ODS: the best of the assignments giving every image the same setting; OIS: the
    best of all S**N assignments of a setting to each image."""
    table = np.asarray(table, float)
    weights = np.asarray(weights, float) / np.sum(weights)
    pick = min if lower else max
    n_settings, n_images = table.shape
    mean = lambda choice: sum(weights[i] * table[s, i] for i, s in enumerate(choice))  # noqa: E731
    ods = pick(mean([s] * n_images) for s in range(n_settings))
    ois = pick(mean(c) for c in itertools.product(range(n_settings), repeat=n_images))
    return ods, ois


@pytest.mark.parametrize("seed", range(6))
def test_ods_and_ois_equal_a_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    n_settings, n_images = rng.integers(1, 5), rng.integers(1, 6)
    table = {"covering": rng.random((n_settings, n_images)),
             "vi": rng.random((n_settings, n_images)) * 4}
    # rounded values make ties, which must not change the numbers
    table["pri"] = np.round(rng.random((n_settings, n_images)), 1)
    pixels = rng.integers(0, 10, n_images) + (np.arange(n_images) == 0)
    found = ods_ois(table, weights={"covering": pixels})
    for measure, weights in (("covering", pixels), ("pri", np.ones(n_images)),
                             ("vi", np.ones(n_images))):
        ods, ois = brute_force(table[measure], weights, lower=measure == "vi")
        assert found[measure]["ods"] == pytest.approx(ods, abs=1e-12)
        assert found[measure]["ois"] == pytest.approx(ois, abs=1e-12)
        r = found[measure]
        assert r["means"][r["ods_setting"]] == r["ods"]
        chosen = np.asarray(table[measure])[r["ois_settings"], np.arange(n_images)]
        assert np.average(chosen, weights=weights) == pytest.approx(r["ois"], abs=1e-12)
        better = (lambda a, b: a <= b) if measure == "vi" else (lambda a, b: a >= b)
        assert better(r["ois"], r["ods"] - 1e-12 if measure != "vi" else r["ods"] + 1e-12)


def test_ods_and_ois_on_a_hand_made_table():
    table = {"covering": [[0.2, 0.8], [0.6, 0.6], [0.9, 0.1]],
             "vi": [[3.0, 1.0], [2.0, 2.0], [1.0, 3.5]]}
    found = ods_ois(table)
    assert found["covering"]["means"] == pytest.approx([0.5, 0.6, 0.5])
    assert (found["covering"]["ods"], found["covering"]["ods_setting"]) == (0.6, 1)
    assert found["covering"]["ois"] == pytest.approx(0.85)
    assert found["covering"]["ois_settings"] == [2, 0]
    # VI: lower is better, ties keep the first setting
    assert (found["vi"]["ods"], found["vi"]["ods_setting"]) == (2.0, 0)
    assert found["vi"]["ois"] == 1.0 and found["vi"]["ois_settings"] == [2, 0]
    # everything "higher is better" when asked
    assert ods_ois(table, lower_is_better=())["vi"]["ods"] == pytest.approx(2.25)


def test_pooled_covering_is_the_covering_of_the_images_side_by_side():
    """The BSDS code pools covering's counts over images: with the same number of
    annotators per image, that is the covering of one image made of them all."""
    rng = np.random.default_rng(3)
    shapes = [(5, 7), (9, 4), (6, 6)]
    segs = [rng.integers(1, 4, s) for s in shapes]
    truths = [[rng.integers(1, 3, s), rng.integers(1, 5, s)] for s in shapes]
    scores = [region_scores(s, t) for s, t in zip(segs, truths)]
    pooled = ods_ois({"covering": [[r["covering"] for r in scores]]},
                     weights={"covering": [r["pixels"] for r in scores]})["covering"]["ods"]
    # stack the images along one column, labels kept apart by an offset per image
    width = max(w for _, w in shapes)

    def canvas(parts):
        rows = []
        for k, part in enumerate(parts):
            padded = np.zeros((part.shape[0], width), np.int64)  # 0: unlabelled padding
            padded[:, :part.shape[1]] = part + 10 * k
            rows.append(padded)
        return np.concatenate(rows)

    together = metrics.covering(canvas(segs), [canvas([t[a] for t in truths]) for a in (0, 1)])
    assert pooled == pytest.approx(together, abs=1e-12)
    assert pooled != pytest.approx(np.mean([r["covering"] for r in scores]), abs=1e-6)


@pytest.mark.parametrize("table, weights, message", [
    ({"covering": [0.5, 0.6]}, None, "expected a 2-D table"),
    ({"covering": [[0.5]], "vi": [[1.0, 2.0]]}, None, r"vi: the table is \(1, 2\) but the "
                                                      r"others are \(1, 1\)"),
    ({"covering": [[np.nan]]}, None, "not a finite number"),
    ({"covering": [[0.5, 0.6]]}, {"covering": [1, -1]}, "non-negative"),
    ({"covering": [[0.5, 0.6]]}, {"covering": [0, 0]}, "not all zero"),
    ({"covering": [[0.5, 0.6]]}, {"covering": [1]}, "2 non-negative numbers"),
    ({"covering": [[0.5]]}, {"pri": [1]}, "weights for pri, which the table does not have"),
    ({}, None, "no measure"),
])
def test_ods_ois_refuses_a_table_it_cannot_average(table, weights, message):
    with pytest.raises(ValueError, match=message):
        ods_ois(table, weights=weights)


# ---------------------------------------------------------------- sweeps over a dataset


@pytest.fixture
def items():
    """Two noisy images and one of two flat colours (where k-means refuses k > 2)."""
    out = []
    for k in range(2):
        s = synthetic.noisy((24, 28), sigma=0.05, rng=k)
        out.append(Item(f"im{k}", s.image, [s.truth, np.where(s.truth > 1, 2, 1)]))
    s = synthetic.two_regions((24, 28))
    out.append(Item("flat", s.image, [s.truth, np.ones((24, 28), np.int32)]))
    return out


def test_a_sweep_scores_every_setting_on_every_image_as_the_metrics_do(items):
    from segcore import segment

    grid = [{"k": 2}, {"k": 5}]
    found = sweep_scores(items, "kmeans", grid)
    assert found.covering.shape == (2, 3) and found.names == ("im0", "im1", "flat")
    assert found.failed.tolist() == [[False, False, False], [False, False, True]]
    for s, params in enumerate(grid):
        for i, item in enumerate(items):
            labels = (np.ones((24, 28), np.int32) if found.failed[s, i]  # scored as one region
                      else segment(item.image, "kmeans", **params).labels)
            assert found.covering[s, i] == metrics.covering(labels, item.truths)
            assert found.pri[s, i] == metrics.probabilistic_rand_index(labels, item.truths)
            assert found.vi[s, i] == metrics.bsds_vi(labels, item.truths)
            assert found.regions[s, i] == len(np.unique(labels))
    assert np.isnan(found.seconds[1, 2]) and not np.isnan(found.seconds[0]).any()
    assert found.pixels.tolist() == [2 * 24 * 28] * 3
    summary = found.summary({"covering": 1, "pri": 0, "vi": 1})
    pooled = found.ods_ois()["covering"]["means"]
    assert summary["covering"]["ods"] == pytest.approx(found.covering[1].mean()) == pooled[1]
    assert summary["covering"]["ods_params"] == {"k": 5}
    assert summary["vi"]["ods"] == pytest.approx(found.vi[1].mean())
    assert found.summary()["covering"]["ods"] == max(pooled)
    assert found.at(0)["failed"] == 0 and found.at(1)["failed"] == 1
    assert found.at(1)["seconds"] == pytest.approx(np.mean(found.seconds[1, :2]))


def test_a_sweep_spread_over_workers_gives_the_same_table(items):
    seen = []
    grid = [{"scale": 10.0, "min_size": 50}, {"scale": 300.0, "min_size": 50}]
    alone = sweep_scores(items, "felzenszwalb", grid, progress=seen.append)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert alone.regions.min() >= 2
    with ThreadPoolExecutor(2) as pool:
        spread = sweep_scores(items, "felzenszwalb", grid, map=pool.map)
    for name in ("covering", "pri", "vi", "regions", "failed", "pixels"):
        assert np.array_equal(getattr(alone, name), getattr(spread, name)), name


def test_a_sweep_checks_its_settings_before_running(items):
    with pytest.raises(ValueError, match="has no parameter 'kk'"):
        sweep_scores(items, "kmeans", [{"k": 2}, {"kk": 3}])
    with pytest.raises(ValueError, match="needs seeds"):
        sweep_scores(items, "region_growing", [{}])
    with pytest.raises(ValueError, match="no setting"):
        sweep_scores(items, "kmeans", [])
    with pytest.raises(ValueError, match="dataset is empty"):
        sweep_scores([], "kmeans", [{}])


def test_image_scores_match_region_scores(items):
    from segcore import segment

    item = items[0]
    out = image_scores(item.image, item.truths, "gmm", [{"k": 2}])
    labels = segment(item.image, "gmm", k=2).labels
    expected = region_scores(labels, item.truths)
    assert {m: out[m][0] for m in ("covering", "pri", "vi")} == {
        m: expected[m] for m in ("covering", "pri", "vi")}
    assert out["pixels"] == expected["pixels"] == 2 * 24 * 28
    assert np.isnan(out["iou"]).all(), "IoU is for one truth per image, not BSDS's several"


def test_image_scores_give_iou_and_dice_of_a_mask_as_the_evaluate_page_does():
    from segcore import segment

    s = synthetic.make("blobs")
    truth = s.truth.copy()
    truth[:4] = 0  # unlabelled rows, left out
    out = image_scores(s.image, [truth], "kmeans", [{"k": 2}, {"k": 3}], ignore=0)
    for index, k in enumerate((2, 3)):
        labels = segment(s.image, "kmeans", k=k).labels
        expected = metrics.score(labels, truth, match="hungarian", ignore=0)
        assert out["iou"][index] == expected["iou"] and out["dice"][index] == expected["dice"]
    found = sweep_scores([Item("b", s.image, [truth], ignore=0)], "kmeans", [{"k": 2}])
    assert found.iou[0, 0] == out["iou"][0] and found.at(0)["iou"] == out["iou"][0]


# ---------------------------------------------------------------- the real folders


def shared(name: str) -> Path:
    """A dataset beside the checkout; missing data fails unless SEGLAB_ALLOW_MISSING_DATA
    is set (as tests/conftest.py's membrane_data), so a run cannot pass by skipping."""
    path = SHARED_DATA / name
    if not path.is_dir():
        if os.environ.get("SEGLAB_ALLOW_MISSING_DATA"):
            pytest.skip(f"{path} is missing and SEGLAB_ALLOW_MISSING_DATA is set")
        pytest.fail(f"the dataset is missing: expected {path}")
    return path


@pytest.mark.data
def test_bsds500_train_and_val():
    data = open_dataset(shared("bsds500"))
    assert data.layout == "bsds" and data.splits == ("train", "val") and not data.unmatched
    assert len(data.with_split("train")) == 200 and len(data.with_split("val")) == 100
    for item in data.select(data.names[::15]):  # 20 of the 300
        assert item.image.shape in ((321, 481, 3), (481, 321, 3))
        assert item.image.dtype == np.float32 and 0 <= item.image.min() < item.image.max() <= 1
        assert 4 <= len(item.truths) <= 9, item.name
        for truth in item.truths:
            assert truth.shape == item.shape and truth.dtype == np.int32
            assert truth.min() == 1 and set(np.unique(truth)) == set(range(1, truth.max() + 1))


@pytest.mark.data
def test_isbi_membrane_slices():
    data = open_dataset(shared("isbi2012-membrane"))
    assert data.layout == "membrane" and len(data) == 30
    assert len(data.with_split("train")) == 25 and data.with_split("report").names[0] == "25"
    membrane = []
    for item in data:
        assert item.image.shape == (512, 512, 1) and item.image.dtype == np.float32
        assert set(np.unique(item.truth)) == {1, 2}
        membrane.append(np.mean(item.truth == 1))
    assert 0.18 < np.mean(membrane) < 0.26  # the README: about 22 % membrane


@pytest.mark.data
def test_weizmann_horses():
    data = open_dataset(shared("weizmann-horse"))
    assert data.layout == "pairs" and len(data) == 268 and not data.unmatched
    assert data.names[0] == "horse001" and data.names[-1] == "horse268"
    for item in data.select(data.names[::20]):
        assert item.image.ndim == 3 and item.image.shape[2] == 3
        with Image.open(shared("weizmann-horse") / f"figure_ground/{item.name}.jpg") as mask:
            assert item.shape == (mask.height, mask.width)
        assert set(np.unique(item.truth)) == {1, 2}
        assert 0.04 < np.mean(item.truth == 2) < 0.45  # the README: 5 % to 43 % horse


# ---------------------------------------------------------------- a dataset uploaded as a zip


def _zip(entries: dict) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _png_bytes(array) -> bytes:
    import io

    buf = io.BytesIO()
    save_png(buf, array)
    return buf.getvalue()


def test_a_zipped_pairs_folder_opens_as_a_dataset(tmp_path):
    from segcore.datasets import extract_zip

    s = synthetic.make("blobs")
    image = (s.image[:, :, 0] * 255).astype(np.uint8)
    mask = np.where(s.truth == 2, 255, 0).astype(np.uint8)
    data = _zip({"cells/images/a.png": _png_bytes(image), "cells/masks/a.png": _png_bytes(mask),
                 "cells/images/b.png": _png_bytes(image[::-1]),
                 "cells/masks/b.png": _png_bytes(mask[::-1]),
                 "cells/../../outside.png": b"x", "cells/.hidden.png": b"x",
                 "__MACOSX/cells/._a.png": b"x", "cells/readme.md": b"x"})
    root = extract_zip(data, tmp_path)
    assert root == tmp_path / "cells"
    assert not (tmp_path.parent / "outside.png").exists()
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["cells/images/a.png", "cells/images/b.png", "cells/masks/a.png",
                       "cells/masks/b.png"]
    extract_zip(_zip({"/etc/abs.png": b"x", "a<b>:c.png": b"x"}), tmp_path / "other")
    assert sorted(p.name for p in (tmp_path / "other").rglob("*.png")) == ["a_b__c.png", "abs.png"]
    assert (tmp_path / "other" / "etc" / "abs.png").is_file(), "an absolute name stays inside"
    ds = open_dataset(root)
    assert ds.names == ("a", "b")
    np.testing.assert_array_equal(ds["a"].truth, np.where(mask == 255, 2, 1))


def test_a_zip_past_the_limits_or_not_a_zip_is_refused_in_words(tmp_path, monkeypatch):
    from segcore import datasets

    with pytest.raises(ValueError, match="not a zip archive"):
        datasets.extract_zip(b"PK\x03\x04 broken", tmp_path)
    with pytest.raises(ValueError, match="holds no image"):
        datasets.extract_zip(_zip({"notes.txt": b"x"}), tmp_path)
    monkeypatch.setattr(datasets, "MAX_ZIP_FILES", 3)
    with pytest.raises(ValueError, match="holds 4 files; at most 3"):
        datasets.extract_zip(_zip({f"{k}.png": b"x" for k in range(4)}), tmp_path)
    monkeypatch.setattr(datasets, "MAX_ZIP_BYTES", 1 << 20)
    bomb = _zip({"bomb.png": bytes(3 << 20)})  # 3 MB of zeros: a few kB zipped
    assert len(bomb) < 50_000
    with pytest.raises(ValueError, match="more than 1 MB"):
        datasets.extract_zip(bomb, tmp_path / "b")
