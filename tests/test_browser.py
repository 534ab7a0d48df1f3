"""The real app in a real browser: ``streamlit run app.py`` on 127.0.0.1, driven by
Playwright with Debian's Chromium.

What a user does is done here the way a user does it: the image goes through the
file chooser, the slider is moved with the keyboard, the mask comes through the
browser's download. With ``SEGLAB_SCREENSHOTS=1``, screenshots of every page and
lesson land in ``test-artifacts/screenshots`` so that a person can look at what users
see (``../shared/tools/shoot-pages`` takes them too); a failed test always leaves one of
what the browser showed then. Without the variable they are not taken: a tall
full-page picture costs about a second each, some 30 s of CI's 15 minutes.

Chromium is ``/usr/bin/chromium``. Without it these tests skip, except where
``SEGLAB_REQUIRE_BROWSER=1`` (CI sets it): there a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.lessons import commit_to_an_answer, lessons
from seglab.server import IDLE_JS, ServerError, app_server

# One xdist worker runs them all (make test): they share a server and a Chromium.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
#: Whether the tests save a screenshot of every page and lesson they open.
SHOOT_ALL = os.environ.get("SEGLAB_SCREENSHOTS") == "1"
SERVER_LOG = ARTIFACTS / "streamlit-browser-tests.log"

#: Milliseconds. The first page load starts Python, imports segcore and runs a method.
FIRST_LOAD_MS = 90_000
#: Milliseconds for a rerun after a click, a key press or an upload to show its result
#: (make test runs these beside another test worker on the same 2 cores).
RESULT_MS = 60_000
VIEWPORT = {"width": 1400, "height": 1000}

#: The pages as the sidebar names them, with the title each one shows.
PAGES = [("Image", "SegLab"), ("Segment", "Segment"), ("Compare", "Compare"),
         ("Try all", "Try all"), ("Evaluate", "Evaluate"), ("Datasets", "Datasets")]

def sidebar_names() -> list[str]:
    """Every page's name in the sidebar, in order: the lab pages, then the lessons."""
    return [name for name, _ in PAGES] + [title for _, title in lessons()]


_IDLE_JS = IDLE_JS  # the page is idle (seglab.server says what that means)



# --------------------------------------------------------------------------- fixtures


def _missing(reason: str):
    if os.environ.get("SEGLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; SEGLAB_REQUIRE_BROWSER=1 makes this a failure (install "
                    "Debian's chromium package, as .ci/run does).", pytrace=False)
    pytest.skip(f"{reason}; set SEGLAB_REQUIRE_BROWSER=1 to make this a failure.")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _missing(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS, timeout=FIRST_LOAD_MS)
        yield chromium
        chromium.close()


def _log_tail(path: Path = SERVER_LOG, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-n:])


@contextlib.contextmanager
def streamlit_server(log_name: str):
    """``streamlit run app.py`` of this checkout on a free port: yields its URL once
    it answers, and stops it however the block ends."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / log_name
    try:
        with app_server(log_path, timeout_s=FIRST_LOAD_MS / 1000) as (url, _, _):
            yield url
    except ServerError as err:
        pytest.fail(f"{err}:\n{_log_tail(log_path)}", pytrace=False)


@pytest.fixture(scope="module")
def app_url(browser):
    """The server the tests share; each test still gets its own session."""
    with streamlit_server(SERVER_LOG.name) as url:
        yield url


@pytest.fixture
def page(browser, app_url, request):
    """A fresh browser context, so a fresh Streamlit session, on the Image page.

    When the test fails, what the browser showed then is saved as
    ``FAILED-<test>.png`` next to the other screenshots."""
    failed_before = request.session.testsfailed
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(RESULT_MS)
    tab = context.new_page()
    tab.page_errors = []  # uncaught JavaScript errors of the app's frontend
    tab.on("pageerror", lambda err: tab.page_errors.append(str(err)))
    try:
        tab.goto(app_url + "/", timeout=FIRST_LOAD_MS)
        tab.wait_for_selector("[data-testid='stApp']", timeout=FIRST_LOAD_MS)
        tab.locator("[data-testid='stMain'] h1", has_text="SegLab").wait_for(
            timeout=FIRST_LOAD_MS)
        wait_idle(tab, timeout=FIRST_LOAD_MS)
        yield tab
        if request.session.testsfailed > failed_before:  # the call's report is already in
            screenshot(tab, f"FAILED-{request.node.name}")
        assert tab.page_errors == [], f"JavaScript errors in the page: {tab.page_errors}"
    finally:
        context.close()


# --------------------------------------------------------------------------- helpers


def wait_idle(page, *, timeout: int = RESULT_MS) -> None:
    """Wait until no script run is under way and nothing shown is stale.

    Call it after waiting for a sign that the rerun started or finished: right
    after a click the old, idle page is still there."""
    page.wait_for_function(_IDLE_JS, timeout=timeout, polling=100)
    # A fragment's run can follow the page's: make sure the quiet lasts.
    page.wait_for_timeout(300)
    page.wait_for_function(_IDLE_JS, timeout=timeout, polling=100)


def assert_no_error(page, where: str, *, allow_error_alert: bool = False) -> None:
    """No exception box, no traceback text and (unless allowed) no st.error."""
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, (
        f"{where}: exception shown: {exceptions.first.inner_text()[:2000]}\n{_log_tail()}")
    text = page.locator("[data-testid='stApp']").inner_text()
    assert "Traceback" not in text, f"{where}: traceback shown:\n{text[:3000]}"
    if not allow_error_alert:
        errors = page.locator("[data-testid='stAlertContentError']")
        assert errors.count() == 0, f"{where}: error shown: {errors.first.inner_text()}"


def go_to(page, name: str, title: str) -> None:
    """Open a page through the sidebar navigation and wait for it to finish."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
    page.locator("[data-testid='stMain'] h1", has_text=title).first.wait_for(timeout=RESULT_MS)
    wait_idle(page)


def screenshot(page, name: str) -> Path | None:
    """A screenshot of the whole page, below the fold included, saved as an artifact;
    only with ``SEGLAB_SCREENSHOTS=1``, or of a failure (``name`` starting FAILED).

    Streamlit scrolls inside its main container, not the document, so the window is
    made as tall as the content for the picture."""
    if not (SHOOT_ALL or name.startswith("FAILED")):
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("""() => Math.max(...[
        document.documentElement,
        document.querySelector("[data-testid='stMain']"),
        document.querySelector("[data-testid='stAppViewContainer']"),
        document.querySelector("[data-testid='stMainBlockContainer']"),
        document.querySelector("[data-testid='stSidebarContent']"),
    ].filter(Boolean).map(e => e.scrollHeight))""")
    path = SCREENSHOTS / f"{name}.png"
    page.mouse.move(5, VIEWPORT["height"] - 5)  # no tooltip left open by the last click
    page.set_viewport_size({"width": VIEWPORT["width"],
                            "height": int(min(max(height, VIEWPORT["height"]), 8000))})
    try:
        page.wait_for_timeout(400)  # charts and stretched images follow the new size
        page.screenshot(path=str(path), full_page=True, timeout=RESULT_MS)
    finally:
        page.set_viewport_size(VIEWPORT)
    return path


def blobs_png(path: Path) -> np.ndarray:
    """Write bright discs on a dark, slightly noisy background as an 8-bit gray PNG;
    return where the discs are (the exact foreground), ``bool`` (120, 160)."""
    h, w = 120, 160
    rr, cc = np.mgrid[:h, :w]
    truth = np.zeros((h, w), bool)
    for r, c, radius in [(30, 40, 18), (80, 110, 22), (90, 35, 12), (25, 125, 10)]:
        truth |= (rr - r) ** 2 + (cc - c) ** 2 <= radius ** 2
    rng = np.random.default_rng(0)
    values = np.where(truth, 0.85, 0.15) + rng.normal(0, 0.03, (h, w))
    Image.fromarray(np.clip(values * 255, 0, 255).round().astype(np.uint8)).save(path)
    return truth


def image_chooser(page):
    """The file input behind the Image page's "Image" uploader (not the mask's)."""
    return page.locator(
        "[data-testid='stFileUploaderDropzone'][aria-label='Image'] input[type='file']")


def upload_image(page, path: Path) -> None:
    """Choose ``path`` as the image through the Image page's file chooser."""
    page.get_by_role("tab", name="Upload").click()
    image_chooser(page).set_input_files(str(path))
    page.locator("[data-testid='stSidebar']", has_text=f"Current image: {path.name}").wait_for(
        timeout=RESULT_MS)
    wait_idle(page)


def result_picture(page):
    """The picture in the Segment page's result column (the overlay by default)."""
    return page.locator("[data-testid='stMain'] [data-testid='stImage'] img").first


def fetch_picture(page, img) -> tuple[str, np.ndarray]:
    """The ``src`` of an ``<img>`` and its pixels as the browser received them."""
    src = img.get_attribute("src")
    response = page.request.get(src, timeout=RESULT_MS)
    assert response.ok, f"{src}: HTTP {response.status}"
    return src, np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))


def wait_src_change(page, old_src: str) -> None:
    page.wait_for_function(
        """old => { const img = document.querySelector(
                "[data-testid='stMain'] [data-testid='stImage'] img");
            return img && img.getAttribute('src') !== old; }""",
        arg=old_src, timeout=RESULT_MS, polling=100)
    wait_idle(page)


def move_slider(page, label: str, key: str) -> str:
    """Focus the slider named ``label`` and press ``key`` (Home, End, ArrowRight...),
    as a keyboard user does; return the value it shows then.

    Streamlit's sliders are react-aria sliders: a visually hidden
    ``input[type=range]`` carries the label and takes the keys."""
    thumb = page.locator(f"[data-testid='stSlider'] input[type='range'][aria-label='{label}']")
    before = thumb.get_attribute("aria-valuetext")
    thumb.focus()
    page.keyboard.press(key)
    page.wait_for_function(
        """([label, before]) => { const el = document.querySelector(
                `[data-testid='stSlider'] input[type='range'][aria-label='${label}']`);
            return el && el.getAttribute('aria-valuetext') !== before; }""",
        arg=[label, before], timeout=RESULT_MS, polling=100)
    return thumb.get_attribute("aria-valuetext")


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMain'] [data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def download(page, button) -> tuple[str, bytes]:
    with page.expect_download(timeout=RESULT_MS) as info:
        button.click()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / np.logical_or(a, b).sum())


def upscale(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``mask`` enlarged (nearest) to ``shape``, as the app enlarges small pictures."""
    rows = np.arange(shape[0]) * mask.shape[0] // shape[0]
    cols = np.arange(shape[1]) * mask.shape[1] // shape[1]
    return mask[np.ix_(rows, cols)]


# --------------------------------------------------------------------------- tests


def test_every_page_opens_without_error(page):
    # First on the default image (no ground truth), then on a generated sample, whose
    # exact ground truth switches on the scores, the error views and the Evaluate page.
    main = page.locator("[data-testid='stMain']")
    for name, title in PAGES:
        if name != "Image":
            go_to(page, name, title)
        assert_no_error(page, f"{name} page (default image)")
        if name == "Segment":
            assert result_picture(page).is_visible(), "the Segment page shows no result"
            assert main.get_by_role("button", name="Labels", exact=True).is_visible()
        if name == "Compare":
            assert main.locator("[data-testid='stDataFrame']").count() == 1, \
                "the comparison table is missing"
            assert main.locator("[data-testid='stImage']").count() >= 2, \
                "the Compare page shows fewer than two results"
        if name == "Evaluate":
            assert page.locator("[data-testid='stMain'] [data-testid='stAlertContentInfo']",
                                has_text="no ground truth").count() == 1, \
                "Evaluate should say that this image has no ground truth yet"
        screenshot(page, f"{name.lower().replace(' ', '-')}-default")
    sidebar = page.locator("[data-testid='stSidebar']")
    assert "Current image: coins.png" in sidebar.inner_text()

    go_to(page, "Image", "SegLab")
    page.get_by_role("tab", name="Samples").click()
    page.get_by_role("button", name="blobs", exact=True).click()
    sidebar.locator("text=Current image: blobs").wait_for(timeout=RESULT_MS)
    wait_idle(page)
    assert "Ground truth known" in sidebar.inner_text()
    assert_no_error(page, "Image page (blobs sample)")
    screenshot(page, "image-blobs")

    go_to(page, "Segment", "Segment")
    assert_no_error(page, "Segment page (blobs sample)")
    iou_value = float(metric(page, "IoU"))
    assert iou_value > 0.9, f"Otsu on the blobs sample should score well, shows IoU {iou_value}"
    screenshot(page, "segment-blobs")

    go_to(page, "Compare", "Compare")
    assert page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").count() >= 1, \
        "the comparison table is missing"
    assert page.locator("[data-testid='stMain'] [data-testid='stImage']").count() >= 3, \
        "expected an overlay for each of the default methods"
    page.locator("[data-testid='stMain'] [data-testid='stCheckbox']",
                 has_text="Show every global threshold").click()
    page.locator("[data-testid='stMain'] [data-testid='stAlertContentSuccess']",
                 has_text="Best on this image").wait_for(timeout=RESULT_MS)
    wait_idle(page)
    assert_no_error(page, "Compare page with every threshold (blobs sample)")
    screenshot(page, "compare-blobs")

    go_to(page, "Evaluate", "Evaluate")
    assert_no_error(page, "Evaluate page (blobs sample)")
    for label in ("Mean IoU", "Mean Dice", "Pixel accuracy", "Boundary F1"):
        value = float(metric(page, label))
        assert 0.0 <= value <= 1.0, f"{label} shows {value}"
    assert page.locator("[data-testid='stMain'] .js-plotly-plot").count() >= 1, \
        "the confusion matrix is missing"
    screenshot(page, "evaluate-blobs")


def test_every_lesson_opens_asks_first_and_reveals(page):
    # Each lesson on its first image choice: no error, a question asked before anything
    # is revealed, its answer revealed after the learner commits (and a screenshot).
    found = lessons()
    assert found, "app.py lists no lesson in LEARN"
    main = page.locator("[data-testid='stMain']")
    for path, title in found:
        page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
        main.locator("h1").first.wait_for(timeout=RESULT_MS)
        wait_idle(page)
        assert_no_error(page, f"lesson {title}")
        assert "Predict first" in main.inner_text(), f"lesson {title} asks no question"
        reveal = main.get_by_role("button", name="Reveal").first
        if not reveal.is_enabled():  # commit to an answer first
            commit_to_an_answer(page)
            wait_idle(page)
        reveal.click()
        main.locator("[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentWarning']",
                     has_text="you said").first.wait_for(timeout=RESULT_MS)
        wait_idle(page)
        assert_no_error(page, f"lesson {title} after the reveal")
        screenshot(page, "learn-" + Path(path).stem)


def test_a_page_opened_by_its_address_on_a_fresh_server_keeps_the_app_around_it(browser):
    # A bookmarked or shared link is often the first request a server gets. It must
    # still run app.py, with its navigation and sidebar, and not Streamlit's legacy
    # listing of the files in pages/ (which would offer pages/common.py as a page).
    # Hence a server of its own: on the shared one app.py has already run.
    with streamlit_server("streamlit-deep-link.log") as url:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            tab = context.new_page()
            tab.goto(url + "/segment", timeout=FIRST_LOAD_MS)
            tab.locator("[data-testid='stMain'] h1", has_text="Segment").wait_for(
                timeout=FIRST_LOAD_MS)
            wait_idle(tab, timeout=FIRST_LOAD_MS)
            # Each link's text is its icon's name (a ligature), then the page's name.
            links = [t.strip() for t in
                     tab.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]
            names = sidebar_names()
            ok = len(links) == len(names) and all(
                link.endswith(name) for link, name in zip(links, names))
            if not ok:
                screenshot(tab, "FAILED-segment-by-address")
            assert ok, f"the sidebar should list the app's pages, it shows {links}"
            assert "Current image:" in tab.locator("[data-testid='stSidebar']").inner_text()
            assert_no_error(tab, "Segment page opened by its address")
        finally:
            context.close()


def test_upload_move_slider_see_overlay_change_download_mask(page, tmp_path):
    path = tmp_path / "bright-blobs.png"
    truth = blobs_png(path)
    upload_image(page, path)
    main = page.locator("[data-testid='stMain']")
    assert "160 × 120 pixels" in main.inner_text(), "the Image page should give the size"
    assert_no_error(page, "Image page after the upload")
    screenshot(page, "image-upload")

    go_to(page, "Segment", "Segment")
    assert_no_error(page, "Segment page on the uploaded image")
    assert metric(page, "Regions") == "2", "Otsu should split dark background and bright blobs"

    # The overlay at opacity 0.5, then 0 (the image itself), then 1 (only the label
    # colours), which it keeps for the rest of the test.
    img = result_picture(page)
    img.wait_for(timeout=RESULT_MS)
    src_half, _ = fetch_picture(page, img)
    assert move_slider(page, "Opacity", "Home") == "0.00"
    wait_src_change(page, src_half)
    src_none, plain = fetch_picture(page, result_picture(page))
    plain = plain.astype(float)
    assert np.abs(plain - plain.mean(-1, keepdims=True)).mean() < 3, \
        "at opacity 0 the overlay should be the gray image itself"
    original = upscale(np.asarray(Image.open(path), float), plain.shape[:2])
    corr = np.corrcoef(original.ravel(), plain.mean(-1).ravel())[0, 1]
    assert corr > 0.95, f"at opacity 0 the overlay should show the uploaded image (r={corr:.3f})"

    assert move_slider(page, "Opacity", "End") == "1.00"
    wait_src_change(page, src_none)
    _, colours = fetch_picture(page, result_picture(page))
    shown_truth = upscale(truth, colours.shape[:2])
    inside = np.median(colours[shown_truth], axis=0)
    outside = np.median(colours[~shown_truth], axis=0)
    assert np.abs(inside - outside).max() > 60, \
        f"blobs and background should get distinct colours, got {inside} and {outside}"
    nearer_inside = (np.abs(colours - inside).sum(-1) < np.abs(colours - outside).sum(-1))
    agree = (nearer_inside == shown_truth).mean()
    assert agree > 0.97, f"only {agree:.3f} of the overlay's pixels show the right label colour"
    assert_no_error(page, "Segment page after moving the opacity slider")

    # The mask: white where the method found the bright blobs, at the image's size.
    # Streamlit keeps hidden copies of the buttons in a row of columns: looking them up
    # by their role finds only the one a user sees.
    page.locator("[data-testid='stMain']").get_by_role("button", name="Mask").click()
    button = page.get_by_role("button", name="Download mask PNG")
    button.wait_for(timeout=RESULT_MS)
    name, data = download(page, button)
    assert name.endswith("-mask.png"), name
    mask = np.asarray(Image.open(io.BytesIO(data)))
    assert mask.shape == truth.shape, f"mask is {mask.shape}, image is {truth.shape}"
    assert set(np.unique(mask).tolist()) == {0, 255}, np.unique(mask)
    score = iou(mask == 255, truth)
    assert score > 0.95, f"mask IoU with the bright blobs is {score:.3f}"
    page.keyboard.press("Escape")  # close the popover

    # The labels: one value per region, 0 nowhere, same size.
    name, data = download(page, page.locator("[data-testid='stMain']").get_by_role(
        "button", name="Labels", exact=True))
    assert name.endswith("-labels.png"), name
    labels = np.asarray(Image.open(io.BytesIO(data)))
    assert labels.shape == truth.shape
    assert set(np.unique(labels).tolist()) == {1, 2}
    assert iou(labels == 2, truth) > 0.95

    # A method parameter: a manual threshold above every gray value leaves one region.
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']",
                 has_text="Algorithm").click()
    page.get_by_role("option", name="manual", exact=True).click()
    # The parameters line under the result names each by its label and code name.
    page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']",
                 has_text="Algorithm (algorithm) = manual").wait_for(timeout=RESULT_MS)
    wait_idle(page)
    assert metric(page, "Regions") == "2"
    src_before, _ = fetch_picture(page, result_picture(page))
    assert move_slider(page, "Threshold (gray value)", "End") == "1.00"
    wait_src_change(page, src_before)
    page.locator("[data-testid='stMetric']", has_text="Regions").locator(
        "[data-testid='stMetricValue']", has_text="1").wait_for(timeout=RESULT_MS)
    assert_no_error(page, "Segment page after moving the level slider")
    screenshot(page, "segment-upload")


def test_bad_upload_says_so_and_the_app_carries_on(page, tmp_path):
    bad = tmp_path / "holiday.png"
    bad.write_text("These are notes, not a picture.\n")
    page.get_by_role("tab", name="Upload").click()
    image_chooser(page).set_input_files(str(bad))
    error = page.locator("[data-testid='stMain'] [data-testid='stAlertContentError']")
    error.first.wait_for(timeout=RESULT_MS)
    wait_idle(page)
    message = error.first.inner_text()
    assert "holiday.png" in message, f"the error should name the file: {message!r}"
    for jargon in ("Traceback", "Exception", "Errno", "UnidentifiedImageError", "cannot identify"):
        assert jargon not in message, f"the error should be in plain words: {message!r}"
    assert_no_error(page, "Image page after a bad upload", allow_error_alert=True)
    assert "Current image: coins.png" in page.locator("[data-testid='stSidebar']").inner_text(), \
        "a bad upload must leave the previous image chosen"
    screenshot(page, "image-bad-upload")

    # The app still works: the Segment page runs on the image kept, and a good upload
    # after the bad one is taken.
    go_to(page, "Segment", "Segment")
    assert_no_error(page, "Segment page after a bad upload")
    assert "coins.png" in page.locator("[data-testid='stMain']").inner_text()
    result_picture(page).wait_for(timeout=RESULT_MS)
    go_to(page, "Image", "SegLab")
    good = tmp_path / "after-the-bad-one.png"
    blobs_png(good)
    upload_image(page, good)
    assert_no_error(page, "Image page after a good upload following a bad one")


#: The classroom: how many visitors open the link of a fresh server at once, and
#: where each one goes (two the link itself, two a page's own address). Four first
#: runs at once on 2 cores are already concurrent; eight at once on a fresh server
#: took CI's slower machine past two minutes. The eight sessions of tests/test_load.py
#: come on a warm server.
CLASS_PATHS = ["/", "/segment", "/", "/evaluate"]
#: Titles each path shows in its h1.
CLASS_TITLES = {"/": "SegLab", "/segment": "Segment", "/evaluate": "Evaluate"}
#: Milliseconds for the whole class to get its pages: 2 cores, 4 first runs.
CLASS_MS = 120_000
#: File names that Streamlit's legacy multipage mode offered as pages when pages/ held
#: scripts (the app's pages now live in pages/lab/ and pages/learn/).
RAW_PAGE_FILES = ("app", "common", "home", "compare", "evaluate", "segment")


def test_a_class_opening_a_fresh_server_at_once_all_get_the_app(browser):
    # A teacher starts the app and says "everyone open the link": the server's very
    # first script runs are many at once. Each visitor must get the app (its page,
    # its navigation, its sidebar), none an error, none Streamlit's legacy listing
    # of the files in pages/, whatever a concurrent first run is still importing.
    log_name = "streamlit-classroom.log"
    log_path = ARTIFACTS / log_name
    with streamlit_server(log_name) as url:
        contexts, tabs = [], []
        try:
            for _ in CLASS_PATHS:
                ctx = browser.new_context(viewport=VIEWPORT)
                ctx.set_default_timeout(CLASS_MS)
                contexts.append(ctx)
            # No barrier: the pages are sent on their way one after the other and load in
            # parallel, so their WebSockets open, and their first runs start, within about
            # a second of each other (the spread is reported). An earlier barrier held each
            # page's request for the frontend's main bundle with a Playwright route until
            # all had asked; one run in five here, a released page then never finished
            # loading its modules nor opened its WebSocket: request interception, not the
            # server (all its requests were answered).
            opened = {}
            for i, (ctx, path) in enumerate(zip(contexts, CLASS_PATHS)):
                tab = ctx.new_page()
                tab.page_errors = []
                tab.on("pageerror", lambda err, tab=tab: tab.page_errors.append(str(err)))
                tab.on("websocket", lambda ws, i=i: opened.setdefault(i, time.monotonic()))
                tabs.append(tab)
            released = time.monotonic()
            for tab, path in zip(tabs, CLASS_PATHS):
                tab.goto(url + path, wait_until="commit", timeout=FIRST_LOAD_MS)
            deadline = released + CLASS_MS / 1000

            problems = []
            for i, (tab, path) in enumerate(zip(tabs, CLASS_PATHS), start=1):
                who = f"session {i} ({path})"
                left = max(1_000, int((deadline - time.monotonic()) * 1000))
                try:
                    wait_idle(tab, timeout=left)
                except Exception as exc:  # noqa: BLE001  (reported with the others)
                    state = tab.evaluate("""() => { const a = document.querySelector(
                        "[data-testid='stApp']"); return a && [
                        a.getAttribute('data-test-connection-state'),
                        a.getAttribute('data-test-script-state')].join(' '); }""")
                    problems.append(f"{who}: not idle in time (state {state}): "
                                    f"{str(exc).splitlines()[0]}")
                    continue
                text = tab.locator("[data-testid='stApp']").inner_text()
                exceptions = tab.locator("[data-testid='stException']")
                if exceptions.count():
                    problems.append(f"{who}: exception shown: "
                                    f"{exceptions.first.inner_text()[:500]!r}")
                if "This app has encountered an error" in text:
                    problems.append(f"{who}: 'This app has encountered an error'")
                # Each link's text is its icon's name (a ligature), then the page's name.
                links = [t.strip() for t in
                         tab.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]
                raw = [link for link in links
                       if link.split()[-1:] and link.split()[-1] in RAW_PAGE_FILES]
                names = sidebar_names()
                if raw or len(links) != len(names) or not all(
                        link.endswith(name) for link, name in zip(links, names)):
                    problems.append(f"{who}: the sidebar should list the app's pages "
                                    f"{names}, it shows {links}")
                h1 = tab.locator("[data-testid='stMain'] h1").all_inner_texts()
                if not any(CLASS_TITLES[path] in t for t in h1):
                    problems.append(f"{who}: title {CLASS_TITLES[path]!r} missing, "
                                    f"h1s are {h1}")
                if tab.page_errors:
                    problems.append(f"{who}: JavaScript errors {tab.page_errors}")
            took = time.monotonic() - released
            for i, tab in enumerate(tabs, start=1):
                try:
                    screenshot(tab, f"classroom-{i}")
                except Exception as exc:  # noqa: BLE001  (a picture is not the verdict)
                    problems.append(f"session {i}: no screenshot: {exc}")
            spread = (max(opened.values()) - min(opened.values())) if opened else None
            log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
            for word in ("Traceback", "ImportError"):
                if word in log_text:
                    problems.append(f"server log contains {word!r}")
            assert not problems, (
                f"{len(problems)} problem(s) with {len(tabs)} visitors opening a fresh "
                f"server at once (WebSockets opened within "
                f"{'?' if spread is None else f'{spread:.2f}'} s, all idle after "
                f"{took:.1f} s):\n  " + "\n  ".join(problems)
                + f"\n--- server log ({log_name}), tail:\n{_log_tail(log_path, 60)}")
        finally:
            for ctx in contexts:
                ctx.close()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and every process under it have used so
    far: the live ones, and those it has waited for (a worker ended by Stop)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    total, todo = times[pid][1], [pid]
    while todo:
        one = todo.pop()
        total += times[one][0]
        todo += [c for c, parent in parents.items() if parent == one]
    return total / tick


# Both ways a long run stops: the random walker reports progress and stops at its next
# report; Felzenszwalb is one call into scikit-image, so it runs in a worker process
# that the page ends (segcore.stoppable).
@pytest.fixture(scope="module")
def photo_server(tmp_path_factory):
    """A server of its own (its CPU time is the verdict) and a 6 MP photo, which keeps
    either method busy for well over ten seconds on the full image; shared by the two
    methods, whose runs each test ends."""
    from benchmarks.photo import phone_photo

    path = tmp_path_factory.mktemp("goes-away") / "photo-6mp.png"
    Image.fromarray(phone_photo(6.0)).save(path)
    with app_server(ARTIFACTS / "streamlit-goes-away.log",
                    timeout_s=FIRST_LOAD_MS / 1000) as (url, proc, _):
        yield url, proc, path


@pytest.mark.parametrize("method", ["Random walker", "Felzenszwalb graph segmentation"])
def test_a_full_image_run_stops_when_its_browser_goes_away(browser, photo_server, method):
    # The browser starts a full-image run, sees its progress bar, and leaves: Streamlit
    # asks the script to stop when the session's socket closes, so the server's CPU
    # (and its workers') goes quiet within a few seconds.
    url, proc, path = photo_server
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RESULT_MS)
    tab = context.new_page()
    tab.goto(url + "/", timeout=FIRST_LOAD_MS)
    tab.locator("[data-testid='stMain'] h1", has_text="SegLab").wait_for(
        timeout=FIRST_LOAD_MS)
    wait_idle(tab, timeout=FIRST_LOAD_MS)
    upload_image(tab, path)
    go_to(tab, "Segment", "Segment")
    tab.locator("[data-testid='stMain'] [data-testid='stSelectbox']",
                has_text="Method").click()
    tab.get_by_role("option", name=method).click()
    wait_idle(tab, timeout=120_000)  # the preview run (1 MP)
    tab.locator("[data-testid='stMain'] [data-testid='stCheckbox']",
                has_text="Use the full image").click()
    tab.locator("[data-testid='stProgress']").wait_for(timeout=RESULT_MS)
    before = _cpu_seconds(proc.pid)
    time.sleep(2)
    running = (_cpu_seconds(proc.pid) - before) / 2
    # Measured as a share of what the run itself used, so that other work on the
    # machine (which slows both alike) does not decide the verdict.
    assert running > 0.1, f"the full-image run should be computing, used {running:.2f} s/s"
    context.close()  # the user closes the tab mid-run
    time.sleep(4)
    before = _cpu_seconds(proc.pid)
    time.sleep(3)
    busy = (_cpu_seconds(proc.pid) - before) / 3
    assert busy < running / 4, (
        f"the server still computes ({busy:.2f} s/s, {running:.2f} during the run) after "
        "the browser left:\n" + _log_tail(ARTIFACTS / "streamlit-goes-away.log"))
