"""Speed, memory and quality of every segcore method against its peer, at phone-photo sizes.

    python -m benchmarks.suite [--sizes 0.25,1,4,16] [--methods a,b] [--repeat 1]
                               [--out benchmarks/results] [--peer-timeout 120] [--update]

For each case (a method with fixed settings; k-means once per colour space) and
each size, segcore (``segcore.segment``) and its peer do the same job on the
same picture in the same run, and a quality check compares what they found:

- **The picture** is :func:`benchmarks.photo.phone_photo`: scikit-image's
  ``coffee`` cropped to 4:3, resized to the size, with mild noise, quantised to
  8 bits (``float32 = uint8 / 255``). Seeded cases get two seeds, one on the
  subject (the coffee) and one on the background (the table).
- **The peers** are named in each line of :data:`CASES`. Each gets the same
  settings as segcore's call and starts, like segcore, from the float image, so
  conversions both sides need (gray, a colour space) are timed on both sides.
  k-means and GMM peers fit scikit-learn on *every* pixel (``KMeans(n_init=1)``,
  ``GaussianMixture(covariance_type="full")``), as issue #12 asks. Spectral
  clustering and the U-Net have no peer: their time is reported alone.
- **Time** is the best of ``--repeat`` calls, after one warm-up call on the
  smallest size (imports, model loading and first-call costs are not timed).
- **Peak memory** ("MB") is how much resident memory the call added at its
  peak: ``VmHWM`` after the first timed call minus ``VmRSS`` before it, in a
  fresh process whose peak was reset just before the call (Linux
  ``/proc/self/clear_refs``). It counts every allocation, C libraries and torch
  included, which ``tracemalloc`` would miss; memory the allocator kept from the
  warm-up and reused is not counted.
- **Quality**, computed here by one function for both sides: k-means inertia
  over all pixels from each side's labels and centres; GMM mean log-likelihood
  per pixel over all pixels from each side's weights, means and covariances;
  for partitions the adjusted Rand index with the peer's labels and the pixel
  agreement after Hungarian matching (random walker: with the exact solve,
  scikit-image's ``mode="bf"``, where that finishes).

Every side runs in its own process with a time limit (``--peer-timeout`` for
peers, ``--ours-timeout`` for segcore) and a resident-memory limit
(``--memory-limit``, checked every 0.1 s, so a brief spike can pass unseen); a
side that would exceed either, predicted from the previous size or found while
running, is reported as "skipped (reason)" instead of hanging. The targets of issue #12 are checked where they apply (pass / MISS).

Writes ``suite.json`` (machine facts, settings, every row), ``suite.md`` (the
table in Markdown, for the README) and ``suite.png`` (ours and peer time per
case and size, log scales) into ``--out``. With ``--update`` the cases run replace
their rows in ``--out``'s ``suite.json`` and the other rows are kept; the settings
list every run the rows come from. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from benchmarks import photo
from segcore import _memo
from benchmarks.machine import REPO, describe, machine_facts, status_kb

SIZES = (0.25, 1.0, 4.0, 16.0)
SPACES = ("rgb", "lab", "hsv", "gray")
GLOBAL_THRESHOLDS = ("otsu", "li", "yen", "triangle", "isodata", "mean", "minimum", "multiotsu")
LOCAL_THRESHOLDS = ("sauvola", "niblack", "gaussian-adaptive")
#: Seconds a worker may take to start, load its inputs and warm up, beyond the call's limit.
SETUP_S = 120
#: Pixels per block when quality measures walk over every pixel.
CHUNK = 1 << 20


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A target of issue #12 for one case: where it applies and how it is judged.

    ``at`` is the size (MP) it applies to, or ``None`` for every size. A limit left
    ``None`` is not part of the target.
    """

    text: str
    at: float | None = None
    max_ratio: float | None = None
    max_seconds: float | None = None
    max_inertia_excess: float | None = None  # relative, 0.005 is 0.5 %
    max_loglik_deficit: float | None = None  # per pixel
    min_agreement: float | None = None  # with the reference (exact solve)

    def applies(self, size: float) -> bool:
        return self.at is None or math.isclose(size, self.at)

    def judge(self, row: dict) -> bool | None:
        """True (pass), False (miss) or None (cannot be judged: a side is missing)."""
        q = row["quality"]
        checks = []
        if self.max_ratio is not None:
            checks.append(None if row["ratio"] is None else row["ratio"] <= self.max_ratio)
        if self.max_seconds is not None:
            s = row["ours"].get("seconds")
            checks.append(None if s is None else s <= self.max_seconds)
        if self.max_inertia_excess is not None:
            e = q.get("inertia_excess")
            checks.append(None if e is None else e <= self.max_inertia_excess)
        if self.max_loglik_deficit is not None:
            d = q.get("loglik_deficit")
            checks.append(None if d is None else d <= self.max_loglik_deficit)
        if self.min_agreement is not None:
            a = q.get("agreement") if q.get("against") == "exact" else None
            checks.append(None if a is None else a >= self.min_agreement)
        if any(c is False for c in checks):
            return False
        return None if any(c is None for c in checks) else True


KMEANS_TARGET = Target("≥30x faster, inertia ≤ +0.5% (4 MP)", at=4.0, max_ratio=1 / 30,
                       max_inertia_excess=0.005)
GMM_TARGET = Target("≥30x faster, loglik ≥ peer − 0.01 (4 MP)", at=4.0, max_ratio=1 / 30,
                    max_loglik_deficit=0.01)
GLOBAL_TARGET = Target("ratio ≤ 1.2", max_ratio=1.2)
AS_FAST_TARGET = Target("ratio ≤ 1", max_ratio=1.0)
PREVIEW_TARGET = Target("≤ 0.5 s (1 MP)", at=1.0, max_seconds=0.5)
SLOW_TARGET = Target("≤ 2 s (1 MP)", at=1.0, max_seconds=2.0)
WALKER_TARGET = Target("≤ 2 s, ≥ 99.5% = exact (1 MP)", at=1.0, max_seconds=2.0,
                       min_agreement=0.995)
UNET_TARGET = Target("≤ 1 s (1 MP)", at=1.0, max_seconds=1.0)


# --------------------------------------------------------------------------- peers
#
# Each peer takes the float image, the seeds ((row, col, label) or None) and the
# case's segcore parameters, and returns what it found as a dict: ``labels`` (H, W),
# and where the quality check needs them ``centres`` with ``assign`` (k-means) or
# ``weights``, ``means``, ``covariances`` (GMM). The whole function is timed: it
# includes cheap reshapes, which segcore's timed call does as well.


def _gray(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray

    return rgb2gray(image) if image.shape[2] == 3 else image[:, :, 0]


def _pixels(image: np.ndarray, space: str) -> np.ndarray:
    """``(N, F) float32`` features of every pixel, as segcore's methods see them."""
    from segcore.color import to_space

    feats = to_space(image, space)
    return feats.reshape(-1, feats.shape[2])


def _markers(seeds, shape) -> np.ndarray:
    from segcore import as_markers

    return as_markers(seeds, shape)


def peer_threshold(image, seeds, p):
    from skimage import filters

    gray = _gray(image)
    a = p["algorithm"]
    if a == "multiotsu":
        cuts = filters.threshold_multiotsu(gray, classes=p["classes"])
        return {"labels": np.digitize(gray, cuts)}
    if a in ("sauvola", "niblack"):
        fn = getattr(filters, f"threshold_{a}")
        return {"labels": gray > fn(gray, window_size=p["window_size"], k=p["std_weight"])}
    if a == "gaussian-adaptive":
        return {"labels": gray > filters.threshold_local(gray, block_size=p["window_size"],
                                                         method="gaussian", offset=p["offset"])}
    return {"labels": gray > getattr(filters, f"threshold_{a}")(gray)}


def peer_kmeans(image, seeds, p):
    from sklearn.cluster import KMeans

    x = _pixels(image, p["space"])
    model = KMeans(n_clusters=p["k"], n_init=1, random_state=0).fit(x)
    return {"labels": model.labels_.reshape(image.shape[:2]), "assign": model.labels_,
            "centres": model.cluster_centers_}


def peer_gmm(image, seeds, p):
    from sklearn.mixture import GaussianMixture

    x = _pixels(image, p["space"])
    model = GaussianMixture(p["k"], covariance_type=p["covariance_type"], random_state=0).fit(x)
    probs = model.predict_proba(x)
    return {"labels": probs.argmax(1).reshape(image.shape[:2]), "weights": model.weights_,
            "means": model.means_, "covariances": model.covariances_}


def peer_watershed_seeds(image, seeds, p):
    from skimage import filters, segmentation

    gradient = filters.sobel(filters.gaussian(_gray(image), sigma=p["sigma"]))
    return {"labels": segmentation.watershed(gradient, _markers(seeds, image.shape[:2]))}


def peer_watershed_distance(image, seeds, p):
    """scikit-image and scipy's steps for distance markers, as segcore composes them."""
    from scipy import ndimage as ndi
    from skimage import filters, measure, morphology, segmentation

    smooth = filters.gaussian(_gray(image), sigma=p["sigma"])
    fg = smooth > filters.threshold_otsu(smooth)
    dist = ndi.distance_transform_edt(fg)
    peaks = morphology.h_maxima(dist, max(p["h"] * float(dist.max()), 0.5)) & fg
    markers = measure.label(peaks).astype(np.int32)
    markers[markers > 0] += 1
    bg = ndi.distance_transform_edt(~fg)
    markers[bg > max(2.0, 0.5 * bg.max())] = 1
    return {"labels": segmentation.watershed(-(dist + bg), markers)}


def peer_region_growing(image, seeds, p):
    from skimage.segmentation import flood

    gray = _gray(image)
    labels = np.zeros(gray.shape, np.int32)
    conn = 1 if p["connectivity"] == 4 else 2
    for r, c, lab in sorted(seeds, key=lambda s: s[2]):
        grown = flood(gray, (r, c), tolerance=p["tolerance"], connectivity=conn)
        labels[grown & (labels == 0)] = lab
    return {"labels": labels}


def _walker_mode() -> str:
    """The solver segcore's random walker uses: multigrid CG (``cg_mg``) where PyAMG is
    installed, else Jacobi CG (``cg_j``); the peer makes the same call."""
    import importlib.util

    return "cg_mg" if importlib.util.find_spec("pyamg") else "cg_j"


def _walker(image, seeds, p, mode):
    from skimage.segmentation import random_walker

    gray = _gray(image).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = random_walker(gray, _markers(seeds, gray.shape), beta=p["beta"], mode=mode,
                             tol=1e-5, return_full_prob=True)
    return {"labels": full.argmax(0) + 1}


def peer_random_walker(image, seeds, p):
    return _walker(image, seeds, p, _walker_mode())


def exact_random_walker(image, seeds, p):
    """The exact solve (sparse LU), the reference of the random walker's agreement."""
    return _walker(image, seeds, p, "bf")


def peer_chan_vese(image, seeds, p):
    from skimage.segmentation import chan_vese

    inside = chan_vese(_gray(image).astype(np.float64), mu=p["mu"], lambda1=p["lambda1"],
                       lambda2=p["lambda2"], max_num_iter=p["max_iter"])
    return {"labels": inside}


def _feature_image(image, space):
    from segcore.color import to_space

    feats = to_space(image, space)
    return (feats[:, :, 0], None) if feats.shape[2] == 1 else (feats, -1)


def peer_felzenszwalb(image, seeds, p):
    from skimage.segmentation import felzenszwalb

    feats, axis = _feature_image(image, p["space"])
    return {"labels": felzenszwalb(feats, scale=p["scale"], sigma=p["sigma"],
                                   min_size=p["min_size"], channel_axis=axis)}


def peer_slic(image, seeds, p):
    from skimage.segmentation import slic

    feats, axis = _feature_image(image, p["space"])
    # segcore's compactness is on Lab's scale (0..100) for features in [0, 1].
    return {"labels": slic(feats, n_segments=p["n_segments"], compactness=p["compactness"] / 100,
                           sigma=p["sigma"], channel_axis=axis, convert2lab=False,
                           start_label=1, enforce_connectivity=True)}


def peer_edges(image, seeds, p):
    """scikit-image's building blocks for a Sobel edge map turned into regions."""
    from skimage import filters, measure, morphology
    from skimage.segmentation import relabel_sequential

    smooth = filters.gaussian(_gray(image), sigma=p["sigma"])
    magnitude = filters.sobel(smooth)
    edge = magnitude > p["edge_fraction"] * magnitude.max()
    edge = morphology.dilation(edge, morphology.disk(p["close_gaps"]))
    labels = measure.label(~edge, connectivity=1)
    sizes = np.bincount(labels.ravel())
    small = sizes < p["min_size"]
    if len(sizes) > 1:
        small[1 + np.argmax(sizes[1:])] = False
    small[0] = True
    labels[small[labels]] = 0
    return {"labels": relabel_sequential(labels)[0]}


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One line of the benchmark: a segcore call with fixed settings and its peer.

    ``params`` are passed to ``segcore.segment`` in full (not left to defaults), so
    the peer's settings stay the same as ours if a default changes.
    """

    name: str
    method: str
    params: dict
    peer: Callable | None
    peer_label: str
    target: Target | None = None
    seeded: bool = False
    quality: str = "partition"  # "inertia", "loglik", "partition" or "none"
    reference: Callable | None = None

    def sides(self) -> list[str]:
        return ["ours"] + (["peer"] if self.peer else []) + (["ref"] if self.reference else [])


def _threshold_case(a: str) -> Case:
    params = {"algorithm": a, "level": 0.5, "classes": 3, "window_size": 31, "std_weight": 0.2,
              "offset": 0.0}
    local = a in LOCAL_THRESHOLDS
    fn = "threshold_local(method='gaussian')" if a == "gaussian-adaptive" else f"threshold_{a}"
    return Case(f"threshold[{a}]", "threshold", params, peer_threshold, f"skimage.filters.{fn}",
                PREVIEW_TARGET if local else GLOBAL_TARGET)


CASES: list[Case] = [
    *[_threshold_case(a) for a in GLOBAL_THRESHOLDS + LOCAL_THRESHOLDS],
    *[Case(f"kmeans[{s}]", "kmeans", {"k": 3, "space": s, "xy_weight": 0.0, "max_iter": 100,
                                      "rng": 0},
           peer_kmeans, "sklearn KMeans(3, n_init=1) on every pixel", KMEANS_TARGET,
           quality="inertia") for s in SPACES],
    Case("gmm[lab]", "gmm", {"k": 3, "space": "lab", "covariance_type": "full", "max_iter": 100,
                             "rng": 0},
         peer_gmm, "sklearn GaussianMixture(3, 'full') on every pixel", GMM_TARGET,
         quality="loglik"),
    Case("watershed[seeds]", "watershed", {"auto_markers": "distance", "h": 0.05, "sigma": 1.0,
                                           "regularity": 0.0, "watershed_line": False},
         peer_watershed_seeds, "skimage watershed(sobel(gaussian))", AS_FAST_TARGET, seeded=True),
    Case("watershed[distance]", "watershed", {"auto_markers": "distance", "h": 0.05,
                                              "sigma": 1.0, "regularity": 0.0,
                                              "watershed_line": False},
         peer_watershed_distance, "skimage/scipy steps (edt, h_maxima, watershed)",
         AS_FAST_TARGET),
    Case("region_growing[seeds]", "region_growing", {"tolerance": 0.1, "connectivity": 4},
         peer_region_growing, "skimage.segmentation.flood per seed", PREVIEW_TARGET,
         seeded=True),
    Case("random_walker[seeds]", "random_walker", {"beta": 130.0, "margin": 0.5},
         peer_random_walker, f"skimage random_walker(mode='{_walker_mode()}', tol=1e-5)",
         WALKER_TARGET,
         seeded=True, reference=exact_random_walker),
    Case("chan_vese", "chan_vese", {"mu": 0.25, "lambda1": 1.0, "lambda2": 1.0, "max_iter": 200},
         peer_chan_vese, "skimage chan_vese", SLOW_TARGET),
    Case("felzenszwalb", "felzenszwalb", {"scale": 100.0, "sigma": 0.8, "min_size": 50,
                                          "space": "lab"},
         peer_felzenszwalb, "skimage felzenszwalb", AS_FAST_TARGET),
    Case("slic", "slic", {"n_segments": 200, "compactness": 10.0, "sigma": 1.0, "space": "lab"},
         peer_slic, "skimage slic", AS_FAST_TARGET),
    Case("spectral", "spectral", {"k": 4, "n_segments": 300, "compactness": 10.0,
                                  "similarity_sigma": 0.1, "space": "lab", "rng": 0},
         None, "none", SLOW_TARGET, quality="none"),
    Case("edges", "edges", {"operator": "sobel", "sigma": 1.0, "edge_fraction": 0.2,
                            "close_gaps": 1, "min_size": 20},
         peer_edges, "skimage gaussian, sobel, dilation, label", PREVIEW_TARGET),
    Case("unet", "unet", {"model": "auto", "tile": 512}, None, "none", UNET_TARGET,
         quality="none"),
]
CASES_BY_NAME = {c.name: c for c in CASES}


def select_cases(spec: str | None) -> list[Case]:
    """Cases whose method or full name is in the comma-separated ``spec`` (all if empty).

    Examples
    --------
    >>> [c.name for c in select_cases("kmeans[lab],gmm")]
    ['kmeans[lab]', 'gmm[lab]']
    """
    if not spec:
        return list(CASES)
    wanted = {w.strip() for w in spec.split(",") if w.strip()}
    chosen = [c for c in CASES if c.method in wanted or c.name in wanted]
    unknown = wanted - {c.method for c in chosen} - {c.name for c in chosen}
    if unknown:
        names = sorted({c.method for c in CASES})
        raise SystemExit(f"unknown method(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(names)} or a case name such as kmeans[lab]")
    return chosen


# --------------------------------------------------------------------------- worker


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _ours_outputs(seg, case: Case) -> dict:
    out = {"labels": seg.labels}
    extras = seg.extras
    if case.quality == "inertia" and "centres" in extras:
        out["centres"] = np.asarray(extras["centres"])
        out["assign"] = seg.labels.ravel() - 1
    if case.quality == "loglik" and "means" in extras:
        out.update(weights=np.asarray(extras["weights"]), means=np.asarray(extras["means"]),
                   covariances=np.asarray(extras["covariances"]))
    return out


def _side_call(case: Case, side: str) -> tuple[Callable, Callable]:
    """``(call, outputs)``: the timed call ``call(image, seeds)`` and what turns its
    result into the dict of outputs (not timed)."""
    if side == "ours":
        import segcore

        return (lambda image, seeds: segcore.segment(image, case.method, seeds=seeds,
                                                     **case.params),
                lambda seg: _ours_outputs(seg, case))
    fn = case.peer if side == "peer" else case.reference
    return (lambda image, seeds: fn(image, seeds, case.params)), (lambda out: out)


def run_worker(job_file: str) -> None:
    """One side of one case at one size, in this fresh process (``--worker JOB``).

    Prints ``START`` before each timed call (the parent's clock for the time limit)
    and writes the timings to ``JOB.result.json`` and the outputs to ``JOB.npz``.
    """
    job = json.loads(Path(job_file).read_text())
    case = CASES_BY_NAME[job["case"]]
    call, outputs = _side_call(case, job["side"])
    result: dict = {"status": "ok"}
    try:
        warm = photo.as_float(np.load(job["warm"]))
        call(warm, photo.two_seeds(warm.shape[:2]) if case.seeded else None)
        del warm
        image = photo.as_float(np.load(job["image"]))
        seeds = photo.two_seeds(image.shape[:2]) if case.seeded else None
        exact_peak = _reset_peak()
        before = status_kb("VmRSS")
        times, found = [], None
        for i in range(job["repeat"]):
            found = None  # the last result is not kept alive through the next call
            _memo.clear()  # every timed call cold: nothing kept from the one before
            print("START", flush=True)
            t = time.perf_counter()
            found = call(image, seeds)
            times.append(time.perf_counter() - t)
            if i == 0:
                peak = status_kb("VmHWM")
                result["peak_mb"] = (None if peak is None or before is None
                                     else round((peak - before) / 1024, 1))
                result["peak_exact"] = exact_peak
        result.update(seconds=min(times), times=times)
        arrays = {k: np.asarray(v) for k, v in outputs(found).items()}
        np.savez(job["out"], **arrays)
    except Exception as err:  # noqa: BLE001  (reported in the table, in words)
        result = {"status": "failed", "reason": f"{type(err).__name__}: {err}"}
    Path(job["out"] + ".result.json").write_text(json.dumps(result))


# --------------------------------------------------------------------------- running sides


@dataclass
class Limits:
    peer_s: float
    ours_s: float
    memory_mb: float
    repeat: int

    def seconds(self, side: str) -> float:
        return self.ours_s if side == "ours" else self.peer_s


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.strip())
    lines.put(None)


def _stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def run_side(case: Case, side: str, image: Path, warm: Path, work: Path,
             limits: Limits) -> dict:
    """Run one side in a fresh worker process under the time and memory limits."""
    out = work / f"{case.name}-{side}-{image.stem}".replace("[", "_").replace("]", "")
    job = out.with_suffix(".job.json")
    job.write_text(json.dumps({"case": case.name, "side": side, "image": str(image),
                               "warm": str(warm), "repeat": limits.repeat, "out": str(out)}))
    log = out.with_suffix(".log")
    limit = limits.seconds(side)
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.suite", "--worker", str(job)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + limit + SETUP_S
    worst_mb = 0.0
    try:
        while proc.poll() is None:
            try:
                if lines.get(timeout=0.1) == "START":
                    deadline = time.monotonic() + limit
            except queue.Empty:
                pass
            rss = (status_kb("VmRSS", proc.pid) or 0) / 1024
            worst_mb = max(worst_mb, rss)
            if rss > limits.memory_mb:
                _stop(proc)
                return {"status": "skipped", "reason": f"over {limits.memory_mb / 1024:.1f} GB "
                                                       "resident"}
            if time.monotonic() > deadline:
                _stop(proc)
                return {"status": "skipped", "reason": f"over {limit:g} s"}
    finally:
        if proc.poll() is None:
            _stop(proc)
    result_file = Path(str(out) + ".result.json")
    if not result_file.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return {"status": "failed", "reason": f"worker exited {proc.returncode}: {tail[0][:200]}"}
    result = json.loads(result_file.read_text())
    if result["status"] == "ok":
        result["outputs"] = str(out) + ".npz"
    return result


def predicted_skip(previous: dict | None, scale: float, limit: float,
                   memory_mb: float) -> str | None:
    """Why a side need not run at the next size, from how it did at the previous one.

    Examples
    --------
    >>> predicted_skip({"status": "ok", "seconds": 40.0, "peak_mb": 10.0, "size": 4.0}, 4, 120, 1e4)
    'predicted ~160 s from 40 s at 4 MP'
    >>> predicted_skip({"status": "skipped", "reason": "over 120 s", "size": 4.0}, 4, 120, 1e4)
    'over 120 s at 4 MP'
    """
    if previous is None:
        return None
    if previous["status"] == "skipped":
        return f"{previous['reason']} at {previous['size']:g} MP"
    if previous["status"] != "ok":
        return None
    if previous["seconds"] * scale > limit:
        return (f"predicted ~{previous['seconds'] * scale:.0f} s from "
                f"{previous['seconds']:.0f} s at {previous['size']:g} MP")
    peak = previous.get("peak_mb")
    if peak is not None and peak * scale > memory_mb:
        return f"predicted ~{peak * scale / 1024:.1f} GB from {previous['size']:g} MP"
    return None


# --------------------------------------------------------------------------- quality


def _feature_blocks(image: np.ndarray, space: str):
    """Features of every pixel in blocks of rows, ``float64 (n, F)``."""
    from segcore.color import to_space

    flat = image.reshape(-1, 1, image.shape[2])
    for start in range(0, len(flat), CHUNK):
        block = to_space(flat[start:start + CHUNK], space)
        yield start, block.reshape(len(block), -1).astype(np.float64)


def inertia(image: np.ndarray, space: str, assign: np.ndarray, centres: np.ndarray) -> float:
    """Sum over every pixel of the squared distance to its own cluster's centre.

    Examples
    --------
    >>> img = np.array([[[0.0], [1.0]]], np.float32)
    >>> inertia(img, "gray", np.array([0, 0]), np.array([[0.5]]))
    0.5
    """
    centres = np.asarray(centres, np.float64)
    total = 0.0
    for start, x in _feature_blocks(image, space):
        diff = x - centres[assign[start:start + len(x)]]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def _full_covariances(covariances, kind: str, k: int, f: int) -> np.ndarray:
    """``(k, f, f)`` covariance matrices from scikit-learn's layout for ``kind``."""
    c = np.asarray(covariances, np.float64)
    if kind == "full":
        return c
    if kind == "tied":
        return np.broadcast_to(c, (k, f, f))
    if kind == "diag":
        return np.stack([np.diag(v) for v in c])
    return np.stack([np.eye(f) * v for v in c.reshape(k)])  # spherical


def mean_log_likelihood(image: np.ndarray, space: str, weights, means, covariances,
                        kind: str = "full") -> float:
    """Mean log-density per pixel of every pixel under a Gaussian mixture whose
    covariances are laid out as scikit-learn's for ``kind`` (full, tied, diag, spherical).

    Examples
    --------
    >>> img = np.zeros((1, 2, 1), np.float32)
    >>> round(mean_log_likelihood(img, "gray", [1.0], [[0.0]], [[[1.0]]]), 4)
    -0.9189
    """
    from scipy.linalg import cholesky, solve_triangular
    from scipy.special import logsumexp

    means = np.asarray(means, np.float64)
    k, f = means.shape
    factors = [cholesky(c, lower=True) for c in _full_covariances(covariances, kind, k, f)]
    log_w = np.log(np.asarray(weights, np.float64))
    total, count = 0.0, 0
    for _, x in _feature_blocks(image, space):
        logp = np.empty((len(x), k))
        for j, chol in enumerate(factors):
            z = solve_triangular(chol, (x - means[j]).T, lower=True)
            log_det = 2 * np.log(np.diag(chol)).sum()
            logp[:, j] = log_w[j] - 0.5 * (f * np.log(2 * np.pi) + log_det + (z * z).sum(0))
        total += float(logsumexp(logp, axis=1).sum())
        count += len(x)
    return total / count


def _agreement(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pixel agreement after Hungarian matching of labels, for labellings with few labels."""
    from segcore import metrics

    if len(np.unique(a)) > 64 or len(np.unique(b)) > 64:
        return None
    return float(metrics.score(a, b)["accuracy"])


def quality(case: Case, image: np.ndarray, outputs: dict) -> dict:
    """The quality check of one row, from the loaded outputs of each side that ran."""
    from segcore import metrics

    ours, other = outputs.get("ours"), outputs.get("ref") or outputs.get("peer")
    against = "exact" if outputs.get("ref") else "peer"
    q: dict = {}
    if ours is None or other is None or case.quality == "none":
        return q
    space = case.params.get("space", "gray")
    if case.quality == "inertia" and "centres" in ours:
        q["inertia_ours"] = inertia(image, space, ours["assign"], ours["centres"])
        q["inertia_peer"] = inertia(image, space, other["assign"], other["centres"])
        q["inertia_excess"] = q["inertia_ours"] / q["inertia_peer"] - 1
    elif case.quality == "loglik" and "means" in ours:
        kind = case.params["covariance_type"]
        q["loglik_ours"] = mean_log_likelihood(image, space, ours["weights"], ours["means"],
                                               ours["covariances"], kind)
        q["loglik_peer"] = mean_log_likelihood(image, space, other["weights"], other["means"],
                                               other["covariances"], kind)
        q["loglik_deficit"] = q["loglik_peer"] - q["loglik_ours"]
    q["against"] = against
    q["ari"] = float(metrics.adjusted_rand_index(ours["labels"], other["labels"]))
    q["agreement"] = _agreement(ours["labels"], other["labels"])
    return q


def quality_text(q: dict) -> str:
    """The quality check in a few words for the table.

    Examples
    --------
    >>> quality_text({"inertia_excess": 0.0012, "ari": 0.99, "against": "peer"})
    'inertia +0.12%, ARI 0.990'
    """
    if not q:
        return "-"
    parts = []
    if "inertia_excess" in q:
        parts.append(f"inertia {q['inertia_excess']:+.2%}")
    if "loglik_deficit" in q:
        parts.append(f"loglik {-q['loglik_deficit']:+.4f}")
    parts.append(f"ARI {q['ari']:.3f}")
    if q.get("agreement") is not None:
        parts.append(f"agree {q['agreement']:.2%}")
    if q["against"] == "exact":
        parts[-1] += " vs exact"
    return ", ".join(parts)


# --------------------------------------------------------------------------- the run


@dataclass
class Row:
    case: str
    method: str
    size_mp: float
    shape: tuple
    ours: dict
    peer: dict
    ref: dict = field(default_factory=dict)
    ratio: float | None = None
    quality: dict = field(default_factory=dict)
    target: str = ""
    verdict: str = "-"


def _side_public(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "outputs"}


def _load_outputs(result: dict) -> dict | None:
    if result.get("status") != "ok":
        return None
    with np.load(result["outputs"]) as data:
        return {k: data[k] for k in data.files}


def measure_case(case: Case, images: dict[float, Path], work: Path, limits: Limits,
                 report: Callable[[Row], None]) -> list[Row]:
    """Every size of one case: run its sides, check quality, judge the target."""
    rows, previous = [], {}
    sizes = sorted(images)
    for size in sizes:
        image_path = images[size]
        results = {}
        for side in case.sides():
            prev = previous.get(side)
            scale = size / prev["size"] if prev else 1.0
            why = predicted_skip(prev, scale, limits.seconds(side), limits.memory_mb)
            results[side] = ({"status": "skipped", "reason": why} if why else
                             run_side(case, side, image_path, images[sizes[0]], work, limits))
            previous[side] = {**results[side], "size": size}
        pixels = np.load(image_path, mmap_mode="r")
        image = photo.as_float(np.asarray(pixels))
        outputs = {side: _load_outputs(r) for side, r in results.items()}
        outputs = {k: v for k, v in outputs.items() if v is not None}
        ours, peer = results["ours"], results.get("peer", {})
        ratio = (ours["seconds"] / peer["seconds"]
                 if ours.get("status") == "ok" and peer.get("status") == "ok" else None)
        row = Row(case.name, case.method, size, tuple(image.shape[:2]), _side_public(ours),
                  _side_public(peer), _side_public(results.get("ref", {})), ratio,
                  quality(case, image, outputs))
        if case.target and case.target.applies(size):
            row.target = case.target.text
            verdict = case.target.judge(asdict(row))
            row.verdict = {True: "pass", False: "MISS", None: "n/a"}[verdict]
        for r in results.values():
            if r.get("outputs"):
                Path(r["outputs"]).unlink(missing_ok=True)
        del image, outputs
        rows.append(row)
        report(row)
    return rows


def build_images(sizes: list[float], folder: Path) -> dict[float, Path]:
    """The test photo at each size, saved as ``uint8`` ``.npy`` for the workers."""
    paths = {}
    for size in sizes:
        path = folder / f"photo-{size:g}mp.npy"
        np.save(path, photo.phone_photo(size))
        paths[size] = path
    return paths


# --------------------------------------------------------------------------- output


COLUMNS = ("case", "MP", "ours s", "peer s", "ratio", "ours MB", "peer MB", "quality",
           "target", "verdict")


def _side_text(side: dict, key: str, fmt: str) -> str:
    if not side:
        return "-"
    if side.get("status") == "ok":
        value = side.get(key)
        return "-" if value is None else format(value, fmt)
    return f"{side['status']} ({side.get('reason', '')})" if key == "seconds" else "-"


def row_cells(row: Row) -> list[str]:
    """The table's cells of one row."""
    ratio = "-" if row.ratio is None else (f"{row.ratio:.3f}" if row.ratio < 0.1
                                           else f"{row.ratio:.2f}")
    return [row.case, f"{row.size_mp:g}", _side_text(row.ours, "seconds", ".3f"),
            _side_text(row.peer, "seconds", ".3f"), ratio,
            _side_text(row.ours, "peak_mb", ".0f"), _side_text(row.peer, "peak_mb", ".0f"),
            quality_text(row.quality), row.target or "-", row.verdict]


WIDTHS = (28, 5, 9, 9, 6, 8, 8, 40, 36, 7)


def text_line(cells: list[str]) -> str:
    """One line of the printed table: fixed widths, long cells run over."""
    return " ".join(c.ljust(w) if i in (0, 7, 8) else c.rjust(w)
                    for i, (c, w) in enumerate(zip(cells, WIDTHS))).rstrip()


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def summary_table(rows: list[Row], shown=(1.0, 4.0, 16.0)) -> str:
    """One line per case, as the README's Performance section shows it: seconds of both
    sides at the ``shown`` sizes, the ratio where the case's target applies, the
    quality at 4 MP and the verdict over every size measured."""
    head = ["case", *[f"{mp:g} MP: {side} s" if side == "ours" else "peer s"
                      for mp in shown for side in ("ours", "peer")],
            "ratio at target", "quality at 4 MP", "target", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in dict.fromkeys(r.case for r in rows):
        mine = [r for r in rows if r.case == name]
        at = {r.size_mp: r for r in mine}
        target = CASES_BY_NAME[name].target if name in CASES_BY_NAME else None
        cells = [name]
        for mp in shown:
            r = at.get(mp)
            cells += ([_side_text(r.ours, "seconds", ".3g"), _side_text(r.peer, "seconds", ".3g")]
                      if r else ["-", "-"])
        judged = [r for r in mine if target and target.applies(r.size_mp)]
        ratios = [r.ratio for r in judged if r.ratio is not None]
        if not ratios:
            ratio = "-"
        elif target.at is None:
            lo, hi = min(ratios), max(ratios)
            ratio = (f"{lo:.2f}" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f}") + \
                " (all sizes)"
        else:
            ratio = f"{ratios[0]:.3g} ({target.at:g} MP)"
        misses = sum(r.verdict == "MISS" for r in judged)
        if not judged:
            verdict = "-"
        elif len(judged) == 1:
            verdict = judged[0].verdict
        else:
            verdict = f"MISS at {misses} of {len(judged)} sizes" if misses else "pass"
        cells += [ratio, quality_text(at[4.0].quality) if 4.0 in at else "-",
                  target.text if target else "-", verdict]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_outputs(out: Path, facts: dict, settings: dict, rows: list[Row],
                  cases: list[Case]) -> list[Path]:
    """``suite.json``, ``suite.md`` and ``suite.png`` in ``out``; returns their paths."""
    from benchmarks.chart import time_chart

    out.mkdir(parents=True, exist_ok=True)
    peers = {c.name: c.peer_label for c in cases}
    data = {"machine": facts, "settings": settings, "peers": peers,
            "rows": [asdict(r) for r in rows]}
    paths = [out / "suite.json", out / "suite.md", out / "suite.png"]
    paths[0].write_text(json.dumps(data, indent=1, default=float))
    md = ["Machine and libraries:", "", *[f"    {line}" for line in describe(facts).splitlines()],
          "", f"Settings: `{json.dumps(settings)}`", "", "Summary (the README's table):", "",
          summary_table(rows), "", "Every row:", "", markdown_table(rows), "",
           "Peers: " + "; ".join(f"{k}: {v}" for k, v in peers.items()), ""]
    paths[1].write_text("\n".join(md))
    time_chart(rows, paths[2], title=f"segcore (ours) and peer, seconds; {facts['cpu']}, "
                                     f"{facts['cores']} cores")
    return paths


def merge_rows(previous: dict, rows: list[Row]) -> tuple[list[Row], list[dict]]:
    """``previous`` (a ``suite.json``) with the rows just measured (``rows``) in place
    of those of the same case and size, in :data:`CASES` order; and the runs the
    merged rows come from, each with the ``[case, MP]`` rows it still gives."""
    new = {(r.case, r.size_mp) for r in rows}
    kept = [Row(**{**r, "shape": tuple(r["shape"])}) for r in previous["rows"]
            if (r["case"], r["size_mp"]) not in new]
    order = {c.name: i for i, c in enumerate(CASES)}
    merged = sorted(kept + rows, key=lambda r: (order.get(r.case, len(order)), r.size_mp))
    runs = previous["settings"].get("runs") or [
        {**previous["settings"], "date": previous["machine"].get("date"),
         "git": previous["machine"].get("git"),
         "rows": [[r["case"], r["size_mp"]] for r in previous["rows"]]}]
    still = {(r.case, r.size_mp) for r in kept}
    runs = [{**run, "rows": [x for x in run["rows"] if tuple(x) in still]} for run in runs]
    return merged, [run for run in runs if run["rows"]]


def _memory_limit_mb() -> float:
    """80 % of the memory available now, in MB (8 GB where /proc/meminfo is missing)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return 0.8 * int(line.split()[1]) / 1024
    except OSError:
        pass
    return 8192.0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(f"{s:g}" for s in SIZES),
                        help="megapixels, comma-separated (default 0.25,1,4,16)")
    parser.add_argument("--methods", default="",
                        help="methods or case names, comma-separated (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="timed calls per side (best is kept)")
    parser.add_argument("--out", default="benchmarks/results", help="folder for the outputs")
    parser.add_argument("--peer-timeout", type=float, default=120.0,
                        help="seconds a peer's call may take before it is skipped")
    parser.add_argument("--ours-timeout", type=float, default=600.0,
                        help="seconds segcore's call may take before it is skipped")
    parser.add_argument("--memory-limit", type=float, default=None,
                        help="GB of resident memory a side may use (default 80%% of what is "
                             "available at the start)")
    parser.add_argument("--update", action="store_true",
                        help="replace only these cases' rows in --out's suite.json, keep the rest")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker)
        return
    sizes = sorted({float(s) for s in args.sizes.split(",") if s.strip()})
    cases = select_cases(args.methods)
    memory_mb = args.memory_limit * 1024 if args.memory_limit else _memory_limit_mb()
    limits = Limits(args.peer_timeout, args.ours_timeout, memory_mb, max(1, args.repeat))
    facts = machine_facts()
    settings = {"sizes_mp": sizes, "cases": [c.name for c in cases], "repeat": limits.repeat,
                "peer_timeout_s": limits.peer_s, "ours_timeout_s": limits.ours_s,
                "memory_limit_mb": round(memory_mb), "photo": "coffee, 4:3, noise 2, 8-bit"}
    print(describe(facts))
    print(f"sizes {', '.join(f'{s:g}' for s in sizes)} MP; best of {limits.repeat}; peers skipped "
          f"past {limits.peer_s:g} s or {memory_mb / 1024:.1f} GB\n")
    print(text_line(list(COLUMNS)))
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="seglab-suite-") as tmp:
        work = Path(tmp)
        images = build_images(sizes, work)
        for case in cases:
            rows += measure_case(case, images, work, limits,
                                 lambda row: print(text_line(row_cells(row)), flush=True))
    judged = [r.verdict for r in rows if r.target]
    print(f"\n{len(rows)} rows in {time.monotonic() - started:.0f} s; targets: "
          f"{judged.count('pass')} pass, {judged.count('MISS')} miss, {judged.count('n/a')} n/a")
    previous = Path(args.out) / "suite.json"
    if args.update and previous.exists():
        measured = [[r.case, r.size_mp] for r in rows]
        rows, runs = merge_rows(json.loads(previous.read_text()), rows)
        settings = {"runs": [*runs, {**settings, "date": facts.get("date"),
                                     "git": facts.get("git"), "rows": measured}]}
        cases = [c for c in CASES if c.name in {r.case for r in rows}]
    for path in write_outputs(Path(args.out), facts, settings, rows, cases):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
