"""The Streamlit app, driven headless with AppTest: every page, uploads, sliders,
every method, errors in plain words and never a traceback.

The browser tests (a real ``streamlit run`` in Chromium) live elsewhere; these run
the scripts in-process and look at the elements they produce.
"""

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

import segcore
from segcore.snippet import reproduce_snippet

ROOT = Path(__file__).resolve().parents[1]
# Streamlit puts the main script's folder on sys.path; the pages import their glue
# (seglab) from there, and so do these tests.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conftest import open_tab  # noqa: E402
from seglab import cache  # noqa: E402

TIMEOUT = 60


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def no_trouble(at: AppTest) -> None:
    """No uncaught exception reached the page (no traceback for the user)."""
    assert not at.exception, [e.value for e in at.exception]


def start(sample: tuple[str, str] | None = ("generated", "blobs"),
          page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    no_trouble(at)
    if sample is not None:
        at.button(key=f"sample.{sample[0]}.{sample[1]}").click().run()
        no_trouble(at)
    if page is not None:
        at.switch_page(page).run()
        no_trouble(at)
    return at


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


# --------------------------------------------------------------------------- home page


def test_home_starts_with_a_sample_and_shows_its_facts():
    at = start(sample=None)
    cur = at.session_state["current"]
    assert (cur.origin, cur.name) == ("scikit-image", "coins.png")
    assert "384 × 303 pixels" in texts(at.markdown)
    assert at.sidebar.image, "the sidebar shows the current image"
    assert not at.error


def test_picking_a_generated_sample_brings_its_ground_truth():
    at = start(("generated", "shapes"))
    cur = at.session_state["current"]
    assert cur.name == "shapes" and cur.truth is not None
    np.testing.assert_array_equal(cur.truth, segcore.synthetic.make("shapes").truth)
    assert "Ground truth: exact" in texts(at.markdown)
    at.toggle(key="home_show_truth").set_value(True).run()
    no_trouble(at)


def test_streamlit_still_has_the_flag_the_app_sets():
    # app.py spares the first page Streamlit's one-time inspect.stack() through this flag;
    # a Streamlit that renamed it would take those 50-80 ms again, silently
    import streamlit.delta_generator

    assert isinstance(streamlit.delta_generator._use_warning_has_been_displayed, bool)


def test_the_skipped_component_scan_would_find_nothing(monkeypatch):
    # `make run` (seglab.server) skips Streamlit's scan of every installed package for
    # custom components: the same outcome, for as long as the scan finds none here
    from streamlit.components.v2 import manifest_scanner

    from seglab import server

    scan = manifest_scanner.scan_component_manifests
    monkeypatch.setattr(manifest_scanner, "scan_component_manifests", scan)  # restored after
    assert scan() == []
    assert server.skip_component_scan(), "Streamlit no longer has the scan seglab skips"
    assert manifest_scanner.scan_component_manifests() == []


def test_no_page_relies_on_streamlit_magic():
    # .streamlit/config.toml turns magic off; a bare expression (not a call, not a
    # docstring) would then show nothing where the author meant it to show
    import ast

    for script in [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        tree = ast.parse(script.read_text())
        docstrings = {id(node.body[0]) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                                           ast.ClassDef)) and node.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Expr) and id(node) not in docstrings:
                assert isinstance(node.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)), (
                    f"{script.name}:{node.lineno} shows nothing with magic off")


def test_only_the_open_tab_of_the_image_page_runs():
    at = start(sample=None)
    assert at.button(key="sample.generated.blobs") and not at.get("file_uploader")
    open_tab(at, "Upload")
    assert {u.key for u in at.get("file_uploader")} == {
        "upload_image", "upload_mask", "upload_challenge"}
    assert not at.button and not at.toggle, "the gallery and the camera's switch stay closed"
    open_tab(at, "Camera")
    assert at.toggle(key="camera_on") and not at.get("file_uploader")


@pytest.mark.parametrize("sample", segcore.samples.list_samples(), ids=lambda s: s.name)
def test_the_shipped_gallery_pictures_are_what_the_samples_make_now(sample):
    # The gallery shows shipped pictures; a sample that changes needs them made anew
    # with `python -m seglab.gallery`.
    from seglab import gallery

    shipped = np.asarray(Image.open(gallery.thumbnail_path(sample.origin, sample.name)))
    made = gallery.make_thumbnail(sample.origin, sample.name)
    assert shipped.shape == made.shape, "run python -m seglab.gallery"
    # JPEG at quality 90 keeps each picture above 33 dB; another sample's is 20 at most
    error = np.mean((shipped.astype(float) - made) ** 2)
    assert error == 0 or 10 * np.log10(255**2 / error) > 30, "run python -m seglab.gallery"
    # and the gallery lists the words the sample itself carries
    if sample.origin == "generated":
        assert sample.description == segcore.synthetic.make(sample.name).description


@pytest.mark.parametrize("name", list(segcore.samples.SKIMAGE_SAMPLES))
def test_bundled_pictures_load_without_a_download(name):
    # skimage.data would fetch missing files with pooch; these must ship inside the package.
    cur = cache.sample_image("scikit-image", name)
    assert cur.image.dtype == np.float32 and cur.image.ndim == 3
    assert cur.preview.shape[0] * cur.preview.shape[1] <= cache.PREVIEW_PIXELS


def test_large_picture_is_explored_at_preview_size_and_said_so():
    at = start(("scikit-image", "retina"))
    cur = at.session_state["current"]
    assert cur.is_previewed and cur.shape == (1411, 1411)
    notes = texts(at.markdown)
    assert "preview" in notes and "colour image: gray-only methods" in notes.lower()


def test_upload_an_image_and_its_mask():
    rng = np.random.default_rng(0)
    pixels = np.full((40, 60), 40, np.uint8)
    pixels[10:30, 20:45] = 200
    pixels = np.clip(pixels + rng.normal(0, 5, pixels.shape), 0, 255).astype(np.uint8)
    at = open_tab(start(sample=None), "Upload")
    at.file_uploader(key="upload_image").set_value(("cells.png", png(pixels), "image/png")).run()
    no_trouble(at)
    cur = at.session_state["current"]
    assert (cur.origin, cur.name, cur.shape) == ("upload", "cells.png", (40, 60))
    assert "8-bit PNG" in texts(at.markdown)
    assert at.subheader[0].value == "cells.png"

    mask = np.where(pixels > 120, 255, 0).astype(np.uint8)
    at.file_uploader(key="upload_mask").set_value(("mask.png", png(mask), "image/png")).run()
    no_trouble(at)
    truth = at.session_state["current"].truth
    np.testing.assert_array_equal(truth, np.where(mask == 255, 2, 1))
    assert not at.error


def test_camera_photo_becomes_the_image():
    at = open_tab(start(("generated", "blobs")), "Camera")
    assert not at.camera_input, "the camera stays off until asked for"
    at.toggle(key="camera_on").set_value(True).run()
    photo = np.zeros((24, 32, 3), np.uint8)
    photo[:, 16:] = (200, 120, 40)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="JPEG")
    at.camera_input(key="camera_photo").set_value(("photo.jpg", buf.getvalue(), "image/jpeg"))
    at.run()
    no_trouble(at)
    cur = at.session_state["current"]
    assert (cur.origin, cur.shape, cur.image.shape[2]) == ("camera", (24, 32), 3)


def test_bad_upload_says_why_and_keeps_the_image():
    at = open_tab(start(("generated", "blobs")), "Upload")
    at.file_uploader(key="upload_image").set_value(("photo.png", b"hello, world\n", "image/png"))
    at.run()
    no_trouble(at)
    assert "photo.png could not be used" in texts(at.error)
    assert "text file" in texts(at.error)
    assert at.session_state["current"].name == "blobs"


def test_mask_of_the_wrong_size_is_refused_in_words():
    at = open_tab(start(("generated", "blobs")), "Upload")
    before = at.session_state["current"].truth
    small = png(np.zeros((5, 7), np.uint8))
    at.file_uploader(key="upload_mask").set_value(("m.png", small, "image/png"))
    at.run()
    no_trouble(at)
    assert "must have the image's size" in texts(at.error)
    np.testing.assert_array_equal(at.session_state["current"].truth, before)


def test_upload_over_the_size_limit_is_refused():
    limit = st_config.get_option("server.maxUploadSize")
    st_config.set_option("server.maxUploadSize", 1)
    try:
        at = open_tab(start(("generated", "blobs")), "Upload")
        big = png(np.random.default_rng(0).integers(0, 255, (800, 800, 3), dtype=np.uint8))
        assert len(big) > 2**20
        at.file_uploader(key="upload_image").set_value(("big.png", big, "image/png")).run()
        no_trouble(at)
        assert "files up to 1 MB" in texts(at.error)
        assert at.session_state["current"].name == "blobs"
    finally:
        st_config.set_option("server.maxUploadSize", limit)


# --------------------------------------------------------------------------- segment page


def choose_method(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="segment.method").set_value(name).run()
    no_trouble(at)
    return at


def type_seed(at: AppTest, row: int, col: int) -> None:
    key = at.session_state["current"].key
    at.number_input(key=f"seed_row.{key}").set_value(row)
    at.number_input(key=f"seed_col.{key}").set_value(col)
    at.button(key="seed_add").click().run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_every_method_runs_from_the_segment_page():
    at = start(("generated", "blobs"), "pages/lab/segment.py")
    for spec in segcore.list_methods():
        if spec.name == "unet":
            continue  # one quick run of its own below
        choose_method(at, spec.name)
        if spec.seeds == "required":
            assert "click on the picture" in texts(at.info)
            type_seed(at, 96, 5)
            no_trouble(at)
        assert not at.error, (spec.name, texts(at.error))
        assert int(metric(at, "Regions")) >= 1, spec.name
        labels = [w.label for w in at.main.get("download_button")]
        assert {"Labels", "Overlay", "Parameters", "Script"} <= set(labels), spec.name


def test_unet_runs_and_says_what_its_card_measured():
    from segcore.nn.infer import load_model

    at = start(("generated", "two regions"), "pages/lab/segment.py")
    choose_method(at, "unet")
    assert not at.error, texts(at.error)
    assert "Probabilities" in at.segmented_control(key="segment.view").options
    held_out = load_model("membrane")[1].raw["metrics"]
    caption = texts(at.caption)
    assert f"on {held_out['split']}: pixel error {held_out['pixel_error']:.3f}" in caption


def test_sliders_and_views_follow_the_parameters():
    at = start(("generated", "blobs"), "pages/lab/segment.py")
    choose_method(at, "kmeans")
    assert metric(at, "Regions") == "3"
    at.slider(key="segment.kmeans.k").set_value(2).run()
    no_trouble(at)
    assert metric(at, "Regions") == "2"
    at.select_slider(key="segment.kmeans.max_iter").set_value(10).run()
    no_trouble(at)
    views = at.segmented_control(key="segment.view").options
    assert "Errors" in views and "Probabilities" not in views
    for view in views:
        at.segmented_control(key="segment.view").set_value(view).run()
        no_trouble(at)
        assert not at.error, (view, texts(at.error))
    at.segmented_control(key="segment.view").set_value("Overlay").run()
    at.slider(key="segment.alpha").set_value(0.9).run()
    no_trouble(at)


def test_probability_maps_for_gmm():
    at = start(("generated", "two regions"), "pages/lab/segment.py")
    choose_method(at, "gmm")
    at.slider(key="segment.gmm.k").set_value(2).run()
    assert not at.error, texts(at.error)
    at.segmented_control(key="segment.view").set_value("Probabilities").run()
    no_trouble(at)
    assert at.main.get("plotly_chart")


def test_settings_survive_a_method_error_and_a_page_switch():
    at = start(("generated", "two regions"), "pages/lab/segment.py")
    choose_method(at, "kmeans")  # k = 3 on an image of two gray values
    assert "fewer than 3 distinct colours" in texts(at.error)
    assert at.slider(key="segment.kmeans.k").value == 3
    at.slider(key="segment.kmeans.k").set_value(2).run()
    assert not at.error and metric(at, "Regions") == "2"
    at.switch_page("pages/lab/compare.py").run()
    at.switch_page("pages/lab/segment.py").run()
    no_trouble(at)
    assert at.selectbox(key="segment.method").value == "kmeans"
    assert at.slider(key="segment.kmeans.k").value == 2


def test_seeds_undo_and_clear():
    at = start(("generated", "blobs"), "pages/lab/segment.py")
    choose_method(at, "random_walker")
    assert not at.error  # seeds are optional: automatic ones from the Otsu threshold
    for row, col, label in [(5, 5, 1), (60, 60, 2)]:
        at.segmented_control(key="seed_label").set_value(label)
        type_seed(at, row, col)
        no_trouble(at)
    cur = at.session_state["current"]
    assert at.session_state["seeds"][cur.key] == [(5, 5, 1), (60, 60, 2)]
    assert "2 seeds" in texts(at.caption)
    at.button(key="seed_undo").click().run()
    assert at.session_state["seeds"][cur.key] == [(5, 5, 1)]
    at.button(key="seed_clear").click().run()
    no_trouble(at)
    assert at.session_state["seeds"][cur.key] == []


def test_full_image_on_request():
    at = start(("scikit-image", "retina"), "pages/lab/segment.py")
    assert "Worked on a preview" in texts(at.caption)
    at.toggle(key="segment.full").set_value(True).run()
    no_trouble(at)
    assert "Worked on the full image, 1411 × 1411" in texts(at.caption)
    at.button(key="segment.stop").click().run()  # Stop goes back to the preview
    no_trouble(at)
    assert at.toggle(key="segment.full").value is False
    assert "Worked on a preview" in texts(at.caption)


# --------------------------------------------------------------------------- compare page


def test_compare_methods_with_scores_and_all_thresholds():
    at = start(("generated", "blobs"), "pages/lab/compare.py")
    at.multiselect(key="compare.methods").set_value(["threshold", "kmeans", "watershed",
                                                     "region_growing"]).run()
    no_trouble(at)
    table = at.dataframe[0].value
    assert list(table["method"]) == ["Threshold", "K-means clustering", "Watershed"]
    assert {"regions", "run time (s)", "IoU", "Dice"} <= set(table.columns)
    assert table["IoU"].between(0, 1).all()
    assert "needs seeds" in texts(at.info) and not at.error  # region growing, no seeds placed
    best = table.loc[table["IoU"].idxmax(), "method"]
    assert list(table["best"]) == ["★" if m == best else "" for m in table["method"]]
    assert f"Best on this image: **{best}**" in texts(at.success)
    assert f"**{best}** ★ best IoU" in texts(at.markdown)
    at.toggle(key="compare.all_thresholds").set_value(True).run()
    no_trouble(at)
    captions = texts(at.caption)
    for algorithm in ("otsu", "li", "yen", "triangle", "isodata", "mean"):
        assert algorithm in texts(at.markdown)
    assert "threshold 0." in captions and "IoU" in captions
    assert "Best on this image" in texts(at.success)


def test_compare_puts_methods_that_need_seeds_last_until_seeds_are_placed():
    at = start(("generated", "blobs"), "pages/lab/compare.py")
    box = at.multiselect(key="compare.methods")
    needs = [m.name for m in segcore.list_methods() if m.seeds == "required"]
    assert box.options[-len(needs):] == [segcore.get_method(n).label + " (needs seeds)"
                                         for n in needs]
    assert "need seeds: place them on the Segment page" in texts(at.caption)
    at.switch_page("pages/lab/segment.py").run()
    choose_method(at, "region_growing")
    type_seed(at, 20, 20)
    at.switch_page("pages/lab/compare.py").run()
    at.multiselect(key="compare.methods").set_value(["threshold", "region_growing"]).run()
    no_trouble(at)
    assert not at.error and not at.info
    assert "Region growing uses your 1 seeds from the Segment page" in texts(at.caption)
    assert list(at.dataframe[0].value["method"]) == ["Threshold", "Region growing"]


def test_compare_asks_for_two_methods():
    at = start(("generated", "blobs"), "pages/lab/compare.py")
    at.multiselect(key="compare.methods").set_value(["kmeans"]).run()
    no_trouble(at)
    assert "at least two" in texts(at.info)


# --------------------------------------------------------------------------- evaluate page


def test_evaluate_a_segment_result_and_one_made_here():
    at = start(("generated", "shapes"), "pages/lab/segment.py")
    choose_method(at, "kmeans")
    at.slider(key="segment.kmeans.k").set_value(4).run()
    at.switch_page("pages/lab/evaluate.py").run()
    no_trouble(at)
    assert at.selectbox(key="evaluate.result").value == "Segment page: K-means clustering"
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Mean IoU"]) > 0.9  # four flat gray levels, four clusters
    columns = set(at.dataframe[0].value.columns)
    assert {"class", "IoU", "Dice", "precision", "recall", "pixels"} <= columns
    assert "IoU" in texts(at.markdown) and "Dice" in texts(at.markdown)

    hungarian = float({m.label: m.value for m in at.metric}["Mean IoU"])
    at.radio(key="evaluate.match").set_value("majority").run()
    no_trouble(at)
    assert float({m.label: m.value for m in at.metric}["Mean IoU"]) >= hungarian
    at.radio(key="evaluate.match").set_value("none").run()
    at.slider(key="evaluate.tolerance").set_value(0).run()
    no_trouble(at)
    at.selectbox(key="evaluate.result").set_value("Run a method here…").run()
    at.selectbox(key="evaluate.method").set_value("threshold").run()
    no_trouble(at)
    assert not at.error
    assert "Mean IoU" in [m.label for m in at.metric]
    at.run()  # the result made here must not pull the choice away from "run here"
    assert at.selectbox(key="evaluate.result").value == "Run a method here…"


def test_evaluate_says_where_unmatched_regions_went():
    at = start(("generated", "blobs"), "pages/lab/evaluate.py")
    at.selectbox(key="evaluate.result").set_value("Run a method here…").run()
    at.selectbox(key="evaluate.method").set_value("slic").run()  # many superpixels, 2 classes
    no_trouble(at)
    assert "found no class of their own and count as wrong" in texts(at.caption)
    figure = at.main.get("plotly_chart")[0].proto.spec
    assert "no class" in figure


def test_evaluate_without_truth_then_with_an_uploaded_label_mask():
    at = start(sample=None, page="pages/lab/evaluate.py")
    assert "no ground truth" in texts(at.info)
    cur = at.session_state["current"]
    h, w = cur.shape
    labels = np.zeros((h, w), np.uint8)
    labels[:, w // 3:] = 1
    labels[:, 2 * w // 3:] = 7
    at.radio(key="evaluate.mask_zero").set_value("ignore")
    at.file_uploader(key="evaluate.mask").set_value(("labels.png", png(labels), "image/png")).run()
    no_trouble(at)
    cur = at.session_state["current"]
    assert cur.truth_ignore == 0
    np.testing.assert_array_equal(cur.truth, labels)
    assert "Mean IoU" in [m.label for m in at.metric]
    assert {c["class"] for c in at.dataframe[0].value.to_dict("records")} == {1, 7}


# --------------------------------------------------------------------------- helpers


def test_log_grid_spans_the_range_and_holds_the_default():
    for spec in segcore.list_methods():
        for p in spec.params:
            if p.log:
                grid = p.grid()
                assert grid[0] == p.low and grid[-1] == p.high, (spec.name, p.name)
                assert p.default in grid and grid == sorted(set(grid))
                assert all(p.validate(v) == v for v in grid)


def test_seeds_scale_between_sizes_and_back():
    seeds = [(0, 0, 1), (99, 199, 2), (50, 100, 3)]
    small = segcore.scale_seeds(seeds, (100, 200), (50, 100))
    assert small == [(0, 0, 1), (49, 99, 2), (25, 50, 3)]
    assert segcore.scale_seeds(seeds, (100, 200), (100, 200)) == seeds


def test_before_after_splits_at_the_position():
    image = np.zeros((4, 10, 1), np.float32)
    labels = np.ones((4, 10), np.int32)
    out = segcore.viz.before_after(image, labels, position=0.5, alpha=1.0)
    np.testing.assert_allclose(out[0, 0], segcore.viz.label_palette(1)[1])  # overlay, left
    np.testing.assert_allclose(out[0, 9], 0)  # the image, right
    np.testing.assert_allclose(out[:, 4:6], 1)  # the dividing line


def test_the_reproducing_script_shows_on_request_and_is_the_download():
    at = start(("generated", "blobs"), page="pages/lab/segment.py")
    assert not at.code, "no code block until asked (it loads a 1.5 MB highlighter)"
    at.toggle(key="dl.show_script").set_value(True).run()
    no_trouble(at)
    assert len(at.code) == 1
    shown = at.code[0].value
    assert "segcore.segment(image, 'threshold'" in shown and "blobs" in shown
    at.toggle(key="dl.show_script").set_value(False).run()
    assert not at.code


def test_label_downloads():
    labels = np.arange(300, dtype=np.int32).reshape(15, 20)
    with Image.open(io.BytesIO(segcore.io.encode_labels_png(labels))) as im:
        assert im.mode == "I;16"
        np.testing.assert_array_equal(np.asarray(im), labels)
    with Image.open(io.BytesIO(segcore.io.encode_mask_png(labels, [3, 4]))) as im:
        mask = np.asarray(im)
    np.testing.assert_array_equal(mask, np.where(np.isin(labels, [3, 4]), 255, 0))


def test_snippet_reproduces_the_result(tmp_path, monkeypatch):
    image = segcore.synthetic.make("blobs").image
    params = {"k": 2, "space": "gray", "rng": 3}
    expected = segcore.segment(image, "kmeans", **params).labels
    code = reproduce_snippet("kmeans", params, sample="blobs", output="out.png")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "snippet", "exec"), {"print": lambda *a: None})
    with Image.open(tmp_path / "out.png") as im:
        np.testing.assert_array_equal(np.asarray(im), expected)


# --------------------------------------------------------------------------- the app's shape


def _app_pages() -> list[str]:
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"]


def test_pages_folder_holds_page_scripts_in_two_sections():
    # Streamlit's old multipage mode lists the top-level *.py of pages/ as pages until
    # st.navigation has run once; a class opening a fresh server at once saw them (and
    # a half-imported helper module). With no script there, that mode has nothing to offer.
    assert not list((ROOT / "pages").glob("*.py")), "pages/ itself must hold no script"
    listed = set(_app_pages())
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "pages").rglob("*.py")}
    assert listed == on_disk, "every page file is listed in app.py's LAB or LEARN, and back"
    assert all(p.startswith(("pages/lab/", "pages/learn/")) for p in listed)


def test_pages_use_only_public_glue_and_stay_short():
    import ast

    # A lesson page holds its short texts and equations besides its widgets, so it may
    # run longer than a lab page; computation stays in segcore either way.
    for path in sorted((ROOT / "pages").rglob("*.py")) + [ROOT / "app.py"]:
        text = path.read_text()
        limit = 350 if path.parent.name == "learn" else 200
        assert len(text.splitlines()) <= limit, f"{path.name} is no longer a thin page"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from {node.module}"


def test_glue_modules_are_short_and_public():
    import ast

    for path in sorted((ROOT / "seglab").glob("*.py")):
        text = path.read_text()
        assert len(text.splitlines()) <= 250, path.name
    for path in sorted(ROOT.rglob("*.py")):
        if ".venv" in path.parts or path.parts[-2] == "seglab":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seglab"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path} imports private {private} from {node.module}"


def test_a_method_error_keeps_the_image_and_settings_on_every_lab_page():
    at = start(("generated", "two regions"), "pages/lab/compare.py")
    at.multiselect(key="compare.methods").set_value(["kmeans", "threshold"]).run()
    no_trouble(at)  # kmeans k=3 on two gray values fails in words, threshold runs
    assert "fewer than 3 distinct colours" in texts(at.error)
    assert at.session_state["current"].name == "two regions"


def test_optional_seeds_make_the_picture_clickable_only_on_request():
    at = start(("generated", "blobs"), "pages/lab/segment.py")
    choose_method(at, "watershed")
    assert not at.main.get("plotly_chart"), "a plain picture until seeds are wanted"
    assert at.main.get("imgs") or at.main.get("image")
    at.toggle(key="seed_clicking").set_value(True).run()
    no_trouble(at)
    assert at.main.get("plotly_chart"), "the clickable picture"
    choose_method(at, "region_growing")  # required seeds: always clickable
    assert at.main.get("plotly_chart")


def test_an_unreadable_checkpoint_upload_is_refused_in_words():
    at = start(("generated", "blobs"), "pages/lab/segment.py")
    choose_method(at, "unet")
    at.selectbox(key="segment.unet.model").set_value("your own file…").run()
    no_trouble(at)
    assert "upload a file for “Model”" in texts(at.info)
    at.file_uploader(key="segment.unet.model.file").set_value(
        ("mine.pt", b"not a checkpoint", "application/octet-stream")).run()
    no_trouble(at)
    message = texts(at.info)
    assert "these settings cannot be used" in message and "'mine.pt'" in message, message
    assert "seglab-uploads" not in message  # the private path is shown by the file's name
    assert at.session_state["current"].name == "blobs"
