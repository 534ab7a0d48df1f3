"""The Edges lesson: its kernels, gradients and Canny steps against scikit-image and
scipy, its regions against SegLab's own edge method, and its page driven headless."""

import numpy as np
import pytest
from conftest import assert_no_exception
from scipy import ndimage as ndi
from skimage import feature, filters

from segcore import color, learn, samples, synthetic
from segcore import io as sio
from segcore.learn import edges
from segcore.methods import edges as edge_method

SKIMAGE_PAIRS = {"prewitt": (filters.prewitt_h, filters.prewitt_v, filters.prewitt),
                 "sobel": (filters.sobel_h, filters.sobel_v, filters.sobel),
                 "scharr": (filters.scharr_h, filters.scharr_v, filters.scharr)}


def lesson_gray(origin: str, name: str) -> np.ndarray:
    """The gray working copy the page uses for a bundled sample."""
    if origin == "generated":
        image = synthetic.make(name).image
    else:
        image = sio.load_image(samples.skimage_png(name))
    return color.to_gray(learn.small_copy(image)[0]).astype(np.float64)


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return lesson_gray("scikit-image", "camera")


def small_images():
    rng = np.random.default_rng(1)
    shapes = color.to_gray(synthetic.shapes((48, 64)).image).astype(np.float64)
    return {"noise": rng.random((17, 23)),
            "smooth noise": filters.gaussian(rng.random((30, 40)), sigma=1.5),
            "shapes": shapes,
            "coins": samples.skimage_picture("coins")[100:160, 50:130] / 255.0}


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("operator", edges.OPERATORS)
def test_kernels_are_a_difference_times_smoothing(operator):
    weights, divisor = edges.kernel_weights(operator, axis="x")
    assert weights[:, 1].tolist() == [0, 0, 0]
    assert (weights[:, 2] == -weights[:, 0]).all() and weights[:, 2].sum() == divisor
    assert (edges.kernel(operator, axis="y") == edges.kernel(operator, axis="x").T).all()
    k = edges.kernel(operator, axis="x")
    assert k.sum() == pytest.approx(0) and k[k > 0].sum() == pytest.approx(1)


@pytest.mark.parametrize("operator", edges.OPERATORS)
@pytest.mark.parametrize("name", list(small_images()))
def test_gradient_equals_skimage(operator, name):
    """Gx is skimage's *_v and Gy its *_h (same sign, same scale); the magnitude is
    sqrt(2) times skimage's, which averages the two squares."""
    gray = small_images()[name]
    along_rows, along_cols, magnitude = SKIMAGE_PAIRS[operator]
    grad = edges.gradient(gray, operator=operator)
    np.testing.assert_allclose(grad.gx, along_cols(gray), atol=1e-12)
    np.testing.assert_allclose(grad.gy, along_rows(gray), atol=1e-12)
    np.testing.assert_allclose(grad.magnitude, np.sqrt(2) * magnitude(gray), atol=1e-12)


@pytest.mark.parametrize("operator", edges.OPERATORS)
def test_a_step_of_height_h_gives_h_with_every_kernel(operator):
    gray = np.zeros((9, 12))
    gray[:, 6:] = 0.5
    grad = edges.gradient(gray, operator=operator)
    assert grad.gx[4, 5] == pytest.approx(0.5) and grad.gx[4, 6] == pytest.approx(0.5)
    assert np.abs(grad.gy).max() == 0
    assert np.degrees(grad.direction[4, 5]) == pytest.approx(0)


@pytest.mark.parametrize("operator", edges.OPERATORS)
def test_pixel_sum_is_the_kernel_laid_on_the_patch(operator):
    gray = small_images()["noise"]
    grad = edges.gradient(gray, operator=operator)
    reference_x = ndi.correlate(gray, edges.kernel(operator, axis="x"), mode="reflect")
    h, w = gray.shape
    for row, col in [(5, 7), (0, 0), (0, 9), (h - 1, w - 1), (8, 0), (h - 1, 4)]:
        p = edges.pixel_sum(gray, row, col, operator=operator)
        assert p.patch[1, 1] == gray[row, col]
        assert p.gx == pytest.approx(reference_x[row, col], abs=1e-12)
        assert p.gx == pytest.approx(grad.gx[row, col], abs=1e-12)
        assert p.gy == pytest.approx(grad.gy[row, col], abs=1e-12)
        assert p.magnitude == pytest.approx(grad.magnitude[row, col], abs=1e-12)
    inner = edges.pixel_sum(gray, 5, 7, operator=operator)
    np.testing.assert_array_equal(inner.patch, gray[4:7, 6:9])


def test_sum_latex_writes_out_the_sum():
    gray = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
    p = edges.pixel_sum(gray, 1, 1, operator="sobel")
    text = edges.sum_latex(p, axis="x", digits=2)
    assert r"\tfrac{1}{4}" in text and "(-2)(0.40)" in text and "(2)(0.60)" in text
    assert "(0)(" not in text and text.endswith(r"= 0.20\end{aligned}")
    assert edges.sum_latex(p, axis="y", digits=2).endswith(r"= 0.60\end{aligned}")


def test_direction_and_compass():
    gray = np.zeros((7, 7))
    gray[4:, :] = 1  # brighter downward
    p = edges.pixel_sum(gray, 3, 3)
    assert p.direction_degrees == pytest.approx(90) and edges.compass(p.direction_degrees) == "down"
    assert [edges.compass(d) for d in (0, 45, 180, -90, -45, 170)] == [
        "right", "down-right", "left", "up", "up-right", "left"]


def test_pictures():
    grad = edges.Gradient(gy=np.array([[0.0, 0.0, 1.0]]), gx=np.array([[1.0, -1.0, 0.0]]))
    rgb = edges.direction_picture(grad, scale=1.0)[0]
    np.testing.assert_allclose(rgb[0], [1, 0, 0], atol=1e-6)  # right: red
    np.testing.assert_allclose(rgb[1], [0, 1, 1], atol=1e-6)  # left: cyan
    np.testing.assert_allclose(rgb[2], [0.5, 1, 0], atol=1e-6)  # down: a quarter turn on
    wheel = edges.direction_wheel(33)
    np.testing.assert_allclose(wheel[16, 32], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(wheel[32, 16], rgb[2], atol=0.02)
    signed = edges.signed_picture(np.array([[0.5, -2.0]]), scale=1.0)[0]
    np.testing.assert_allclose(signed[0], 0.5 * np.array(edges.POSITIVE_COLOUR), atol=1e-6)
    np.testing.assert_allclose(signed[1], edges.NEGATIVE_COLOUR, atol=1e-6)
    assert edges.display_scale(np.zeros((3, 3))) == 1.0


# --------------------------------------------------------------------------- Canny


@pytest.mark.parametrize("name", list(small_images()))
@pytest.mark.parametrize("sigma, low, high", [(1.0, 0.1, 0.3), (0.0, 0.05, 0.5),
                                              (2.0, 0.2, 0.2), (1.4, 0.02, 0.9)])
def test_canny_steps_end_in_skimage_canny(name, sigma, low, high):
    """Pixel for pixel; scikit-image's Sobel is 4 times ours, so are its thresholds."""
    gray = small_images()[name]
    steps = edges.canny_steps(gray, sigma=sigma, low_fraction=low, high_fraction=high)
    expected = feature.canny(gray, sigma=sigma, low_threshold=4 * steps.low,
                             high_threshold=4 * steps.high)
    np.testing.assert_array_equal(steps.edges, expected)
    # Each step narrows the last: edges are thinned pixels, strong pixels are edges.
    assert not (steps.edges & ~steps.thinned).any()
    assert not (steps.strong & ~steps.edges).any()
    np.testing.assert_array_equal(steps.edges, steps.strong | (steps.weak & steps.edges))
    assert steps.high == pytest.approx(high * steps.magnitude.max())


def test_canny_on_the_lesson_photo_equals_skimage(camera):
    steps = edges.canny_steps(camera, sigma=1.0, low_fraction=0.1, high_fraction=0.5)
    expected = feature.canny(camera, sigma=1.0, low_threshold=4 * steps.low,
                             high_threshold=4 * steps.high)
    np.testing.assert_array_equal(steps.edges, expected)
    counts = steps.counts()
    assert counts["weak"] > 0 and counts["kept"] > 0 and counts["dropped"] > 0
    assert counts["kept"] + counts["dropped"] == counts["weak"]
    assert counts["edges"] == counts["strong"] + counts["kept"] == int(expected.sum())


def test_smooth_is_the_blur_canny_uses():
    gray = small_images()["noise"]
    blurred = edges.smooth(gray, sigma=1.5)
    # Away from the border the renormalisation does nothing: an ordinary Gaussian blur.
    np.testing.assert_allclose(blurred[7:-7, 7:-7],
                               ndi.gaussian_filter(gray, 1.5, truncate=4.0)[7:-7, 7:-7],
                               atol=1e-12)
    np.testing.assert_allclose(edges.smooth(np.full((6, 6), 0.3), sigma=2.0), 0.3, atol=1e-12)
    np.testing.assert_array_equal(edges.smooth(gray, sigma=0), gray)


def test_thinning_leaves_one_pixel_across_an_edge():
    gray = np.zeros((20, 20))
    gray[:, 10], gray[:, 11:] = 0.5, 1  # the ramp's steepest point is column 10
    thinned = edges.thin(edges.gradient(edges.smooth(gray, sigma=2.0)))
    assert (thinned[1:-1].sum(axis=1) == 1).all() and thinned[1:-1, 10].all()
    assert not thinned[0].any() and not thinned[:, 0].any()  # the border never is an edge
    diagonal = np.triu(np.ones((20, 20)))
    thin_diagonal = edges.thin(edges.gradient(edges.smooth(diagonal, sigma=1.0)))
    assert 15 <= thin_diagonal.sum() <= 2 * 18


def test_hysteresis_follows_chains_of_8_neighbours():
    m = np.zeros((5, 8))
    m[1, 1] = 0.9  # strong
    m[2, 2] = m[3, 3] = 0.4  # weak, diagonally linked to it
    m[1, 6] = m[2, 6] = 0.4  # weak, linked to nothing strong
    m[3, 5] = 0.1  # below low
    kept = edges.hysteresis(m, m > 0, low=0.3, high=0.8)
    assert sorted(map(tuple, np.argwhere(kept))) == [(1, 1), (2, 2), (3, 3)]
    # thresholds include their own value: a pixel exactly at high is strong
    assert edges.hysteresis(m, m > 0, low=0.4, high=0.4)[1, 6]


def test_weak_pixel_and_its_chain(camera):
    steps = edges.canny_steps(camera, sigma=1.0, low_fraction=0.1, high_fraction=0.5)
    fates = set()
    for rng in range(8):
        row, col, kept = edges.weak_pixel(steps, rng=rng)
        assert steps.weak[row, col] and kept == steps.edges[row, col]
        links = edges.chain(steps, row, col)
        assert links[row, col] and ndi.label(links, np.ones((3, 3)))[1] == 1
        assert (steps.magnitude[links].max() >= steps.high) == kept
        fates.add(kept)
    assert fates == {True, False}
    assert edges.weak_pixel(edges.canny_steps(camera, low_fraction=0.3, high_fraction=0.3)) \
        is None


def test_a_flat_image_has_no_edges():
    flat = np.full((12, 12), 0.4)
    steps = edges.canny_steps(flat, sigma=1.0)
    # The blur leaves rounding noise (about 1e-16), which must not become edges.
    assert steps.strongest < edges.FLAT and not steps.edges.any() and not steps.thinned.any()
    assert edges.weak_pixel(steps) is None
    assert "0 edge pixels" in edges.step_notice(steps, "hysteresis")
    assert edge_method.edge_regions(steps.edges).max() == 1


def test_step_notices_carry_the_counts(camera):
    steps = edges.canny_steps(camera, sigma=1.0, low_fraction=0.1, high_fraction=0.5)
    c = steps.counts()
    assert f"{c['thinned']:,} of the {c['changing']:,}" in edges.step_notice(steps, "thin")
    assert f"{c['weak']:,} weak" in edges.step_notice(steps, "threshold")
    revealed = edges.step_notice(steps, "hysteresis")
    assert f"kept {c['kept']:,}" in revealed and f"dropped {c['dropped']:,}" in revealed
    assert "kept" not in edges.step_notice(steps, "hysteresis", revealed=False)
    for step in edges.CANNY_STEPS:
        picture = edges.canny_picture(steps, step)
        assert picture.shape == camera.shape + (3,) and 0 <= picture.min() <= picture.max() <= 1
    hidden = edges.canny_picture(steps, "hysteresis", reveal=False)
    np.testing.assert_array_equal(hidden, edges.canny_picture(steps, "threshold"))


def test_close_up_frames_the_centre_pixel():
    picture = np.zeros((9, 9, 3), np.float32)
    picture[4, 4] = 1
    big = edges.close_up(picture, 4, 4, radius=2, zoom=6)
    assert big.shape == (30, 30, 3)
    assert (big[13:17, 13:17] == 1).all()  # the pixel itself stays visible
    np.testing.assert_allclose(big[12, 14], edges.MARK_COLOUR)


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize("operator", ["sobel", "canny"])
def test_edge_regions_match_the_edges_method(operator):
    image = synthetic.shapes((96, 128)).image
    gray = color.to_gray(image)
    edge = edge_method.edge_map(gray, operator, sigma=1.0, edge_fraction=0.2)
    seg = edge_method.edges(image, operator=operator, sigma=1.0, edge_fraction=0.2,
                            close_gaps=1, min_size=20)
    np.testing.assert_array_equal(edge_method.edge_regions(edge, close_gaps=1, min_size=20),
                                  seg.labels)


def test_edge_regions_of_the_shapes_find_the_shapes():
    sample = synthetic.shapes()
    gray = color.to_gray(sample.image)
    steps = edges.canny_steps(gray, sigma=1.0, low_fraction=0.1, high_fraction=0.3)
    labels = edge_method.edge_regions(steps.edges, close_gaps=1, min_size=20)
    assert labels.max() == 4  # background and three shapes
    # The high threshold of 0.5 leaves the faint disc's outline weak and unlinked.
    weak_disc = edges.canny_steps(gray, sigma=1.0, low_fraction=0.1, high_fraction=0.5)
    assert edge_method.edge_regions(weak_disc.edges, close_gaps=1, min_size=20).max() == 3


# --------------------------------------------------------------------------- errors


def test_errors_say_what_was_expected():
    gray = np.zeros((5, 5))
    with pytest.raises(ValueError, match="operator must be one of"):
        edges.gradient(gray, operator="roberts")
    with pytest.raises(ValueError, match="axis must be"):
        edges.kernel("sobel", axis="z")
    with pytest.raises(ValueError, match=r"shape \(H, W\)"):
        edges.gradient(np.zeros((5, 5, 3)))
    with pytest.raises(ValueError, match="outside"):
        edges.pixel_sum(gray, 5, 0)
    with pytest.raises(ValueError, match="low_fraction <= high_fraction"):
        edges.canny_steps(gray, low_fraction=0.5, high_fraction=0.2)
    with pytest.raises(ValueError, match="sigma must be"):
        edges.smooth(gray, sigma=-1)
    with pytest.raises(ValueError, match="0 < low <= high"):
        edges.hysteresis(gray, gray > 0, low=0, high=1)
    with pytest.raises(ValueError, match="step must be one of"):
        edges.canny_picture(edges.canny_steps(gray), "blur")
    with pytest.raises(ValueError, match="close_gaps"):
        edge_method.edge_regions(gray > 0, close_gaps=-1)


# --------------------------------------------------------------------------- the page

PAGE = "pages/learn/edges.py"


def latex(at) -> str:
    return "\n".join(str(x.value) for x in at.latex)


def answer_and_reveal(at):
    guess = next(r for r in at.radio if str(r.key).startswith("edges.hysteresis."))
    guess.set_value(guess.options[1]).run()
    assert_no_exception(at)
    at.button(key="edges.hysteresis.reveal").click().run()
    assert_no_exception(at)
    said = [m.value for m in list(at.success) + list(at.warning)]
    assert any("chain of" in text for text in said), said


def drive_every_control(at, *, thresholds=(0.1, 0.5)):
    for operator in ("prewitt", "scharr", "sobel"):
        at.button_group(key="learn.edges.operator").set_value(operator).run()
        assert_no_exception(at)
    row = next(s for s in at.slider if s.key.startswith("learn.edges.row."))
    col = next(s for s in at.slider if s.key.startswith("learn.edges.col."))
    row.set_value(0).run()
    col.set_value(col.max).run()
    assert_no_exception(at)
    at.slider(key="learn.edges.sigma").set_value(1.5).run()
    at.slider(key="learn.edges.thresholds").set_value(thresholds).run()
    assert_no_exception(at)
    for step in edges.CANNY_STEPS[1:4]:
        at.select_slider(key="learn.edges.step").set_value(step).run()
        assert_no_exception(at)
    answer_and_reveal(at)
    at.select_slider(key="learn.edges.step").set_value("hysteresis").run()
    assert "dropped" in latex(at)
    at.slider(key="learn.edges.close_gaps").set_value(3).run()
    at.select_slider(key="learn.edges.min_size").set_value(200).run()
    assert_no_exception(at)


def test_page_on_the_photo(open_lesson, camera):
    at = open_lesson(PAGE)
    assert at.radio(key="learn.edges.image").value == "photo"
    # The page starts at the strongest Sobel pixel and writes out its sum there.
    along_rows, along_cols = filters.sobel_h(camera), filters.sobel_v(camera)
    magnitude = np.hypot(along_rows, along_cols)
    row, col = np.unravel_index(np.argmax(magnitude), magnitude.shape)
    text = latex(at)
    assert f"pixel {row}, {col}" in text and f"= {magnitude[row, col]:.3f}" in text
    assert f"= {along_cols[row, col]:.3f}" in text
    drive_every_control(at)
    # Canny's count on the page is skimage's, at the thresholds the page says.
    steps = edges.canny_steps(camera, sigma=1.5, low_fraction=0.1, high_fraction=0.5)
    expected = feature.canny(camera, sigma=1.5, low_threshold=4 * steps.low,
                             high_threshold=4 * steps.high)
    assert "= " + f"{int(expected.sum()):,}".replace(",", "{,}") in latex(at)
    assert any("No ground truth" in c.value for c in at.caption)


def test_page_on_the_generated_image(open_lesson):
    at = open_lesson(PAGE)
    at.radio(key="learn.edges.image").set_value("generated").run()
    assert_no_exception(at)
    drive_every_control(at)
    assert "F_1" in latex(at)  # exact truth: the regions' borders are scored
    assert at.metric[0].value == str(edge_method.edge_regions(
        edges.canny_steps(lesson_gray("generated", "shapes"), sigma=1.5, low_fraction=0.1,
                          high_fraction=0.5).edges, close_gaps=3, min_size=200).max())


def test_page_on_your_image(open_lesson):
    at = open_lesson(PAGE, sample=("generated", "colour shapes"))
    at.radio(key="learn.edges.image").set_value("yours").run()
    assert_no_exception(at)
    assert any("colour image" in c.value for c in at.caption)
    drive_every_control(at, thresholds=(0.05, 0.6))


def test_page_without_weak_pixels_or_room_for_a_kernel(open_lesson):
    from seglab.state import CurrentImage

    at = open_lesson(PAGE)
    at.radio(key="learn.edges.image").set_value("yours").run()
    at.slider(key="learn.edges.thresholds").set_value((0.4, 0.4)).run()
    assert_no_exception(at)
    assert any("no weak pixels" in m.value for m in at.markdown)
    tiny = np.zeros((2, 5, 1), np.float32)
    at.session_state["current"] = CurrentImage(name="tiny", origin="upload", key="tiny",
                                               image=tiny, preview=tiny)
    at.run()
    assert_no_exception(at)
    assert any("need at least 16 × 16" in w.value for w in at.warning)  # the lesson frame's
