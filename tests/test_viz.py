"""Pictures: shapes, colours where the answer is known, figures built without error."""

import ast
from pathlib import Path

import numpy as np
import pytest

from segcore import _parallel, metrics, segment, synthetic, viz


def test_overlay_blends_only_labelled_pixels():
    img = np.full((4, 4, 1), 0.5, np.float32)
    labels = np.zeros((4, 4), np.int32)
    labels[:2] = 1
    out = viz.overlay(img, labels, alpha=1.0, show_boundaries=False)
    np.testing.assert_allclose(out[3, 3], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(out[0, 0], viz.label_palette(1)[1])
    half = viz.overlay(img, labels, alpha=0.5, show_boundaries=False)
    np.testing.assert_allclose(half[0, 0], 0.5 * 0.5 + 0.5 * viz.label_palette(1)[1], atol=1e-6)


def test_overlay_rejects_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        viz.overlay(np.zeros((2, 2, 1), np.float32), np.zeros((2, 2), int), alpha=2)
    with pytest.raises(ValueError, match="differ in size"):
        viz.overlay(np.zeros((2, 2, 1), np.float32), np.zeros((3, 2), int))


def test_palette_is_stable_and_distinct():
    a, b = viz.label_palette(5), viz.label_palette(50)
    np.testing.assert_array_equal(a, b[:6])
    assert len({tuple(c) for c in b[1:].round(3)}) == 50


def test_error_map_colours():
    truth = np.array([[2, 2, 1, 1, 3]])
    pred = np.array([[2, 1, 2, 1, 2]])
    kinds = metrics.error_kinds(pred, truth, positive=[2, 3])
    assert kinds.tolist() == [[1, 3, 2, 0, 4]]
    out = viz.error_map(kinds)
    np.testing.assert_allclose(out[0, 0], viz.ERROR_COLORS["tp"])
    np.testing.assert_allclose(out[0, 1], viz.ERROR_COLORS["fn"])
    np.testing.assert_allclose(out[0, 2], viz.ERROR_COLORS["fp"])
    np.testing.assert_allclose(out[0, 3], 0)
    np.testing.assert_allclose(out[0, 4], viz.ERROR_COLORS["wrong"])
    assert "other label" in viz.error_legend(kinds) and "missed" in viz.error_legend(kinds)
    assert "other label" not in viz.error_legend(kinds[:, :4])


def test_histogram_draws_thresholds_and_gmm_curves():
    s = synthetic.shapes((48, 64))
    seg = segment(s.image, "threshold", algorithm="multiotsu", classes=3)
    fig = viz.histogram_figure(s.image, seg)
    xs = sorted(shape.x0 for shape in fig.layout.shapes)
    np.testing.assert_allclose(xs, seg.extras["thresholds"])
    g = segment(s.image, "gmm", k=3, space="gray")
    fig = viz.histogram_figure(s.image, g)
    assert sum(trace.type == "scatter" for trace in fig.data) == 3


def test_probability_and_confusion_figures():
    probs = np.random.default_rng(0).dirichlet([1, 1, 1], size=(10, 12)).astype(np.float32)
    assert len(viz.probability_figure(probs).data) == 3
    with pytest.raises(ValueError, match=r"\(H, W, K\)"):
        viz.probability_figure(probs[..., 0])
    fig = viz.confusion_figure(np.array([[8, 2], [1, 9]]), ["bg", "fg"])
    np.testing.assert_allclose(fig.data[0].z, [[0.8, 0.2], [0.1, 0.9]])


def test_segcore_never_imports_streamlit():
    root = Path(__file__).resolve().parents[1] / "segcore"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


@pytest.mark.parametrize("labels", [
    np.array([[3, 0], [3, 7]], np.int32), np.zeros((0, 3), np.int64), np.array([-2, 5, -2]),
    np.array([True, False]), np.array([2**40, 1], np.int64),
    np.random.default_rng(0).integers(0, 300, (40, 50)).astype(np.uint16)])
def test_label_values_is_np_unique(labels):
    """The counting fast path answers what np.unique answers, whatever the labels."""
    from segcore.registry import label_values

    got = label_values(labels)
    np.testing.assert_array_equal(got, np.unique(labels))
    assert got.dtype == np.unique(labels).dtype


def test_a_results_label_values_are_kept_only_while_its_labels_cannot_change():
    from segcore.registry import Segmentation

    seg = Segmentation(labels=np.array([[0, 4], [2, 2]], np.int32))
    assert seg.label_values.tolist() == [0, 2, 4] and seg.n_regions == 2
    seg.labels[0, 0] = 9  # writable labels: asked again, answered afresh
    assert seg.label_values.tolist() == [2, 4, 9] and seg.n_regions == 3
    seg.labels.flags.writeable = False  # as the app keeps results
    assert seg.label_values is seg.label_values
    seg = Segmentation(labels=np.array([[1, 1]], np.int32))
    seg.labels.flags.writeable = False
    kept = seg.label_values
    seg.labels.flags.writeable = True  # made writable again: not trusted any more
    seg.labels[0, 0] = 3
    assert seg.label_values.tolist() == [1, 3] and kept.tolist() == [1]


def test_display_rgb_is_the_preview_in_eight_bits():
    """The 8-bit resize of a picture for the screen stays within one gray level of
    segcore.io.preview's float resize (the same filter)."""
    from segcore.io import preview

    rng = np.random.default_rng(1)
    img = rng.random((300, 420, 3)).astype(np.float32)
    shown = viz.display_rgb(img, side=200)
    scale = 200 / 420  # the longer side goes to 200 pixels
    expected = viz.to_uint8(preview(img, max_pixels=round(300 * scale) * round(420 * scale)))
    assert shown.shape == expected.shape
    assert np.abs(shown.astype(int) - expected).max() <= 1
    gray8 = (img[:, :, 0] * 255).astype(np.uint8)
    np.testing.assert_array_equal(viz.display_rgb(gray8, side=1000)[..., 0], gray8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_uint8_in_blocks_equals_the_plain_formula(dtype):
    # Large enough to run in blocks on every core; out-of-range values and halves.
    rng = np.random.default_rng(5)
    image = rng.uniform(-0.2, 1.2, (700, 900, 3)).astype(dtype)
    image[0, :6, 0] = [0.5 / 255, 1.5 / 255, 2.5 / 255, 0.0, 1.0, 254.5 / 255]
    plain = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(viz.to_uint8(image), plain)
    np.testing.assert_array_equal(viz.to_uint8(image[:, :, 0]), plain[:, :, 0])


def test_overlay_of_eight_bit_pixels_is_the_float_blend_rounded(monkeypatch):
    monkeypatch.setattr(_parallel, "MIN_ROWS", 300)  # blocks of rows, as on large pictures
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    labels = rng.integers(0, 5, (60, 80)).astype(np.int32)
    labels[0, 0] = 40  # labels need not be consecutive
    for alpha, lines in [(0.0, False), (0.45, False), (1.0, False), (0.5, True)]:
        fast = viz.overlay(pixels, labels, alpha=alpha, show_boundaries=lines)
        plain = viz.to_uint8(viz.overlay(pixels / np.float32(255), labels, alpha=alpha,
                                         show_boundaries=lines))
        assert fast.dtype == np.uint8
        assert np.abs(fast.astype(int) - plain).max() <= 1, alpha
        # the table of (label, value) blends gives the per-pixel blend's numbers
        with monkeypatch.context() as m:
            m.setattr(viz, "TABLE_LABELS", 0)
            np.testing.assert_array_equal(
                viz.overlay(pixels, labels, alpha=alpha, show_boundaries=lines), fast)
    gray = viz.overlay(pixels[:, :, 0], labels, alpha=0.5, show_boundaries=False)
    assert np.abs(gray.astype(int)
                  - viz.overlay(pixels[:, :, :1].repeat(3, 2), labels, alpha=0.5,
                                show_boundaries=False)).max() == 0


def test_overlay_at_display_size_is_the_displayed_overlay():
    """The app blends labels brought to the display picture by the nearest pixel
    (seglab.cache.overlay_picture) instead of resizing the blended preview: the
    same colours, except where a display pixel mixes two labels."""
    from scipy import ndimage as ndi

    from segcore.io import resize_labels

    img = synthetic.make("shapes").image
    labels = segment(img, "kmeans", k=3).labels
    for side in (120, 200):
        plain = viz.display_rgb(viz.overlay(img, labels, alpha=0.5, show_boundaries=False),
                                side=side)
        picture = viz.display_rgb(img, side=side)
        small = resize_labels(labels, picture.shape[:2])
        fast = viz.overlay(picture, small, alpha=0.5, show_boundaries=False)
        assert fast.shape == plain.shape
        # inside regions: away from label borders by two display pixels
        inside = np.zeros(small.shape, bool)
        for value in np.unique(small):
            inside |= ndi.binary_erosion(small == value, iterations=2)
        assert inside.mean() > 0.5
        assert np.abs(fast.astype(int) - plain)[inside].max() <= 2
