"""Many users at once (#15): eight browser sessions on one real server, each with its
own image, none seeing another's, and the server's memory bounded.

The scenario is :mod:`benchmarks.load` (``python -m benchmarks.load`` prints the same
figures as a table): ``streamlit run app.py`` on 127.0.0.1, eight Chromium contexts
driven at once, one wave. Each session uploads its own generated picture, runs
threshold, k-means and watershed (with seeds) on the Segment page, opens Compare,
Evaluate and a lesson, and checks after every step that it sees no error and only
its own image, seeds and results (the pictures are fetched and compared with what
its own image gives). The figures go to ``test-artifacts/load.json``.

What sessions leave behind once they are gone is checked here through Streamlit's own
account (no upload, picture or connection kept), and in the app's own process by
``tests/test_sessions_leave_nothing.py`` (nothing of their images or results).
``python -m benchmarks.load`` runs a second wave and reports the server's resident
memory after each (the README's table): a second wave of browsers in the test took
45-60 s of CI's 15 minutes on a fast machine, twice that on a slow one.

Chromium is ``/usr/bin/chromium``. Without it this test skips, except where
``SEGLAB_REQUIRE_BROWSER=1`` (CI sets it): there a missing browser is a failure.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from benchmarks import load

pytestmark = [pytest.mark.browser, pytest.mark.load]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SESSIONS, WAVES = 8, 1
#: The server's peak resident memory (its process and workers) may not pass this:
#: the bound issue #12 set for one 24 MP upload (benchmarks/browser.py). Eight
#: sessions on pictures of at most 0.15 MP need far less (0.55 GB measured; 0.85 GB
#: with glibc's default malloc settings); a copy of the image per rerun, or results
#: kept without bound, would pass it.
PEAK_LIMIT_MB = 2500


def _missing(reason: str):
    if os.environ.get("SEGLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; SEGLAB_REQUIRE_BROWSER=1 makes this a failure (install "
                    "Debian's chromium package, as .ci/run does).", pytrace=False)
    pytest.skip(f"{reason}; set SEGLAB_REQUIRE_BROWSER=1 to make this a failure.")


def test_eight_sessions_at_once_see_only_their_own_image_and_memory_stays_bounded():
    if not load.CHROMIUM.exists():
        _missing(f"Chromium not found at {load.CHROMIUM}")
    if importlib.util.find_spec("playwright") is None:
        _missing("Playwright is not installed (pip install -e '.[test]')")

    figures = load.run(SESSIONS, WAVES, out=ARTIFACTS)
    report = load.table(figures)
    print("\n" + report)  # shown with -s, and with the failure otherwise

    assert not figures["problems"], (
        f"{len(figures['problems'])} problem(s) with {SESSIONS} sessions at once:\n  "
        + "\n  ".join(figures["problems"][:40]) + f"\n{report}\n(details in "
        f"{ARTIFACTS / 'load.json'}, the server's log in {ARTIFACTS / 'streamlit-load.log'})")
    assert len(figures["waves"]) == WAVES
    for wave in figures["waves"]:
        assert len(wave["sessions"]) == SESSIONS
        for s in wave["sessions"]:
            assert s["interactions"] == s["planned"], (
                f"wave {s['wave']} session {s['index']} did {s['interactions']} of its "
                f"{s['planned']} interactions: {s['steps']}")
            # Each of its pictures was its own: near its own expected picture, and
            # nearer to it than to any other session's.
            assert len(s["picture_distances"]) == 6, s["picture_distances"]

    # Streamlit's own count: once the sessions are gone, so are their uploads, their
    # pictures and their connections.
    warm = figures["streamlit_warm"]
    for wave in figures["waves"]:
        after = wave["streamlit_after"]
        assert "error" not in after and "error" not in wave["streamlit_during"], after
        assert after["active_sessions"] == 0, f"wave {wave['wave']}: {after}"
        assert after["holds_mb"].get("UploadedFileManager", 0) == 0, (
            f"wave {wave['wave']}: uploads kept after their sessions ended: {after}")
        media = after["holds_mb"].get("st_memory_media_file_storage", 0)
        assert media <= warm["holds_mb"].get("st_memory_media_file_storage", 0) + 0.25, (
            f"wave {wave['wave']}: pictures kept after their sessions ended: {after}")

    assert figures["peak_rss_mb"] < PEAK_LIMIT_MB, (
        f"the server's memory peaked at {figures['peak_rss_mb']:.0f} MB "
        f"(limit {PEAK_LIMIT_MB} MB)\n{report}")
