"""Start this checkout's app as a real server.

``python -m seglab.server run app.py [streamlit options]`` is ``streamlit run`` (it is
what ``make run`` calls) with two things done first that a fresh server's first page
waits for (issue #12): the app's bytecode written (:func:`compile_sources`) and
Streamlit's scan for components skipped (:func:`skip_component_scan`).
:func:`app_server` starts it on 127.0.0.1, a free port and no file watcher, for the
browser tests and the browser benchmark."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: A JavaScript function telling whether the page is idle: connected, the script not
#: running (Streamlit marks its state on the app's root for its own tests), no spinner,
#: no picture still a placeholder (skeleton), nothing of the previous run greyed out.
IDLE_JS = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    return !!app
        && app.getAttribute("data-test-connection-state") === "CONNECTED"
        && app.getAttribute("data-test-script-state") === "notRunning"
        && !document.querySelector(
            "[data-testid='stSpinner'], [data-testid='stSkeleton'], [data-stale='true']");
}"""


#: The app's own packages, whose bytecode :func:`compile_sources` writes.
PACKAGES = ("segcore", "seglab")


def compile_sources() -> None:
    """Write the bytecode of the app's own modules where it is missing or stale.

    Python writes it at a module's first import, except where PYTHONDONTWRITEBYTECODE
    is set, as on our machines: every fresh server then compiled them from source again,
    90 ms of its first page (issue #12). pip writes it for the packages it installs, but
    not for this checkout's editable install."""
    import compileall

    for name in PACKAGES:
        compileall.compile_dir(REPO / name, quiet=1)


def skip_component_scan() -> bool:
    """Tell Streamlit there are no custom components installed, without its looking.

    Before it serves, Streamlit reads the metadata of every installed package, looking
    for custom components: 0.3 s of a fresh server's start here (health answered after
    1.03-1.26 s with the scan, 0.72-0.96 s without), and SegLab uses none (a test checks
    the scan finds none in this environment). Returns whether the scan was skipped: a
    Streamlit without this function is left as it is."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:
        return False
    if not hasattr(manifest_scanner, "scan_component_manifests"):
        return False
    manifest_scanner.scan_component_manifests = lambda max_workers=None: []
    return True


def main() -> None:
    """``streamlit run`` and its options, after :func:`compile_sources` and
    :func:`skip_component_scan`."""
    from streamlit.web import cli

    compile_sources()
    skip_component_scan()
    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main(prog_name="streamlit")


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message says which."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(log_path: Path, *, timeout_s: float = 120):
    """Yield ``(url, process, started)`` once the server answers its health check
    (``started`` is ``time.monotonic()`` at launch); stop it however the block ends.
    Raises :class:`ServerError` when it exits or does not answer within ``timeout_s``."""
    compile_sources()  # before the clock starts, as `make run` does before it serves
    port = free_port()
    cmd = [sys.executable, "-m", "seglab.server", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            while True:
                if proc.poll() is not None:
                    raise ServerError(f"streamlit exited with code {proc.returncode}")
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() - started > timeout_s:
                    raise ServerError(f"streamlit did not answer on {url} within {timeout_s:g} s")
                time.sleep(0.05)
            yield url, proc, started
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
