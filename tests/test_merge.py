"""Hierarchical region merging (segcore.methods.merge): exact answers on drawn images,
the cut level, and scikit-image's RAG merging as the reference."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import graph
from test_datasets import shared

from segcore import _memo, get_method, metrics, segment, synthetic
from segcore.datasets import open_dataset
from segcore.methods import merge as merging


def _same_partition(a, b):
    """Whether two label images split the pixels the same way (names aside)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1).shape[1]
    return pairs == len(np.unique(a)) == len(np.unique(b))


def _blocks(rows=6, cols=7, size=4, seed=0):
    """Square blocks numbered 1..rows*cols, each with a random colour."""
    labels = (np.arange(rows * cols).reshape(rows, cols) + 1).repeat(size, 0).repeat(size, 1)
    colours = np.random.default_rng(seed).random((rows * cols + 1, 3))
    return labels.astype(np.int32), colours[labels].astype(np.float32)


#: The colour gradient's own best setting on BSDS500 train (before the learned map,
#: whose strengths run from 0 to 1, became the default with a cut level of its own).
GRADIENT = dict(boundary="gradient", cut_level=0.0316, colour_weight=0.5, size_weight=0.4)


# The colour gradient finds a drawn edge to the pixel. The learned map is a network's
# estimate, made at BSDS's size (481 px on the longer side, so a 256 px drawing is
# enlarged for it and its answer shrunk back): its edges land within about a pixel.
@pytest.mark.parametrize("settings, least", [(GRADIENT, 0.99), ({}, 0.97)],
                         ids=["gradient", "learned"])
@pytest.mark.parametrize("name", ["shapes", "colour_shapes"])
def test_drawn_shapes_are_found(name, settings, least):
    s = getattr(synthetic, name)()
    seg = segment(s.image, "merge", **settings)
    assert seg.n_regions == len(np.unique(s.truth))
    for region in np.unique(s.truth):
        inside = s.truth == region
        found = np.bincount(seg.labels[inside]).argmax()
        iou = (inside & (seg.labels == found)).sum() / (inside | (seg.labels == found)).sum()
        assert iou > least, (region, iou)


def test_the_learned_map_marks_edges_not_flat_colour():
    s = synthetic.colour_shapes()
    edges = merging.boundary_map(s.image, "learned")
    assert edges.shape == s.truth.shape and 0 <= edges.min() and edges.max() <= 1
    on_edge = ndi.morphological_gradient(s.truth, size=3) > 0
    inside = ndi.binary_erosion(~on_edge, iterations=4)
    assert np.median(edges[on_edge]) > 5 * np.median(edges[inside])


def test_the_blur_shapes_only_the_gradient():
    image = synthetic.colour_shapes().image
    assert get_method("merge").param("sigma").when == ("boundary", ("gradient",))
    _memo.clear()
    learned = segment(image, "merge", sigma=0.5)
    calls = []
    again = segment(image, "merge", sigma=3.0, progress=calls.append)
    assert not calls  # the learned map ignores the blur: the same merge order is reused
    np.testing.assert_array_equal(learned.labels, again.labels)
    sharp, blurred = (merging.boundary_map(image, "gradient", sigma=s) for s in (0.5, 3.0))
    assert blurred.max() < 0.7 * sharp.max()
    with pytest.raises(ValueError, match="boundary must be 'learned' or 'gradient'"):
        merging.boundary_map(image, "canny")


def test_a_models_folder_without_the_boundary_model_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGLAB_MODELS", str(tmp_path))
    image = synthetic.colour_shapes().image
    _memo.clear()
    with pytest.raises(ValueError, match="boundary model contours.pt is missing from .*"
                                         "boundary=gradient"):
        segment(image, "merge")
    assert segment(image, "merge", **GRADIENT).n_regions == 4


@pytest.mark.data
def test_learned_boundaries_cover_bsds_val_photos_better_than_the_gradient():
    """The registry defaults against the colour gradient at its own best setting, on
    the first 20 val photos (measured: 0.565 against 0.509; one photo in four goes the
    other way); the README's table has all 100 (0.609 against 0.511)."""
    data = open_dataset(shared("bsds500"), split="val")
    learned, gradient = [], []
    for item in data.select(list(data.names[:20])):
        learned.append(metrics.covering(segment(item.image, "merge").labels, item.truths))
        old = segment(item.image, "merge", **GRADIENT)
        gradient.append(metrics.covering(old.labels, item.truths))
    assert np.mean(learned) > np.mean(gradient) + 0.03, (learned, gradient)


@pytest.mark.parametrize("image", [np.full((20, 30, 1), 0.4, np.float32),
                                   np.full((20, 30, 3), 0.7, np.float32),
                                   np.zeros((2, 2, 1), np.float32)], ids=["gray", "rgb", "2x2"])
def test_a_constant_image_is_one_region(image):
    seg = segment(image, "merge", cut_level=0.001)
    assert seg.n_regions == 1 and seg.labels.min() == 1


@pytest.mark.parametrize("shape", [(2, 3, 1), (3, 5, 3), (7, 4, 3)])
def test_tiny_images(shape):
    image = np.random.default_rng(1).random(shape).astype(np.float32)
    seg = segment(image, "merge")
    assert seg.labels.shape == shape[:2] and seg.labels.min() >= 1


def test_more_merging_gives_fewer_nested_regions():
    image = synthetic.noisy((96, 96), sigma=0.1).image
    tree = merging.hierarchy(image)
    assert np.all(np.diff(tree.levels) >= 0)
    assert len(tree.merges) == tree.basins.max() - 1  # merged to one region in the end
    previous = tree.basins
    for level in np.geomspace(0.001, 1.0, 12):
        labels = merging.cut(tree, level=level)
        assert len(np.unique(labels)) <= len(np.unique(previous))
        # Each region of the finer cut lies inside one region of the coarser cut.
        assert np.unique(np.stack([previous.ravel(), labels.ravel()]), axis=1).shape[1] == \
            len(np.unique(previous))
        previous = labels
    assert len(np.unique(merging.cut(tree, level=1e9))) == 1


@pytest.mark.parametrize("boundary", ["gradient", "learned"])
def test_a_number_of_regions_is_met(boundary):
    image = synthetic.noisy((96, 96), sigma=0.1).image
    n_basins = segment(image, "merge", boundary=boundary).extras["n_basins"]
    assert n_basins > 8
    for n in (1, 2, 5, 8):
        assert segment(image, "merge", boundary=boundary, n_regions=n).n_regions == n
    assert segment(image, "merge", boundary=boundary, n_regions=1000).n_regions == n_basins


def test_boundary_graph_equals_skimage_rag_boundary():
    labels, _ = _blocks()
    edge_map = np.random.default_rng(2).random(labels.shape)
    pairs, total, count = merging.boundary_stats(labels, edge_map)
    rag = graph.rag_boundary(labels, edge_map, connectivity=1)
    assert rag.number_of_edges() == len(pairs)
    for (a, b), t, c in zip(pairs, total, count):
        edge = rag[a + 1][b + 1]
        assert edge["count"] == c
        assert edge["weight"] == pytest.approx(t / c, rel=1e-12)


def _weight_boundary(rag, src, dst, n):
    # scikit-image's gallery example (plot_boundary_merge): the count-weighted mean.
    default = {"weight": 0.0, "count": 0}
    count_src, count_dst = rag[src].get(n, default)["count"], rag[dst].get(n, default)["count"]
    weight_src, weight_dst = rag[src].get(n, default)["weight"], rag[dst].get(n, default)["weight"]
    count = count_src + count_dst
    return {"count": count, "weight": (count_src * weight_src + count_dst * weight_dst) / count}


def _weight_mean_color(rag, src, dst, n):
    # scikit-image's gallery example (plot_rag_merge).
    return {"weight": np.linalg.norm(rag.nodes[dst]["mean color"] - rag.nodes[n]["mean color"])}


def _merge_mean_color(rag, src, dst):
    node = rag.nodes[dst]
    node["total color"] += rag.nodes[src]["total color"]
    node["pixel count"] += rag.nodes[src]["pixel count"]
    node["mean color"] = node["total color"] / node["pixel count"]


def _our_tree(labels, features, edge_map, colour_weight):
    pairs, total, count = merging.boundary_stats(labels, edge_map)
    sizes = np.bincount(labels.ravel() - 1).astype(float)
    sums = np.stack([np.bincount(labels.ravel() - 1, weights=features[..., c].ravel())
                     for c in range(features.shape[2])], 1)
    merges, costs = merging.merge_order(pairs, total, count, sums, sizes,
                                        colour_weight=colour_weight, size_weight=0.0)
    return merging.Hierarchy(labels, merges, np.maximum.accumulate(costs))


@pytest.mark.parametrize("thresh", [0.4, 0.45, 0.5, 0.55, 0.6])
def test_boundary_merging_equals_skimage_merge_hierarchical(thresh):
    labels, image = _blocks(seed=3)
    edge_map = np.random.default_rng(4).random(labels.shape)
    rag = graph.rag_boundary(labels, edge_map, connectivity=1)
    theirs = graph.merge_hierarchical(labels, rag, thresh=thresh, rag_copy=False,
                                      in_place_merge=True, merge_func=lambda *a: None,
                                      weight_func=_weight_boundary)
    ours = merging.cut(_our_tree(labels, image, edge_map, 0.0), level=thresh)
    assert 1 < len(np.unique(theirs)) < labels.max()  # a real test: some merged, not all
    assert _same_partition(ours, theirs)


@pytest.mark.parametrize("thresh", [0.2, 0.35, 0.5, 0.7])
def test_colour_merging_equals_skimage_merge_hierarchical(thresh):
    labels, image = _blocks(seed=5)
    rag = graph.rag_mean_color(image.astype(np.float64), labels, connectivity=1, mode="distance")
    theirs = graph.merge_hierarchical(labels, rag, thresh=thresh, rag_copy=False,
                                      in_place_merge=False, merge_func=_merge_mean_color,
                                      weight_func=_weight_mean_color)
    ours = merging.cut(_our_tree(labels, image, np.zeros(labels.shape), 1.0), level=thresh)
    assert 1 < len(np.unique(theirs)) < labels.max()
    assert _same_partition(ours, theirs)


def test_moving_the_cut_reuses_the_hierarchy_and_equals_a_fresh_run():
    image = synthetic.noisy((64, 64), sigma=0.1).image
    _memo.clear()
    segment(image, "merge", cut_level=0.01)
    calls = []
    kept = segment(image, "merge", cut_level=0.1, progress=calls.append)
    assert not calls  # the merge order came from the store: nothing to report
    _memo.clear()
    fresh = segment(image, "merge", cut_level=0.1)
    np.testing.assert_array_equal(kept.labels, fresh.labels)


def test_progress_is_reported_and_an_exception_in_it_stops_the_run():
    image = synthetic.noisy((64, 64), sigma=0.1).image
    _memo.clear()
    seen = []
    segment(image, "merge", progress=seen.append)
    assert seen and all(0 <= f <= 1 for f in seen) and seen == sorted(seen)

    class Stop(Exception):
        pass

    def stop(fraction):
        raise Stop

    _memo.clear()
    with pytest.raises(Stop):
        segment(image, "merge", progress=stop)


def test_many_basins_are_first_merged_in_rounds(monkeypatch):
    image = synthetic.noisy((96, 96), sigma=0.1).image
    n_basins = int(merging.hierarchy(image, depth=0.001).basins.max())
    monkeypatch.setattr(merging, "MAX_BASINS", 40)
    tree = merging.hierarchy(image, depth=0.001)
    assert tree.basins.max() == n_basins > 40
    assert len(tree.merges) == n_basins - 1 and np.all(np.diff(tree.levels) >= 0)
    # The rounds come first, at level 0: the finest cut has at most MAX_BASINS regions.
    finest = merging.cut(tree, level=1e-12)
    assert 1 < len(np.unique(finest)) <= 40


def test_large_images_find_their_basins_on_a_smaller_gradient(monkeypatch):
    s = synthetic.colour_shapes()
    monkeypatch.setattr(merging, "MARKER_PIXELS", 5000)
    _memo.clear()
    seg = segment(s.image, "merge", **GRADIENT)
    assert seg.n_regions == len(np.unique(s.truth))
    assert (seg.labels == seg.labels[s.truth == 1][0]).mean() == pytest.approx(
        (s.truth == 1).mean(), abs=0.01)
