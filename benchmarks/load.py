"""Many users at once: browser sessions on the real app at the same time, in waves.

    python -m benchmarks.load [--sessions 8] [--waves 2] [--out test-artifacts]
                              [--allocator trimmed|default]

The app is ``streamlit run app.py`` on 127.0.0.1 and a free port, started here;
each session has an image of its own.

Each visitor has a browser context of its own (its own cookies and cache) in one
headless Chromium (Debian's ``/usr/bin/chromium``); all are driven at once with
Playwright's asyncio API. Each wave opens a new tab in every context, so a new
Streamlit session, which must start on the default image. Every session:

1. opens the app and uploads its own picture through the Image page's file chooser:
   a generated PNG of a size no other session of its wave has (200-600 pixels), its own
   colours, shading and number of discs; half the sessions name their file
   ``photo.png``, as phones do, the others a name of their own;
2. on the Segment page runs threshold (the default), k-means and watershed, then
   adds one or two seeds for the watershed with the typed-position form;
3. opens Compare (threshold, k-means and Felzenszwalb side by side), Evaluate, and
   the lesson "What segmentation is" on its own image.

After every step it checks what the page shows: no exception box, no error alert,
no traceback; the sidebar names its own file; no other session's image size or
file name appears anywhere; its own size where the page states one. The pictures
are fetched as the browser got them and compared with what this session's image
must give (the picture itself on the Image page and in the sidebar; on the
Segment page each method's overlay, computed here with segcore from the same
file): the own one
must be the nearest of all sessions' and close. The region counts shown (Segment
page, Compare page) must be those of its own image, and the seed count its own.

Every session stays open until the last one has finished its path; then
Streamlit's own account of what it holds (``/_stcore/metrics``: uploaded files,
pictures, ``st.cache_data``) is read, and the tabs close.

The server's memory is the resident memory (``VmRSS``) of its process and every
process under it (the workers of long runs), read from ``/proc`` every 0.2 s:
the peak over the whole run, and the level after each wave once its sessions are
gone. The server is started with ``server.disconnectedSessionTTL`` set to 2 s
(the default keeps a closed tab's session 120 s for a reconnect); a fresh
session's visit after each wave lets Streamlit drop the expired ones, and its
account is read again. By default the server also runs with malloc settings
under which its resident memory follows what is in use (:data:`TRIMMED_MALLOC`;
glibc's defaults keep freed memory, so the level after a burst stays near its
peak, ``--allocator default``), so that memory left after a wave is what the
sessions left behind. Waves use different pictures, so caches turn over instead
of being hit again: a leak per session or per image shows as the level growing
from wave to wave.

Every wait has a time limit (``STEP_MS``) and so has each wave (150 s; a session
not done by then is stopped and reported).

Prints a table and writes ``load.json`` to ``--out``. ``tests/test_load.py`` runs
the same scenario and asserts on it.
"""

from __future__ import annotations

import argparse
import asyncio
import colorsys
import concurrent.futures
import contextlib
import io
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
from PIL import Image

from seglab.server import IDLE_JS, ServerError, app_server

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
#: Milliseconds any one wait may take (eight sessions share two cores).
STEP_MS = 90_000
#: Seconds a closed session is kept for a reconnect (Streamlit's default is 120).
SESSION_TTL_S = 2
#: Seconds between two readings of the server's memory.
SAMPLE_S = 0.2
#: The lesson each session opens, and the methods it runs on the Segment page:
#: (registry name, label in the method picker, a slider only that method shows).
LESSON = "What segmentation is"
METHODS = [("threshold", "Threshold", "Threshold (gray value)"),
           ("kmeans", "K-means clustering", "Clusters (k)"),
           ("watershed", "Watershed", "Marker prominence (h)")]
#: Interactions on every session's path, besides adding its seeds.
PATH_STEPS = 9
#: The Compare page's default methods, in the order it shows them.
COMPARED = ["threshold", "kmeans", "felzenszwalb"]
#: A fetched picture matches the expected one when their mean absolute difference
#: (0-255) is below this; the own picture must also be the nearest of all sessions'.
PICTURE_TOLERANCE = 4.0
#: Pictures are compared at this size (longer side, pixels).
COMPARE_SIDE = 64


# --------------------------------------------------------------------------- visitors


@dataclass
class Visitor:
    """One browser session of one wave: its picture and what the app must show for it."""

    index: int
    wave: int
    name: str
    path: Path
    width: int
    height: int
    seeds: int  # how many seeds it adds (1 or 2, typed position, label 1)
    regions: dict = field(default_factory=dict)  # method (or "watershed+seeds") -> count
    pictures: dict = field(default_factory=dict, repr=False)  # what -> expected uint8 RGB

    @property
    def size_text(self) -> str:
        return f"{self.width} × {self.height}"

    @property
    def shared_name(self) -> bool:
        return self.name == "photo.png"

    @property
    def who(self) -> str:
        return f"wave {self.wave} session {self.index} ({self.name}, {self.size_text})"


def picture(index: int, wave: int, sessions: int) -> np.ndarray:
    """The generated picture of one session, ``uint8 (H, W, 3)``: a width no other
    session of its wave has, its own hue, shading and 2 to 9 bright discs."""
    step = index / max(sessions, 1)  # sizes spread over 200-600 pixels, any count
    width = 210 + int(360 * step) + 20 * (wave % 2)
    height = 580 - int(340 * step) - 11 * (wave % 3)
    rng = np.random.default_rng(7919 * wave + index)
    hue = (index + 0.5 * wave) / max(sessions, 1)
    back = np.array(colorsys.hsv_to_rgb(hue, 0.6, 0.3))
    disc = np.array(colorsys.hsv_to_rgb((hue + 0.5) % 1, 0.7, 0.9))
    rr, cc = np.mgrid[:height, :width]
    img = np.empty((height, width, 3))
    img[:] = back
    img *= (0.7 + 0.6 * cc / width)[..., None]
    k = index % 8 + 2
    for j in range(k):
        r, c = rng.uniform(0.15, 0.85) * height, (j + 0.5) / k * width
        radius = min(height, width / k) * rng.uniform(0.2, 0.35)
        img[(rr - r) ** 2 + (cc - c) ** 2 <= radius ** 2] = disc
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def make_visitors(sessions: int, wave: int, folder: Path) -> list[Visitor]:
    """Write each session's PNG to ``folder`` and work out, with segcore, what the
    app must show for it (as the app decodes and segments it, default settings)."""
    import segcore
    from segcore import io as sio
    from segcore import viz

    visitors = []
    for i in range(sessions):
        pixels = picture(i, wave, sessions)
        h, w = pixels.shape[:2]
        name = "photo.png" if i % 2 == 0 else f"visitor-w{wave}-s{i}.png"
        sub = folder / f"w{wave}-s{i}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / name
        Image.fromarray(pixels).save(path)
        image, _ = sio.load_image_with_info(path.read_bytes())
        preview = sio.preview(image)  # the page's preview (1 MP): the image itself here
        v = Visitor(i, wave, name, path, w, h, seeds=1 + i % 2)
        v.pictures["image"] = viz.display_rgb(preview)
        v.pictures["sidebar"] = viz.display_rgb(preview, side=320)
        for method in [m for m, _, _ in METHODS] + ["felzenszwalb"]:
            seg = segcore.segment(preview, method)
            v.regions[method] = seg.n_regions
            if method != "felzenszwalb":
                v.pictures[method] = viz.display_rgb(
                    viz.overlay(preview, seg.labels, alpha=0.5, show_boundaries=False))
        seeds = [(h // 2, w // 4, 1)] * v.seeds  # the typed form's default position
        seg = segcore.segment(preview, "watershed", seeds=seeds)
        v.regions["watershed+seeds"] = seg.n_regions
        v.pictures["watershed+seeds"] = viz.display_rgb(
            viz.overlay(preview, seg.labels, alpha=0.5, show_boundaries=False))
        visitors.append(v)
    return visitors


def picture_distance(shown: np.ndarray, expected: np.ndarray) -> float:
    """Mean absolute difference (0-255) of two ``uint8`` RGB pictures, both reduced
    to the same small size first (box filter): the browser gets pictures as JPEG,
    whose errors, like the pictures' noise, average out, and a picture of another
    size still compares."""
    h, w = shown.shape[:2]
    scale = COMPARE_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    a, b = (np.asarray(Image.fromarray(p).resize(size, Image.BOX), np.float32)
            for p in (shown, expected))
    return float(np.abs(a - b).mean())


# --------------------------------------------------------------------------- server memory


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        tree.setdefault(ppid, []).append(int(stat.parent.name))
    return tree


def _status_kb(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and every live
    process under it."""
    tick = os.sysconf("SC_CLK_TCK")
    tree, todo, total = _children(), [pid], 0
    while todo:
        one = todo.pop()
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
        todo += tree.get(one, [])
    return total / tick


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def tree_rss_kb(pid: int) -> tuple[int, int]:
    """Resident memory (kB) of process ``pid`` and every process under it, and how
    many processes that is. Pages shared between them are counted in each."""
    tree, todo, total, count = _children(), [pid], 0, 0
    while todo:
        one = todo.pop()
        rss = _status_kb(one, "VmRSS")
        if rss:
            total, count = total + rss, count + 1
        todo += tree.get(one, [])
    return total, count


class MemoryWatch:
    """Reads the server tree's resident memory every ``SAMPLE_S`` in a thread."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[tuple[float, int, int]] = []  # (time, kB, processes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory-watch")

    def _run(self) -> None:
        while not self._stop.is_set():
            kb, n = tree_rss_kb(self.pid)
            self.samples.append((time.monotonic(), kb, n))
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def peak_mb(self, since: float = 0.0) -> float:
        kbs = [kb for t, kb, _ in self.samples if t >= since]
        return round(max(kbs, default=0) / 1024, 1)

    def now_mb(self, seconds: float = 2.0) -> float:
        """The median over the last ``seconds`` (read fresh now, too)."""
        kb, n = tree_rss_kb(self.pid)
        self.samples.append((time.monotonic(), kb, n))
        recent = [k for t, k, _ in self.samples if t >= time.monotonic() - seconds]
        return round(statistics.median(recent) / 1024, 1)


def streamlit_metrics(url: str) -> dict:
    """What Streamlit says about itself (``/_stcore/metrics``): ``active_sessions``
    (connected browser tabs) and ``holds_mb``, the memory it holds by holder
    (``cache_memory_bytes``, MB): ``UploadedFileManager`` (uploaded files),
    ``st_memory_media_file_storage`` (pictures sent to browsers), ``st_cache_data``,
    ``st_session_state`` (of the connected sessions) and others. A holder that holds
    nothing is left out."""
    try:
        with urllib.request.urlopen(url + "/_stcore/metrics", timeout=30) as r:
            text = r.read().decode()
    except OSError as err:
        return {"active_sessions": None, "holds_mb": {}, "error": str(err)}
    held: dict[str, float] = {}
    active = None
    for line in text.splitlines():
        if m := re.match(r"active_sessions\s+([0-9.]+)", line):
            active = int(float(m.group(1)))
        elif m := re.match(r"cache_memory_bytes\{(.*)\}\s+([0-9.eE+]+)", line):
            kind = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))).get("cache_type", "?")
            held[kind] = held.get(kind, 0.0) + float(m.group(2)) / 2**20
    return {"active_sessions": active,
            "holds_mb": {k: round(v, 2) for k, v in sorted(held.items())}}


#: glibc's malloc keeps freed memory for reuse (per thread arena, and a threshold for
#: memory-mapped blocks that grows as large blocks are freed), so a server's resident
#: memory after a burst stays near its peak whatever is still in use. With these
#: settings every block above 256 kB is mapped and unmapped on its own, and freed
#: memory goes back to the system: resident memory then follows what is in use,
#: which is what a leak check needs. ``--allocator default`` keeps glibc's defaults.
TRIMMED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "262144", "MALLOC_TRIM_THRESHOLD_": "262144",
                  "MALLOC_ARENA_MAX": "2"}


@contextlib.contextmanager
def load_server(log_path: Path, *, timeout_s: float = 120, trimmed: bool = True):
    """:func:`seglab.server.app_server` with closed sessions dropped after
    ``SESSION_TTL_S`` (set through Streamlit's environment variable), and with
    :data:`TRIMMED_MALLOC` where ``trimmed``."""
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
    if trimmed:
        env.update(TRIMMED_MALLOC)
    before = {key: os.environ.get(key) for key in env}

    def restore() -> None:  # only the server gets them, not the browser started later
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    os.environ.update(env)
    try:
        with app_server(log_path, timeout_s=timeout_s) as (url, proc, _):
            restore()
            yield url, proc
    finally:
        restore()


# --------------------------------------------------------------------------- one session


@dataclass
class SessionRecord:
    index: int
    wave: int
    name: str
    size: str
    planned: int  # interactions on its path
    interactions: int = 0  # done
    seconds: float = 0.0
    retries: int = 0  # picture fetches tried again after a connection reset
    clicked_again: list = field(default_factory=list)  # clicks that changed nothing
    steps: list = field(default_factory=list)  # (step, seconds)
    problems: list = field(default_factory=list)
    picture_distances: dict = field(default_factory=dict)  # what -> (own, nearest other)


class Session:
    """A browser session of one visitor, with the checks it runs after each step."""

    def __init__(self, page, url: str, me: Visitor, everyone: list[Visitor],
                 record: SessionRecord):
        self.page, self.url, self.me, self.everyone = page, url, me, everyone
        self.record = record
        self.page_errors: list[str] = []
        page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        self.main = page.locator("[data-testid='stMain']")

    def problem(self, text: str) -> None:
        self.record.problems.append(f"{self.me.who}: {text}")

    async def idle(self) -> None:
        """Wait until no script runs and nothing shown is stale, and stays so."""
        await self.page.wait_for_function(IDLE_JS, timeout=STEP_MS, polling=250)
        await self.page.wait_for_timeout(300)  # a fragment's run can follow the page's
        await self.page.wait_for_function(IDLE_JS, timeout=STEP_MS, polling=250)

    async def step(self, name: str, action) -> None:
        """One user interaction: ``action()`` waits for its own sign of the new page,
        then the page must be idle; then the common checks."""
        started = time.monotonic()
        await action()
        await self.idle()
        self.record.interactions += 1
        self.record.steps.append((name, round(time.monotonic() - started, 2)))
        await self.look(name)

    async def look(self, where: str) -> None:
        """No error of any kind; this session's image and nobody else's."""
        app = self.page.locator("[data-testid='stApp']")
        text = await app.inner_text()
        exceptions = self.page.locator("[data-testid='stException']")
        if await exceptions.count():
            self.problem(f"{where}: exception shown: {(await exceptions.first.inner_text())[:500]}")
        if "Traceback" in text or "This app has encountered an error" in text:
            self.problem(f"{where}: error text shown: {text[:1000]!r}")
        errors = self.page.locator("[data-testid='stAlertContentError']")
        if await errors.count():
            self.problem(f"{where}: error shown: {(await errors.first.inner_text())[:500]}")
        if self.page_errors:
            self.problem(f"{where}: JavaScript errors {self.page_errors}")
            self.page_errors.clear()
        sidebar = await self.page.locator("[data-testid='stSidebar']").inner_text()
        if where == "open":  # a new session starts on the default sample, nobody's upload
            if "Current image: coins.png" not in sidebar:
                named = re.findall(r"Current image: .*", sidebar) or ["no image named"]
                self.problem(f"a new session does not start on the default image: "
                             f"{named[0]!r}")
        elif f"Current image: {self.me.name}" not in sidebar:
            named = re.findall(r"Current image: .*", sidebar) or ["no image named"]
            self.problem(f"{where}: the sidebar does not name this session's file: "
                         f"{named[0]!r}")
        for other in self.everyone:
            if other is self.me:
                continue
            if other.size_text in text:
                self.problem(f"{where}: another session's image size {other.size_text} "
                             f"({other.who}) is shown")
            if not other.shared_name and other.name in text:
                self.problem(f"{where}: another session's file name {other.name} is shown")

    async def expect_text(self, where: str, text: str) -> None:
        if text not in await self.main.inner_text():
            self.problem(f"{where}: expected {text!r} on the page")

    async def fetch(self, img) -> np.ndarray:
        """The picture an ``<img>`` shows, fetched again from the server. A connection
        reset (a kept-alive connection the busy server closed) is tried again, twice."""
        src = urljoin(self.url + "/", await img.get_attribute("src"))
        for attempt in range(3):
            try:
                response = await self.page.request.get(src, timeout=STEP_MS)
                break
            except Exception as err:  # noqa: BLE001  (Playwright's own Error type)
                if "ECONNRESET" not in str(err) or attempt == 2:
                    raise
                self.record.retries += 1
                await asyncio.sleep(0.5)
        if not response.ok:
            raise RuntimeError(f"{src}: HTTP {response.status}")
        return np.asarray(Image.open(io.BytesIO(await response.body())).convert("RGB"))

    async def check_picture(self, where: str, what: str, img) -> None:
        """The picture ``img`` shows must be this session's ``what`` (expected
        picture), and nearer to it than to any other session's."""
        shown = await self.fetch(img)
        distances = {v.index: picture_distance(shown, v.pictures[what]) for v in self.everyone}
        own = distances.pop(self.me.index)
        nearest = min(distances.items(), key=lambda kv: kv[1], default=(None, np.inf))
        self.record.picture_distances[f"{where}: {what}"] = (round(own, 2), round(nearest[1], 2))
        if own > PICTURE_TOLERANCE or own >= nearest[1]:
            self.problem(f"{where}: the {what} picture is not this session's: mean difference "
                         f"{own:.1f} from its own, {nearest[1]:.1f} from session "
                         f"{nearest[0]}'s")

    async def regions(self) -> str:
        box = self.main.locator("[data-testid='stMetric']", has_text="Regions").first
        return (await box.locator("[data-testid='stMetricValue']").inner_text()).strip()

    async def check_result(self, where: str, what: str) -> None:
        shown = await self.regions()
        if shown != str(self.me.regions[what]):
            self.problem(f"{where}: shows {shown} regions, its own image gives "
                         f"{self.me.regions[what]} with {what}")
        await self.expect_text(where, f"Worked on the image, {self.me.size_text} pixels.")
        img = self.main.locator("[data-testid='stImage'] img").first
        await self.check_picture(where, what, img)

    # ----------------------------------------------------------------------- the path

    async def click_until(self, what: str, target, sign, *, lost) -> None:
        """Click ``target`` until ``sign`` shows. Under load a click can land while the
        page is being redrawn and change nothing; when ``lost()`` says so once the
        page is idle, the click is made again (at most twice more) and reported in
        the figures, never hidden: a click that did something but not the right
        thing still fails."""
        for attempt in range(3):
            await target.click()
            try:
                await sign.wait_for(timeout=STEP_MS // 3)
                return
            except Exception:  # noqa: BLE001  (Playwright's TimeoutError)
                await self.idle()
                if await sign.count():
                    return
                if attempt == 2 or not await lost():
                    raise
                self.record.clicked_again.append(what)

    async def nav(self, name: str, title: str) -> None:
        # The link's text is its icon's name, then the page's ("What segmentation
        # is" must not pass for "Segment").
        await self.page.locator("[data-testid='stSidebarNav'] a",
                                has_text=re.compile(re.escape(name) + r"\s*$")).first.click()
        await self.main.locator("h1", has_text=title).first.wait_for(timeout=STEP_MS)

    async def choose_method(self, label: str, slider: str) -> None:
        await self.main.locator("[data-testid='stSelectbox']", has_text="Method").first.click()
        await self.page.get_by_role("option", name=label, exact=True).click()
        await self.main.locator(f"[data-testid='stSlider'] input[aria-label='{slider}']") \
            .wait_for(timeout=STEP_MS)

    async def run(self) -> None:
        me, page, main = self.me, self.page, self.main

        async def open_app():
            await page.goto(self.url + "/", timeout=STEP_MS)
            await main.locator("h1", has_text="SegLab").wait_for(timeout=STEP_MS)
        await self.step("open", open_app)

        async def upload():
            await page.get_by_role("tab", name="Upload").click()
            await page.locator("[data-testid='stFileUploaderDropzone'][aria-label='Image'] "
                               "input[type='file']").set_input_files(str(me.path))
            await page.locator("[data-testid='stSidebar']",
                               has_text=f"Current image: {me.name}").wait_for(timeout=STEP_MS)
        await self.step("upload", upload)
        await self.expect_text("Image page", f"{me.size_text} pixels")
        await self.check_picture("Image page", "image",
                                 main.locator("[data-testid='stImage'] img").first)

        await self.step("Segment page", lambda: self.nav("Segment", "Segment"))
        await self.expect_text("Segment page", f"Working on {me.name}")
        await self.check_result("Segment page", "threshold")
        for method, label, slider in METHODS[1:]:
            await self.step(f"choose {method}", lambda: self.choose_method(label, slider))
            await self.check_result(f"Segment page, {method}", method)

        # Seeds for the watershed, at the typed form's default position.
        form = main.locator("[data-testid='stExpander'] details", has=page.locator(
            "summary", has_text="Add a seed by typing its position")).first
        rows = f"Rows 0–{me.height - 1} from the top, columns 0–{me.width - 1} from the left"

        async def form_closed() -> bool:
            return not await form.evaluate("d => d.open")
        await self.click_until("open the seed form", form.locator("summary"),
                               main.get_by_text(rows), lost=form_closed)
        for n in range(1, me.seeds + 1):
            caption = f"{n} seed{'s' if n != 1 else ''} (label 1: {n})"
            before = (f"{n - 1} seed{'s' if n - 1 != 1 else ''} (label 1: {n - 1})"
                      if n > 1 else None)

            async def still_before(before=before) -> bool:
                if before is None:  # no caption before the first seed
                    return not await main.get_by_text(re.compile(
                        r"^\d+ seeds? \(label 1: \d+\)$")).count()
                return await main.get_by_text(before, exact=True).count() > 0

            await self.step(f"add seed {n}", lambda caption=caption, still_before=still_before:
                            self.click_until(f"add seed {n}", main.get_by_role(
                                "button", name="Add seed", exact=True),
                                main.get_by_text(caption, exact=True), lost=still_before))
        await self.check_result("Segment page, watershed with seeds", "watershed+seeds")

        await self.step("Compare page", lambda: self.nav("Compare", "Compare"))
        await self.expect_text("Compare page", f"Working on {me.name}")
        captions = await main.locator("[data-testid='stCaptionContainer']").all_inner_texts()
        counts = [int(m.group(1)) for c in captions if (m := re.match(r"(\d+) regions ·", c))]
        want = [me.regions[m] for m in COMPARED]
        if counts != want:
            self.problem(f"Compare page: region counts {counts}, its own image gives {want} "
                         f"({', '.join(COMPARED)})")

        await self.step("Evaluate page", lambda: self.nav("Evaluate", "Evaluate"))
        await self.expect_text("Evaluate page", f"Working on {me.name}")
        await self.expect_text("Evaluate page", "This image has no ground truth yet")
        await self.check_picture("Evaluate page", "sidebar", self.page.locator(
            "[data-testid='stSidebar'] [data-testid='stImage'] img").first)

        await self.step("lesson", lambda: self.nav(LESSON, LESSON))

        async def own_image():
            await main.locator("[data-testid='stRadio'] label",
                               has_text=f"Your image ({me.name})").first.click()
            await main.get_by_text(re.compile(
                re.escape(f"{me.name} ({me.size_text})") + "|" +
                re.escape(f"{me.name} at full size ({me.size_text})"))).wait_for(
                timeout=STEP_MS)
        await self.step("lesson on own image", own_image)


async def visit(context, url: str, me: Visitor, everyone: list[Visitor],
                shots: Path | None, record: SessionRecord, arrived: list,
                leave: asyncio.Event) -> None:
    """One session's whole path, in a new tab of ``context``, into ``record``;
    whatever stops it early is recorded as a problem (a cancelled visit keeps what
    it did). Then it joins ``arrived`` and stays until ``leave`` is set: closing
    the tab ends the Streamlit session."""
    page = await context.new_page()
    session = Session(page, url, me, everyone, record)
    started = time.monotonic()
    try:
        await session.run()
    except asyncio.CancelledError:
        session.problem(f"not done within the wave's time, after "
                        f"{[s for s, _ in record.steps][-1:] or 'nothing'}")
        raise
    except Exception as err:  # noqa: BLE001  (reported with the others)
        done = [s for s, _ in session.record.steps]
        session.problem(f"stopped after {done[-1:] or 'nothing'}: "
                        f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                await page.screenshot(
                    path=str(shots / f"FAILED-load-w{me.wave}-s{me.index}.png"), full_page=True)
    finally:
        record.seconds = round(time.monotonic() - started, 1)
        arrived.append(me.index)
        try:
            await leave.wait()
        finally:
            with contextlib.suppress(Exception):
                await page.close()


async def fresh_visit(context, url: str) -> None:
    """A new session that opens the app and leaves. Streamlit drops the closed
    sessions whose time to reconnect has run out when a session leaves."""
    page = await context.new_page()
    try:
        await page.goto(url + "/", timeout=STEP_MS)
        await page.locator("[data-testid='stMain'] h1", has_text="SegLab").wait_for(
            timeout=STEP_MS)
        await page.wait_for_function(IDLE_JS, timeout=STEP_MS, polling=250)
    finally:
        await page.close()


# --------------------------------------------------------------------------- the scenario


async def _scenario(url: str, sessions: int, plan: concurrent.futures.Future,
                    watch: MemoryWatch, shots: Path | None, wave_timeout_s: float) -> dict:
    from playwright.async_api import async_playwright

    result = {"waves": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=CHROMIUM_ARGS, timeout=STEP_MS)
        try:
            # One browser context per visitor, as if each had a browser of their own;
            # each wave opens a new tab in it (a new Streamlit session), which
            # finds the app's scripts in that browser's cache, as a returning user does.
            contexts = []
            for _ in range(sessions + 1):
                context = await browser.new_context(viewport=VIEWPORT,
                                                    reduced_motion="reduce")
                context.set_default_timeout(STEP_MS)
                contexts.append(context)
            probe = contexts.pop()
            await fresh_visit(probe, url)  # the first run imports what the pages use
            await asyncio.sleep(1)
            result["rss_warm_mb"] = watch.now_mb(1.0)
            result["streamlit_warm"] = await asyncio.to_thread(streamlit_metrics, url)
            waves: list[list[Visitor]] = await asyncio.wrap_future(plan)
            for visitors in waves:
                started = time.monotonic()
                cpu = tree_cpu_s(watch.pid), tree_cpu_s(os.getpid()), _own_cpu_s()
                records = [SessionRecord(v.index, v.wave, v.name, v.size_text,
                                         PATH_STEPS + v.seeds) for v in visitors]
                arrived, leave = [], asyncio.Event()
                tasks = [asyncio.ensure_future(
                            visit(c, url, v, visitors, shots, r, arrived, leave))
                         for c, v, r in zip(contexts, visitors, records)]
                deadline = started + wave_timeout_s
                while len(arrived) < len(tasks) and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                seconds = time.monotonic() - started
                server_cpu = tree_cpu_s(watch.pid) - cpu[0]
                test_cpu = _own_cpu_s() - cpu[2]
                # Chromium and Playwright's driver: all under this process but the server.
                browser_cpu = tree_cpu_s(os.getpid()) - cpu[1] - server_cpu - test_cpu
                # Every session still open, with all it has made: what Streamlit holds.
                during = await asyncio.to_thread(streamlit_metrics, url)
                for task in tasks:  # a session past the wave's time is ended
                    if not task.done() and records[tasks.index(task)].seconds == 0:
                        task.cancel()
                leave.set()
                await asyncio.wait(tasks, timeout=30)
                peak = watch.peak_mb(since=started)
                # The wave's sessions are closed; once their time to reconnect has
                # run out, a fresh session's leaving drops them.
                await asyncio.sleep(SESSION_TTL_S + 0.5)
                await fresh_visit(probe, url)
                await asyncio.sleep(1.5)
                result["waves"].append({
                    "wave": visitors[0].wave if visitors else len(result["waves"]),
                    "seconds": round(seconds, 1), "peak_rss_mb": peak,
                    "server_cpu_s": round(server_cpu, 1), "browser_cpu_s": round(browser_cpu, 1),
                    "test_cpu_s": round(test_cpu, 1),
                    "rss_after_mb": watch.now_mb(1.0),
                    "streamlit_during": during,
                    "streamlit_after": await asyncio.to_thread(streamlit_metrics, url),
                    "sessions": [asdict(r) for r in records]})
        finally:
            await browser.close()
    return result


def run(sessions: int = 8, waves: int = 2, *, out: Path | None = None,
        wave_timeout_s: float = 150.0, trimmed: bool = True) -> dict:
    """The whole scenario on a fresh server; returns the figures (see the module's
    docstring), ``problems`` listing everything that went wrong."""
    started = time.monotonic()
    out = Path(out) if out is not None else REPO / "test-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seglab-load-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(1) as pool:
        # The pictures and what they must give are made while the server starts.
        plan = pool.submit(lambda: [make_visitors(sessions, w + 1, Path(tmp))
                                    for w in range(waves)])
        log_path = out / "streamlit-load.log"
        try:
            with load_server(log_path, timeout_s=STEP_MS / 1000, trimmed=trimmed) as (url, proc):
                with MemoryWatch(proc.pid) as watch:
                    figures = asyncio.run(_scenario(url, sessions, plan, watch, out / "screenshots",
                                                    wave_timeout_s))
                    figures["peak_rss_mb"] = watch.peak_mb()
                    figures["server_vmhwm_mb"] = round(_status_kb(proc.pid, "VmHWM") / 1024, 1)
                    figures["samples"] = len(watch.samples)
        except ServerError as err:
            raise RuntimeError(f"{err}; see {log_path}") from None
    log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    problems = [p for w in figures["waves"] for s in w["sessions"] for p in s["problems"]]
    if "Traceback" in log_text:
        problems.append(f"the server log ({log_path.name}) contains a traceback")
    figures.update({
        "sessions": sessions, "waves_run": waves,
        "allocator": "trimmed: " + " ".join(f"{k}={v}" for k, v in TRIMMED_MALLOC.items())
                     if trimmed else "glibc defaults",
        "wall_s": round(time.monotonic() - started, 1),
        "rss_after_waves_mb": [w["rss_after_mb"] for w in figures["waves"]],
        "problems": problems})
    (out / "load.json").write_text(json.dumps(figures, indent=1))
    return figures


def left_behind_mb(figures: dict) -> float | None:
    """How much more the server holds after the last wave than after the first, less
    the growth of ``st.cache_data`` (bounded caches filling up); None for one wave."""
    waves = figures["waves"]
    if len(waves) < 2:
        return None
    cached = [w["streamlit_after"]["holds_mb"].get("st_cache_data", 0.0) for w in waves]
    return round(waves[-1]["rss_after_mb"] - waves[0]["rss_after_mb"]
                 - (cached[-1] - cached[0]), 1)


def table(figures: dict) -> str:
    """The figures as a Markdown table (one row per wave) and a few lines of totals."""
    lines = ["| wave | sessions at once | wave time (s) | interactions per session | "
             "slowest session (s) | CPU: server, browser (s) | peak server RSS (MB) | "
             "RSS after the wave (MB) | problems |",
             "|---|---|---|---|---|---|---|---|---|"]
    for w in figures["waves"]:
        counts = [s["interactions"] for s in w["sessions"]]
        cells = [w["wave"], len(counts), f"{w['seconds']:.0f}",
                 f"{min(counts, default=0)}-{max(counts, default=0)}",
                 f"{max((s['seconds'] for s in w['sessions']), default=0):.0f}",
                 f"{w['server_cpu_s']:.0f}, {w['browser_cpu_s']:.0f}",
                 f"{w['peak_rss_mb']:.0f}", f"{w['rss_after_mb']:.0f}",
                 sum(len(s["problems"]) for s in w["sessions"])]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    lines += ["", f"Server RSS after a warm-up visit {figures['rss_warm_mb']:.0f} MB; peak over "
              f"the run {figures['peak_rss_mb']:.0f} MB (the server process's own VmHWM "
              f"{figures['server_vmhwm_mb']:.0f} MB); malloc: {figures['allocator']}; whole "
              f"run {figures['wall_s']:.0f} s."]
    left = left_behind_mb(figures)
    if left is not None:
        lines.append(f"Left behind from the first wave's end to the last's, beyond the growth "
                     f"of st.cache_data: {left:+.1f} MB.")
    again = [f"wave {s['wave']} session {s['index']}: {what}" for w in figures["waves"]
             for s in w["sessions"] for what in s.get("clicked_again", [])]
    if again:
        lines.append(f"Clicks made again after changing nothing (landed during a redraw): "
                     f"{'; '.join(again)}.")
    for w in figures["waves"]:
        for when in ("during", "after"):
            m = w[f"streamlit_{when}"]
            held = ", ".join(f"{k} {v:g}" for k, v in m["holds_mb"].items() if v)
            lines.append(f"Wave {w['wave']}, {when} ({m['active_sessions']} sessions "
                         f"connected), Streamlit holds (MB): {held or 'nothing'}.")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8, help="browser sessions at once")
    parser.add_argument("--waves", type=int, default=2, help="waves of sessions, one after another")
    parser.add_argument("--out", default="test-artifacts", help="folder for load.json and the log")
    parser.add_argument("--allocator", choices=["trimmed", "default"], default="trimmed",
                        help="the server's malloc settings: 'trimmed' (memory follows what "
                             "is in use; the test's) or glibc's defaults")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}")
    from benchmarks.machine import describe, machine_facts

    print(describe(machine_facts()) + "\n")
    try:
        figures = run(args.sessions, args.waves, out=Path(args.out),
                      trimmed=args.allocator == "trimmed")
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 2
    print(table(figures))
    for problem in figures["problems"]:
        print("PROBLEM:", problem)
    print(f"\nwrote {Path(args.out) / 'load.json'}")
    return 1 if figures["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
