"""What a user waits for in the real app: ``streamlit run app.py`` driven in headless
Chromium, timed from the user's action to the new picture on screen.

    python -m benchmarks.browser [--mp 12] [--big-mp 24] [--out benchmarks/results]

The server is this checkout's ``streamlit run app.py`` on 127.0.0.1 and a free port
(headless, no file watcher), started by this command; the browser is Debian's
Chromium (``/usr/bin/chromium``) through Playwright. The user's path, for each
size in ``--mp`` (a phone photo, :func:`benchmarks.photo.phone_photo`, saved as a
JPEG of quality 90), each size in a fresh browser session:

1. **Cold start** (first size only): from starting ``streamlit run`` to the first
   page usable (title, sidebar picture loaded, no script running).
2. **Upload**: the photo through the Image page's file chooser, until the sidebar
   names it, its pictures are loaded and the app is idle.
3. **Segment page** opened from the sidebar, until its result picture is shown.
4. For threshold (its algorithm set to ``manual`` first), kmeans, gmm, watershed,
   felzenszwalb and slic: **choosing the method** until its overlay is shown, then
   **releasing one of its sliders** one step to the right (the keyboard's arrow,
   as a keyboard user does) until the new overlay is shown.
5. **Switching back** to methods already computed (cached results).
6. After the last size, the server's memory: its peak resident memory is reset
   (``/proc/PID/clear_refs``), a ``--big-mp`` photo is uploaded and segmented,
   and ``VmHWM`` is read from ``/proc/PID/status``.

How a wait is timed: an event listener in the page notes the time of the user's
input event (the click, the key press, the file chooser's change), and the
waiting ends when the result picture's ``src`` has changed, the picture has
loaded, and the app is idle (connected, no script running, nothing stale, no
spinner), checked every 10 ms in the page. Both times are the page's own clock,
so Playwright's round trips are not counted. Afterwards the page must stay idle
for 0.3 s (not timed); if a further run starts, the wait is counted to its end.

Targets of issue #12 are judged on the 12 MP upload (and memory on 24 MP);
other sizes are shown for information. Prints a table and writes
``browser.json`` and the server's log to ``--out``. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from benchmarks import photo
from benchmarks.machine import describe, machine_facts, status_kb
from seglab.server import IDLE_JS, ServerError
from seglab.server import app_server as serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
#: Milliseconds any one wait may take before it counts as failed.
STEP_MS = 180_000
#: The size (MP) the issue's browser targets are stated for, and the memory check's.
TARGET_MP, MEMORY_MP = 12.0, 24.0
MEMORY_LIMIT_BYTES = 2.5e9

#: Per method: its label in the method picker and the slider a user moves, by the
#: label the app shows on it, with the issue's target in seconds.
METHODS = [
    ("threshold", "Threshold", "Threshold (gray value)", 0.3),
    ("kmeans", "K-means clustering", "Clusters (k)", 0.6),
    ("gmm", "Gaussian mixture (EM)", "Clusters (k)", 0.6),
    ("watershed", "Watershed", "Marker prominence (h)", 0.6),
    ("felzenszwalb", "Felzenszwalb graph segmentation", "Scale", 0.6),
    ("slic", "SLIC superpixels", "Superpixels (about)", 0.6),
]
#: Methods switched back to once all have run (their results are cached).
CACHED = ("threshold", "kmeans", "slic")
SWITCH_S, COLD_S, UPLOAD_S = 0.3, 3.0, 3.0

# Helpers installed in every page: the idle test of tests/test_browser.py, a
# signature of the result picture (an <img> of st.image, or the <image> of the
# plotly chart that methods taking seeds show), and the event clock.
_PAGE_JS = """
(() => {
  window.__benchIdle = IDLE_JS;
  window.__benchImagesLoaded = () => [...document.querySelectorAll(
      "[data-testid='stImage'] img")].every(i => i.complete && i.naturalWidth > 0);
  window.__benchPicture = () => {
    const main = document.querySelector("[data-testid='stMain']");
    if (!main) return null;
    const img = main.querySelector("[data-testid='stImage'] img");
    if (img) return img.complete && img.naturalWidth > 0 ? "img:" + img.getAttribute("src") : null;
    const svg = main.querySelector(".js-plotly-plot image");
    if (svg) { const h = svg.href && svg.href.baseVal; return h ? "plot:" + h : null; }
    return "";
  };
  window.__benchArm = (type) => {
    window.__benchType = type; window.__benchT0 = null; window.__benchT1 = null;
    window.__benchBefore = window.__benchPicture();
  };
  for (const type of ["click", "keydown", "change"]) {
    document.addEventListener(type, (e) => {
      if (window.__benchType === type && window.__benchT0 === null) {
        window.__benchT0 = performance.now();
      }
    }, true);
  }
  window.__benchDone = (t) => { if (window.__benchT1 === null) window.__benchT1 = t; return true; };
})();
""".replace("IDLE_JS", IDLE_JS)
_NEW_PICTURE = """() => {
  const p = window.__benchPicture();
  return window.__benchT0 !== null && p && p !== window.__benchBefore && window.__benchIdle()
      && window.__benchImagesLoaded() && window.__benchDone(performance.now());
}"""
_SIDEBAR_NAMES = """(name) => window.__benchT0 !== null && window.__benchIdle()
  && (document.querySelector("[data-testid='stSidebar']")?.innerText || "")
       .includes("Current image: " + name)
  && window.__benchImagesLoaded() && window.__benchDone(performance.now())"""
_USABLE = """(title) => window.__benchIdle() && window.__benchImagesLoaded()
  && [...document.querySelectorAll("[data-testid='stMain'] h1")].some(
       h => h.innerText.includes(title))
  && !!document.querySelector("[data-testid='stSidebar'] [data-testid='stImage'] img")"""


@dataclass
class Measure:
    """One wait: what the user did, on which upload size, how long, against what."""

    step: str
    mp: float | None
    seconds: float | None
    target_s: float | None = None
    verdict: str = "-"
    note: str = ""


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    started: float  # time.monotonic() when the process was started

    def status_kb(self, name: str) -> int | None:
        return status_kb(name, self.proc.pid)

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False


@contextlib.contextmanager
def app_server(log_path: Path, *, timeout_s: float = 120):
    """The app's server (:func:`seglab.server.app_server`) as a :class:`Server`."""
    try:
        with serve(log_path, timeout_s=timeout_s) as (url, proc, started):
            yield Server(url, proc, started)
    except ServerError as err:
        raise RuntimeError(f"{err}; see {log_path}") from None


# --------------------------------------------------------------------------- waiting


def _settle(page) -> float | None:
    """After a wait ended: stay idle for 0.3 s. If a further run started, wait for it
    and return the page time it ended (ms), else None."""
    page.wait_for_timeout(300)
    if page.evaluate("() => window.__benchIdle()"):
        return None
    page.wait_for_function("() => window.__benchIdle() && window.__benchImagesLoaded()",
                           timeout=STEP_MS, polling=10)
    return page.evaluate("() => performance.now()")


def timed(page, event: str, action, done_js: str, arg=None) -> tuple[float, str]:
    """Seconds from the page's ``event`` that ``action()`` causes to ``done_js`` holding,
    on the page's clock; and a note when a further run lengthened the wait."""
    page.evaluate(f"() => window.__benchArm({json.dumps(event)})")
    action()
    page.wait_for_function(done_js, arg=arg, timeout=STEP_MS, polling=10)
    t0, t1 = page.evaluate("() => [window.__benchT0, window.__benchT1]")
    late = _settle(page)
    if late is not None:
        first = (t1 - t0) / 1000
        return (late - t0) / 1000, f"a further run followed; {first:.3f} s to the first picture"
    return (t1 - t0) / 1000, ""


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def method_time(page) -> str:
    """The method's own time as the Segment page shows it ("Run time"), if shown."""
    box = page.locator("[data-testid='stMain'] [data-testid='stMetric']", has_text="Run time")
    if box.count() == 0:
        return ""
    return "method " + box.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def open_app(page, server: Server, title: str = "SegLab") -> float:
    """Seconds from the server's start to the first page usable (wall clock)."""
    page.goto(server.url + "/", timeout=STEP_MS)
    page.wait_for_function(_USABLE, arg=title, timeout=STEP_MS, polling=10)
    return time.monotonic() - server.started


def upload(page, path: Path) -> tuple[float, str]:
    page.get_by_role("tab", name="Upload").click()  # opening the tab reruns the page
    chooser = page.locator(
        "[data-testid='stFileUploaderDropzone'][aria-label='Image'] input[type='file']")
    chooser.wait_for(state="attached", timeout=STEP_MS)
    page.wait_for_function("() => window.__benchIdle()", timeout=STEP_MS, polling=10)
    return timed(page, "change", lambda: chooser.set_input_files(str(path)), _SIDEBAR_NAMES,
                 path.name)


def go_to(page, name: str) -> tuple[float, str]:
    link = page.locator("[data-testid='stSidebarNav'] a", has_text=name).first
    seconds, note = timed(page, "click", link.click, _NEW_PICTURE)
    return seconds, _join(method_time(page), note)


def choose(page, select_label: str, option: str) -> tuple[float, str]:
    """Pick ``option`` in the main pane's select box whose label contains ``select_label``."""
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']",
                 has_text=select_label).first.click()
    item = page.get_by_role("option", name=option, exact=True)
    item.wait_for(timeout=STEP_MS)
    seconds, note = timed(page, "click", item.click, _NEW_PICTURE)
    return seconds, _join(method_time(page), note)


def release_slider(page, label: str, key: str = "ArrowRight") -> tuple[float, str]:
    """Move the slider named ``label`` one step with the keyboard."""
    thumb = page.locator(f"[data-testid='stMain'] [data-testid='stSlider'] "
                         f"input[type='range'][aria-label='{label}']")
    before = thumb.get_attribute("aria-valuetext")
    thumb.focus()
    seconds, note = timed(page, "keydown", lambda: page.keyboard.press(key), _NEW_PICTURE)
    after = thumb.get_attribute("aria-valuetext")
    return seconds, _join(f"{before} → {after}", method_time(page), note)


# --------------------------------------------------------------------------- the user's path


class Run:
    """The measures of one benchmark run, with a screenshot when a step fails."""

    def __init__(self, out: Path):
        self.out = out
        self.measures: list[Measure] = []
        self.failures = 0

    def step(self, page, step: str, mp: float | None, fn, target_s: float | None = None,
             applies: bool = True) -> Measure:
        try:
            seconds, note = fn()
        except Exception as err:  # noqa: BLE001  (recorded; the run goes on)
            self.failures += 1
            shot = self.out / f"browser-failed-{len(self.measures):02d}.png"
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shot), full_page=True)
            why = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
            m = Measure(step, mp, None, target_s, "failed", f"{why} (screenshot {shot.name})")
        else:
            verdict = "-"
            if target_s is not None:
                verdict = ("pass" if seconds <= target_s else "MISS") if applies else "info"
            m = Measure(step, mp, round(seconds, 3), target_s, verdict, note)
        self.measures.append(m)
        print(table_line(m), flush=True)
        return m


def user_path(run: Run, page, path: Path, mp: float) -> None:
    """Upload, open the Segment page, each method chosen and its slider released,
    then switches back to cached results."""
    judged = abs(mp - TARGET_MP) < 1e-9
    run.step(page, "upload until usable", mp, lambda: upload(page, path), UPLOAD_S, judged)
    run.step(page, "open Segment page", mp, lambda: go_to(page, "Segment"))
    labels = {name: label for name, label, _, _ in METHODS}
    for name, label, slider, target in METHODS:
        if name != "threshold":  # threshold is the page's default method
            run.step(page, f"choose {name}", mp, lambda: choose(page, "Method", label))
        else:
            run.step(page, "threshold: algorithm → manual", mp,
                     lambda: choose(page, "Algorithm", "manual"))
        run.step(page, f"release slider: {name} '{slider}'", mp,
                 lambda: release_slider(page, slider), target, judged)
    for name in CACHED:
        run.step(page, f"switch to {name} (cached)", mp,
                 lambda: choose(page, "Method", labels[name]), SWITCH_S, judged)


def memory_check(run: Run, page, server: Server, path: Path, mp: float) -> None:
    """Upload a large photo and segment it, then read the server's peak resident memory."""
    whole = server.status_kb("VmHWM")
    exact = server.reset_peak()
    run.step(page, "open Image page", mp, lambda: go_to(page, "Image"))
    run.step(page, "upload until usable", mp, lambda: upload(page, path))
    run.step(page, "open Segment page", mp, lambda: go_to(page, "Segment"))
    peak = server.status_kb("VmHWM")
    rss = server.status_kb("VmRSS")
    mb = lambda kb: "?" if kb is None else f"{kb / 1024:.0f}"  # noqa: E731
    note = (f"peak since the reset before this upload (VmHWM); now {mb(rss)} MB resident; "
            f"{mb(whole)} MB peak over the whole run before it"
            if exact else "VmHWM over the whole run (the peak could not be reset)")
    gb = peak * 1024 / 1e9 if peak else None
    judged = abs(mp - MEMORY_MP) < 1e-9
    verdict = "info" if not judged or gb is None else ("pass" if gb * 1e9 <= MEMORY_LIMIT_BYTES
                                                      else "MISS")
    m = Measure(f"server peak memory, GB (limit {MEMORY_LIMIT_BYTES / 1e9:g})", mp,
                None if gb is None else round(gb, 3), MEMORY_LIMIT_BYTES / 1e9, verdict, note)
    run.measures.append(m)
    print(table_line(m), flush=True)


def write_jpeg(mp: float, folder: Path) -> Path:
    path = folder / f"phone-{mp:g}mp.jpg"
    Image.fromarray(photo.phone_photo(mp)).save(path, quality=90)
    return path


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(STEP_MS)
    context.add_init_script(_PAGE_JS)
    return context, context.new_page()


def measure(run: Run, sizes: list[float], big_mp: float) -> None:
    """The whole user path on a fresh server, into ``run``; the server and the browser
    are stopped however it ends."""
    from playwright.sync_api import sync_playwright

    out = run.out
    with tempfile.TemporaryDirectory(prefix="seglab-browser-") as tmp:
        files = {mp: write_jpeg(mp, Path(tmp)) for mp in sizes + ([big_mp] if big_mp else [])}
        for mp, path in files.items():
            print(f"# {path.name}: {Image.open(path).size[0]} x {Image.open(path).size[1]}, "
                  f"{path.stat().st_size / 2**20:.1f} MB")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=CHROMIUM_ARGS, timeout=STEP_MS)
            try:
                with app_server(out / "browser-server.log") as server:
                    context, page = new_page(browser)
                    run.step(page, "cold start until usable", None,
                             lambda: (open_app(page, server), ""), COLD_S)
                    for i, mp in enumerate(sizes):
                        if i:
                            context.close()
                            context, page = new_page(browser)
                            page.goto(server.url + "/", timeout=STEP_MS)
                            page.wait_for_function(_USABLE, arg="SegLab", timeout=STEP_MS)
                        user_path(run, page, files[mp], mp)
                    if big_mp:
                        memory_check(run, page, server, files[big_mp], big_mp)
                    context.close()
            finally:
                browser.close()


# --------------------------------------------------------------------------- output


def begin(out: Path, step_title: str) -> dict:
    """Make ``out``, print the machine and the table's header; returns the machine facts."""
    out.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    print(describe(facts) + "\n")
    print(f"{step_title:<52} {'MP':>4} {'seconds':>8} {'target':>6} {'verdict':>7}  note")
    return facts


def table_line(m: Measure) -> str:
    seconds = "-" if m.seconds is None else f"{m.seconds:.3f}"
    target = "-" if m.target_s is None else f"≤ {m.target_s:g}"
    mp = "-" if m.mp is None else f"{m.mp:g}"
    return f"{m.step:<52} {mp:>4} {seconds:>8} {target:>6} {m.verdict:>7}  {m.note}".rstrip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mp", default="12",
                        help="upload sizes in megapixels, comma-separated (default 12; "
                             "'12,1' also runs the path on a 1 MP photo)")
    parser.add_argument("--big-mp", type=float, default=MEMORY_MP,
                        help="size of the upload for the server memory check (0 skips it)")
    parser.add_argument("--out", default="benchmarks/results", help="folder for the outputs")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}")
    sizes = [float(s) for s in args.mp.split(",") if s.strip()]
    out = Path(args.out)
    facts = begin(out, "step (from the user action to the result)")
    started = time.monotonic()
    run, error = Run(out), None
    try:
        measure(run, sizes, args.big_mp)
    except Exception as err:  # noqa: BLE001  (what was measured is still written)
        traceback.print_exc()
        error = f"{type(err).__name__}: {err}"
        print(f"stopped early: {error}")
    judged = [m.verdict for m in run.measures]
    print(f"\n{len(run.measures)} measures in {time.monotonic() - started:.0f} s; targets: "
          f"{judged.count('pass')} pass, {judged.count('MISS')} miss, "
          f"{judged.count('failed')} failed")
    data = {"machine": facts,
            "settings": {"mp": sizes, "big_mp": args.big_mp, "viewport": VIEWPORT,
                         "chromium": str(CHROMIUM)},
            "measures": [asdict(m) for m in run.measures], "error": error}
    path = out / "browser.json"
    path.write_text(json.dumps(data, indent=1))
    print(f"wrote {path} and {out / 'browser-server.log'}")
    return 2 if error else (1 if run.failures else 0)


if __name__ == "__main__":
    sys.exit(main())
