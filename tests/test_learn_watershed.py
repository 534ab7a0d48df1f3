"""The watershed lesson: its terrain, markers and level-by-level flooding checked
against scikit-image and scipy, and its page driven through every control."""

import numpy as np
import pytest
from conftest import assert_no_exception
from scipy import ndimage as ndi
from skimage import color, filters, segmentation

import segcore
from segcore import learn, metrics, samples, synthetic
from segcore import io as sio
from segcore.learn import watershed as lw

PAGE = "pages/learn/watershed.py"


@pytest.fixture(scope="module")
def cells():
    """Touching bright cells with exact truth, small enough for every level."""
    s = synthetic.blobs((72, 72), n=6)
    return s.image, s.truth


@pytest.fixture(scope="module")
def coins():
    """A corner of the lesson's photo: 8-bit steps make flat minima (plateaus)."""
    return sio.load_image(samples.skimage_png("coins"))[:64, :80]


def _reached(elevation, markers, level):
    """The flooding rule, independently: pixels at most ``level`` connected to a
    marker through such pixels."""
    low = elevation <= level
    return ndi.binary_propagation((markers > 0) & low, mask=low)


# --------------------------------------------------------------------------- terrain and markers


def test_the_terrain_is_the_sobel_gradient_of_the_blurred_gray_image():
    rgb = synthetic.colour_shapes((40, 50)).image
    expected = filters.sobel(filters.gaussian(color.rgb2gray(rgb), sigma=1.5))
    np.testing.assert_allclose(lw.relief(rgb, sigma=1.5), expected, atol=1e-6)
    gray = synthetic.shapes((40, 50)).image
    np.testing.assert_array_equal(lw.relief(gray, sigma=0), filters.sobel(gray[:, :, 0]))


def test_a_negative_blur_is_refused():
    with pytest.raises(ValueError, match="sigma must be a number >= 0"):
        lw.relief(np.zeros((4, 4, 1), np.float32), sigma=-1)


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_without_markers_every_local_minimum_is_a_basin_as_in_scikit_image(coins, sigma):
    elevation = lw.relief(coins, sigma=sigma)
    markers = lw.minima_markers(elevation)
    unmarked = segmentation.watershed(elevation)  # scikit-image floods from the minima
    assert int(markers.max()) == int(unmarked.max()) > 10
    np.testing.assert_array_equal(segmentation.watershed(elevation, markers), unmarked)
    # Every marker sits on pixels no 4-neighbour of which is lower.
    lowest_around = ndi.minimum_filter(elevation, footprint=ndi.generate_binary_structure(2, 1),
                                       mode="nearest")
    assert np.all(elevation[markers > 0] <= lowest_around[markers > 0])


def test_a_blur_leaves_fewer_minima(cells):
    image, _ = cells
    counts = [int(lw.minima_markers(lw.relief(image, sigma=s)).max()) for s in (0, 1, 2)]
    assert counts[0] > counts[1] > counts[2]


def test_the_engines_markers_flood_to_the_engines_watershed(cells):
    image, _ = cells
    markers = lw.flood_markers(image, how="h-minima", sigma=1.0, h=0.05)
    ours = segmentation.watershed(lw.relief(image, sigma=1.0), markers)
    engine = segcore.segment(image, "watershed", auto_markers="h-minima", h=0.05, sigma=1.0)
    np.testing.assert_array_equal(ours, engine.labels)
    np.testing.assert_array_equal(markers, engine.extras["markers"])


def test_marker_choices_are_checked_and_a_flat_image_has_none():
    with pytest.raises(ValueError, match="how must be one of minima, distance"):
        lw.flood_markers(np.zeros((8, 8, 1), np.float32), how="peaks", sigma=0, h=0.1)
    with pytest.raises(ValueError, match="no markers were found"):
        lw.flood_markers(np.full((8, 8, 1), 0.5, np.float32), how="minima", sigma=0, h=0.1)


# --------------------------------------------------------------------------- flooding


@pytest.mark.parametrize("how", lw.MARKER_CHOICES)
def test_at_the_highest_ridge_the_flood_is_scikit_images_watershed(cells, how):
    image, _ = cells
    elevation = lw.relief(image, sigma=1.0)
    markers = lw.flood_markers(image, how=how, sigma=1.0, h=0.05)
    top = lw.flood(elevation, markers, level=float(lw.flood_levels(elevation)[-1]))
    expected = segmentation.watershed(elevation, markers, watershed_line=True)
    np.testing.assert_array_equal(top.labels, expected)
    np.testing.assert_array_equal(top.dams, expected == 0)
    assert top.n_flooded == elevation.size
    assert top.n_basins == len(np.unique(markers[markers > 0]))


@pytest.mark.parametrize("how", ["minima", "distance", "low-gradient"])
def test_at_every_level_the_flooded_pixels_are_the_low_ones_joined_to_a_marker(coins, how):
    elevation = lw.relief(coins, sigma=1.0)
    markers = lw.flood_markers(coins, how=how, sigma=1.0, h=0.05)
    final = segmentation.watershed(elevation, markers, watershed_line=True)
    before = np.zeros(elevation.shape, bool)
    basins = 0
    for level in lw.flood_levels(elevation, n=12):
        state = lw.flood(elevation, markers, level=float(level))
        np.testing.assert_array_equal(state.flooded, _reached(elevation, markers, level))
        assert np.all(elevation[state.flooded] <= level)
        # A flooded pixel has joined its basin for good (or become a dam for good).
        np.testing.assert_array_equal(state.labels, np.where(state.flooded, final, 0))
        np.testing.assert_array_equal(state.dams, state.flooded & (final == 0))
        assert np.all(state.flooded[before]) and state.n_basins >= basins
        before, basins = state.flooded, state.n_basins


def test_without_markers_a_new_basin_appears_each_time_the_water_reaches_a_minimum(coins):
    elevation = lw.relief(coins, sigma=0.5)
    markers = lw.minima_markers(elevation)
    floors = ndi.minimum(elevation, markers, index=np.arange(1, markers.max() + 1))
    for level in np.quantile(elevation, [0.0, 0.05, 0.3, 0.7]):
        state = lw.flood(elevation, markers, level=float(level))
        assert state.n_basins == int(np.count_nonzero(floors <= level))


def test_on_a_profile_the_dam_rises_on_the_pass_when_the_lakes_meet():
    profile = np.array([0.1, 0.0, 0.2, 0.5, 0.3, 0.0, 0.2])
    markers = lw.minima_markers(profile)
    assert markers.tolist() == [0, 1, 0, 0, 0, 2, 0]
    low = lw.flood(profile, markers, level=0.3)
    assert low.labels.tolist() == [1, 1, 1, 0, 2, 2, 2]
    assert (low.n_flooded, low.n_basins, low.n_dams) == (6, 2, 0)
    high = lw.flood(profile, markers, level=0.5)
    assert high.labels.tolist() == [1, 1, 1, 0, 2, 2, 2]
    assert high.dams.tolist() == [False, False, False, True, False, False, False]
    dry = lw.flood(profile, markers, level=-1.0)
    assert dry.n_flooded == 0 and dry.n_basins == 0


def test_flooding_needs_markers_of_the_terrains_shape():
    with pytest.raises(ValueError, match="differ in shape"):
        lw.flood(np.zeros((4, 4)), np.zeros((4, 5), np.int32), level=0)
    with pytest.raises(ValueError, match="no marker"):
        lw.flood(np.zeros((4, 4)), np.zeros((4, 4), np.int32), level=0)


def test_levels_rise_evenly_from_the_lowest_point_to_the_highest_ridge(cells):
    elevation = lw.relief(cells[0], sigma=1.0)
    levels = lw.flood_levels(elevation, n=8)
    assert levels.shape == (9,)
    assert levels[0] == elevation.min() and levels[-1] == elevation.max()
    np.testing.assert_allclose(np.diff(levels), (elevation.max() - elevation.min()) / 8, rtol=1e-5)
    with pytest.raises(ValueError, match="at least 1"):
        lw.flood_levels(elevation, n=0)


# --------------------------------------------------------------------------- markers against none


def test_markers_keep_the_borders_on_the_cells_edges_and_minima_do_not():
    s = synthetic.blobs()
    rows = lw.compare_markers(s.image, s.truth, sigma=1.0, how="distance", h=0.05)
    raw, blurred, marked = rows
    assert [r["sigma"] for r in rows] == [0.0, 1.0, 1.0]
    assert raw["basins"] == int(segmentation.watershed(lw.relief(s.image, sigma=0)).max())
    assert raw["basins"] > blurred["basins"] > 100 * marked["basins"]
    assert marked["basins"] == int(lw.flood_markers(s.image, how="distance", sigma=1.0,
                                                    h=0.05).max())
    report = metrics.evaluate(marked["labels"], s.truth, match="majority")
    assert marked["iou"] == report["iou"] and marked["boundary"] == report["boundary"]
    # Most borders of an over-segmentation are not edges of the truth.
    assert raw["boundary"]["precision"] < 0.3 < 0.8 < marked["boundary"]["precision"]
    assert marked["iou"] > 0.95


def test_without_truth_there_are_counts_but_no_scores(cells):
    rows = lw.compare_markers(cells[0], sigma=1.0, how="minima", h=0.05)
    assert all("iou" not in r for r in rows)
    np.testing.assert_array_equal(rows[1]["labels"], rows[2]["labels"])


# --------------------------------------------------------------------------- pictures


def test_the_3d_terrain_keeps_each_blocks_highest_pixel():
    rng = np.random.default_rng(1)
    elevation = rng.random((30, 45))
    flooded = elevation < 0.5
    heights, wet, factor = lw.pooled_terrain(elevation, flooded, max_side=15)
    assert factor == 3 and heights.shape == (10, 15)
    np.testing.assert_array_equal(heights, elevation.reshape(10, 3, 15, 3).max(axis=(1, 3)))
    np.testing.assert_array_equal(wet, flooded.reshape(10, 3, 15, 3).mean(axis=(1, 3)) >= 0.5)
    fig = lw.terrain_figure(heights, wet, level=0.5, factor=factor)
    water = np.asarray(fig.data[1].z, float)
    np.testing.assert_array_equal(np.isnan(water), ~wet)
    assert np.all(water[wet] == 0.5)


def test_the_profile_figure_fills_each_lake_up_to_the_level():
    profile = np.array([0.1, 0.0, 0.2, 0.5, 0.3, 0.0, 0.2])
    state = lw.flood(profile, lw.minima_markers(profile), level=0.5)
    terrain, water, dams = lw.profile_figure(profile, state).data
    lake = state.labels > 0
    np.testing.assert_allclose(np.asarray(water.base, float) + np.asarray(water.y, float), 0.5)
    assert list(water.x) == np.flatnonzero(lake).tolist() and list(dams.x) == [3]


def test_the_flood_picture_shows_dams_markers_and_the_row(cells):
    image, _ = cells
    elevation = lw.relief(image, sigma=1.0)
    markers = lw.flood_markers(image, how="distance", sigma=1.0, h=0.05)
    state = lw.flood(elevation, markers, level=float(elevation.max()))
    picture = lw.flood_picture(image, state, markers=markers, row=5)
    assert picture.shape == image.shape[:2] + (3,) and picture.dtype == np.float32
    off_row = np.ones(elevation.shape, bool)
    off_row[5] = False
    assert np.all(picture[state.dams & (markers == 0) & off_row] == 1.0)
    assert np.all(picture[5] == np.float32([1.0, 0.9, 0.0]))
    assert picture[(markers > 0) & off_row].max() < 0.5  # markers are dark


def test_the_profile_row_crosses_the_most_ridges(cells):
    elevation = lw.relief(cells[0], sigma=1.0)
    row = lw.profile_row(elevation)
    ridges = (elevation > 0.5 * elevation.max()).sum(axis=1)
    assert ridges[row] == ridges.max() > 0


# --------------------------------------------------------------------------- the page


def _guess_key(at) -> str:
    return next(s.key for s in at.slider if s.key.startswith("learn.watershed.basins."))


def _lesson_copy(origin: str, name: str):
    if origin == "generated":
        sample = synthetic.make(name)
        return learn.small_copy(sample.image, sample.truth)
    return learn.small_copy(sio.load_image(samples.skimage_png(name)))


def _walk_the_lesson(at) -> None:
    """Move every control of the lesson, take every step that changes what it shows."""
    at.slider(key="learn.watershed.step").set_value(0).run()
    assert "The water stands at the lowest point" in at.info[0].value
    at.slider(key="learn.watershed.step").set_value(lw.FLOOD_STEPS).run()
    assert "covers the highest ridge" in at.info[0].value
    at.slider(key="learn.watershed.step").set_value(2).run()
    assert "seen from one side" in " ".join(c.value for c in at.caption)
    at.toggle(key="learn.watershed.turnable").set_value(True).run()
    assert "drag to turn it" in " ".join(c.value for c in at.caption)
    at.toggle(key="learn.watershed.turnable").set_value(False).run()
    row_key = next(s.key for s in at.slider if s.key.startswith("learn.watershed.row."))
    at.slider(key=row_key).set_value(3).run()
    at.slider(key="learn.watershed.sigma").set_value(2.0).run()
    for how in ("minima", "h-minima", "low-gradient", "distance"):
        at.selectbox(key="learn.watershed.markers").set_value(how).run()
        assert_no_exception(at)
    at.select_slider(key="learn.watershed.h").set_value(0.1).run()
    assert_no_exception(at)


def test_the_lesson_on_the_photo(open_lesson):
    at = open_lesson(PAGE)
    assert at.radio(key="learn.watershed.image").value == "photo"
    _walk_the_lesson(at)
    at.slider(key=_guess_key(at)).set_value(100).run()
    at.button(key="learn.watershed.basins.reveal").click().run()
    assert_no_exception(at)
    assert "Not quite" in at.warning[0].value  # the photo has thousands of minima
    assert any("No ground truth" in c.value for c in at.caption)
    pictures = at.main.get("imgs") or at.main.get("image")
    assert len(pictures) >= 4  # the flood and the three watersheds side by side


def test_the_lesson_on_the_generated_cells_shows_the_true_numbers(open_lesson):
    at = open_lesson(PAGE)
    at.radio(key="learn.watershed.image").set_value("generated").run()
    image, truth = _lesson_copy("generated", "blobs")
    # The lesson starts from the engine's defaults.
    spec = segcore.get_method("watershed")
    start = {name: spec.param(name).default for name in ("sigma", "auto_markers", "h")}
    sigma, how, h = start["sigma"], start["auto_markers"], start["h"]
    elevation = lw.relief(image, sigma=sigma)
    markers = lw.flood_markers(image, how=how, sigma=sigma, h=h)
    state = lw.flood(elevation, markers, level=float(lw.flood_levels(elevation)[7]))
    at.slider(key="learn.watershed.step").set_value(7).run()
    equation = at.latex[2].value
    assert f"L = {state.level:.4f}" in equation
    assert f"{state.n_flooded:,}".replace(",", "{,}") in equation
    assert f"{state.n_basins} \\text{{ of }} {int(markers.max())}" in equation
    # Predict the count of basins without blur and markers, exactly right.
    rows = lw.compare_markers(image, truth, sigma=sigma, how=how, h=h)
    slider = at.slider(key=_guess_key(at))
    answer = rows[0]["basins"]
    slider.set_value(round(answer / slider.step) * slider.step).run()
    at.button(key="learn.watershed.basins.reveal").click().run()
    assert_no_exception(at)
    assert at.success[0].value.startswith("Right") and f"{answer:,} basins" in at.success[0].value
    scores = [c.value for c in at.caption if "boundary precision" in c.value]
    assert len(scores) == 3
    assert f"boundary precision {rows[2]['boundary']['precision']:.2f}" in scores[2]
    _walk_the_lesson(at)


@pytest.mark.parametrize("sample", [("scikit-image", "chelsea"), ("generated", "blobs")])
def test_the_lesson_on_your_image(open_lesson, sample):
    """Your image in colour without truth (the cat), and in gray with truth."""
    at = open_lesson(PAGE, sample=sample)
    at.radio(key="learn.watershed.image").set_value("yours").run()
    assert_no_exception(at)
    _walk_the_lesson(at)
    at.slider(key=_guess_key(at)).set_value(500).run()
    at.button(key="learn.watershed.basins.reveal").click().run()
    assert_no_exception(at)
    has_scores = any("boundary precision" in c.value for c in at.caption)
    assert has_scores == (sample[0] == "generated")


def test_a_flat_image_of_your_own_is_explained_not_crashed(open_lesson):
    from seglab.state import CurrentImage

    at = open_lesson(PAGE)
    flat = np.full((40, 50, 1), 0.5, np.float32)
    at.session_state["current"] = CurrentImage(name="flat.png", origin="upload", key="flat",
                                               image=flat, preview=flat)
    at.radio(key="learn.watershed.image").set_value("yours").run()
    for how in ("distance", "minima"):
        at.selectbox(key="learn.watershed.markers").set_value(how).run()
        assert_no_exception(at)
        assert at.warning[0].value.startswith("The flooding cannot start")


def test_the_terrain_picture_shows_water_only_where_the_level_covers_the_ground():
    h = np.zeros((20, 20))
    h[:, 10:] = 1.0  # a low half and a high half
    wet = h < 0.5
    blue = np.array([43, 123, 186])
    dry = lw.terrain_picture(h, wet, level=None, size=120)
    flooded = lw.terrain_picture(h, wet, level=0.5, size=120)
    assert not (dry == blue).all(-1).any()
    assert (flooded == blue).all(-1).sum() > 200
    # the water never covers the high half: no more blue when it is dry land too
    assert (lw.terrain_picture(h, np.zeros_like(wet), level=0.5, size=120) == blue).all(-1).sum() == 0
