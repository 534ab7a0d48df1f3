"""Batch: one method over a folder of images, written as label files and, given
truth masks, scored image by image; on every core of this machine or on a Dask
cluster.

:func:`batch` reads each image, runs :func:`segment_file` on it in a worker (a
process of this machine, or a Dask worker anywhere: it gets the file's bytes and
sends back the labels as PNG bytes and one row of numbers, never the method's
extras), and writes ``OUT/<stem>.png`` (:func:`segcore.io.encode_labels_png`).

What ``OUT`` holds:

``<stem>.png``
    The labels of each image that ran.
``batch.json``
    The method and its settings; a folder made with other settings is refused.
``batch-rows.jsonl``
    One row per finished image, written as it finishes.
``metrics.csv``
    One row per image, in input order: its files, size, region count, seconds, the
    scores against its truth (mean IoU, Dice, precision, recall after Hungarian
    matching, and pixel accuracy) and the error that stopped it, if any.
``summary.json``
    Counts, and the mean and median of every score and of the run times.

The truth of ``001.jpg`` is the file of stem ``001`` in the truth folder
(``001.png``), read with :func:`segcore.io.load_mask`; an image without one is
segmented but not scored.

Runs resume: an image whose label file is complete and whose row is in
``batch-rows.jsonl`` is skipped. Every file is written under a temporary name and
renamed into place, so an interrupted run (Ctrl-C) leaves no half-written file. A
file that cannot be read or segmented gets its error in its row; the run goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import glob
import io
import json
import multiprocessing
import os
import signal
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from segcore.io import SUPPORTED_EXTENSIONS, encode_labels_png, load_image, load_mask
from segcore.registry import get_method, segment
from segcore.snippet import jsonable

__all__ = ["SCORES", "COLUMNS", "Item", "Result", "find_images", "match_truth", "plan",
           "segment_file", "batch", "summarise", "label_file_complete", "CLUSTER_HINT"]

#: The scores each image gets against its truth (see :func:`segcore.metrics.score`).
SCORES = ("iou", "dice", "precision", "recall", "accuracy")
#: The columns of ``metrics.csv`` (the scores only when there is truth).
COLUMNS = ("image", "labels", "truth", "width", "height", "regions", "seconds", *SCORES,
           "error")
#: What to install for ``--dask``.
CLUSTER_HINT = "pip install 'seglab[cluster]'"

_SETTINGS, _ROWS, _CSV, _SUMMARY = "batch.json", "batch-rows.jsonl", "metrics.csv", "summary.json"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the last chunk of every whole PNG


@dataclass(frozen=True)
class Item:
    """One image of a batch: its file, the truth file matched to it, and the label
    file it makes (``output``).

    Examples
    --------
    >>> Item(Path("in/001.jpg"), Path("truth/001.png"), Path("out/001.png")).name
    '001.jpg'
    """

    image: Path
    truth: Path | None
    output: Path

    @property
    def name(self) -> str:
        return self.image.name


@dataclass(frozen=True)
class Result:
    """What a batch did: one row per image (input order) and the summary.

    Examples
    --------
    >>> Result([], {"images": 0}, Path("out")).summary["images"]
    0
    """

    rows: list
    summary: dict
    out_dir: Path


def find_images(source: str | os.PathLike) -> list[Path]:
    """The images of a batch: a folder's image files (by extension, sorted by name,
    hidden files left out), or the files a glob pattern matches.

    Raises
    ------
    ValueError
        When nothing is found.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.png", "a.JPG", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in find_images(folder)], [p.name for p in find_images(folder / "*.png")]
    (['a.JPG', 'b.png'], ['b.png'])
    """
    path = Path(source).expanduser()
    if path.is_dir():
        found = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                 and p.suffix.lower().lstrip(".") in SUPPORTED_EXTENSIONS]
        if not found:
            raise ValueError(f"{path} holds no images (looked for "
                             f"{', '.join('.' + e for e in SUPPORTED_EXTENSIONS)})")
        return sorted(found, key=lambda p: p.name)
    found = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    if not found:
        what = "no file matches" if glob.has_magic(str(path)) else "there is no folder or file"
        raise ValueError(f"{what} {source}")
    return found


def match_truth(images: Iterable[Path], truth_dir: str | os.PathLike) -> dict[Path, Path | None]:
    """The truth file of each image: the file of the same stem in ``truth_dir``
    (``001.jpg`` gets ``001.png``), or ``None``.

    Raises
    ------
    ValueError
        For a missing folder, or two truth files of the same stem.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "001.png").write_bytes(b"")
    >>> match_truth([Path("in/001.jpg"), Path("in/002.jpg")], folder)[Path("in/002.jpg")] is None
    True
    """
    folder = Path(truth_dir).expanduser()
    if not folder.is_dir():
        raise ValueError(f"the truth folder {truth_dir} does not exist")
    by_stem: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            if p.stem in by_stem:
                raise ValueError(f"the truth folder holds two files of stem {p.stem!r} "
                                 f"({by_stem[p.stem].name}, {p.name}); keep one")
            by_stem[p.stem] = p
    return {image: by_stem.get(image.stem) for image in images}


def plan(source: str | os.PathLike, out_dir: str | os.PathLike, *,
         truth_dir: str | os.PathLike | None = None) -> list[Item]:
    """The :class:`Item` of every image: its truth and its label file ``OUT/<stem>.png``.

    Raises
    ------
    ValueError
        When two images share a stem (their label files would be the same), or a
        label file would replace an image or a truth file.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "001.jpg").write_bytes(b"")
    >>> plan(folder, "out")[0].output
    PosixPath('out/001.png')
    """
    images = find_images(source)
    truths = match_truth(images, truth_dir) if truth_dir is not None else {}
    out, seen = Path(out_dir), {}
    for image in images:
        if image.stem in seen:
            raise ValueError(f"{seen[image.stem]} and {image} share the stem {image.stem!r}: "
                             "their label files would be the same; rename one")
        seen[image.stem] = image
    items = [Item(image, truths.get(image), out / f"{image.stem}.png") for image in images]
    inputs = {p.resolve() for p in [*images, *filter(None, truths.values())]}
    clash = next((i.output for i in items if i.output.resolve() in inputs), None)
    if clash is not None:
        raise ValueError(f"the label file {clash} would replace an input file; choose another "
                         "output folder")
    return items


def segment_file(method: str, params: Mapping[str, Any], image: bytes | str | os.PathLike,
                 truth: bytes | str | os.PathLike | None = None, *,
                 zero: str = "class") -> dict:
    """Segment one image file and score it: the job a batch's workers run.

    Parameters
    ----------
    method : str
    params : mapping
        The method's settings.
    image : bytes or path
        The image file (bytes, so a worker needs no access to the client's files).
    truth : bytes or path, optional
        Its truth mask (:func:`segcore.io.load_mask`).
    zero : {"class", "ignore"}
        In a label truth, whether ``0`` is a class or pixels left out.

    Returns
    -------
    dict
        ``png``: the labels as PNG bytes (``None`` when the image failed), and
        ``row``: ``width``, ``height``, ``regions``, ``seconds``, the
        :data:`SCORES` with truth, and ``error`` (empty when all went well).
        Nothing else comes back (no histories, no probabilities).

    Examples
    --------
    >>> from segcore.io import png_bytes
    >>> from segcore.viz import to_uint8
    >>> from segcore import synthetic
    >>> s = synthetic.two_regions((20, 30))
    >>> done = segment_file("threshold", {}, png_bytes(to_uint8(s.image[:, :, 0])),
    ...                     png_bytes((s.truth == 2).astype(np.uint8) * 255))
    >>> done["row"]["regions"], done["row"]["iou"], done["png"][:4]
    (2, 1.0, b'\\x89PNG')
    >>> segment_file("threshold", {}, b"not an image")["row"]["error"]
    'cannot load the image: this looks like a text file, not an image ...'
    """
    row: dict[str, Any] = {"error": ""}
    try:
        img = load_image(image)
        row.update(width=img.shape[1], height=img.shape[0])
        seg = segment(img, method, **params)
        png = encode_labels_png(seg.labels)
    except Exception as err:  # one bad file is a row that says why, never the end of a run
        row["error"] = _reason(err)
        return {"png": None, "row": row}
    row.update(regions=seg.n_regions, seconds=round(seg.elapsed_s, 4))
    if truth is not None:
        from segcore.sweep import measure

        try:
            reference, ignore, _ = load_mask(truth, shape=seg.labels.shape, zero=zero)
            row.update(measure(seg.labels, reference, ignore=ignore))
        except Exception as err:
            row["error"] = f"truth: {_reason(err)}"
    return {"png": png, "row": row}


def _reason(err: BaseException) -> str:
    text = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
    return " ".join(text.split()) or type(err).__name__


def label_file_complete(path: str | os.PathLike) -> bool:
    """Whether a label file exists and is a whole PNG (it ends with PNG's last chunk).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.png"
    >>> _ = path.write_bytes(encode_labels_png(np.ones((2, 2), np.int32)))
    >>> label_file_complete(path), label_file_complete(path.with_name("y.png"))
    (True, False)
    """
    try:
        with open(path, "rb") as f:
            f.seek(-len(_PNG_END), os.SEEK_END)
            return f.read() == _PNG_END
    except OSError:
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    # Written beside its final name and renamed into place: an interrupted run leaves
    # the old file or the new one, never half of one.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _settings(method: str, params: dict) -> dict:
    return {"method": method, "params": jsonable(params)}


def _check_out_dir(out: Path, settings: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / _SETTINGS
    if path.exists():
        try:
            before = json.loads(path.read_text())
        except (OSError, ValueError):
            before = None
        if before != settings:
            raise ValueError(
                f"{out} holds labels made with other settings ({_difference(before, settings)}). "
                "Use another output folder, or empty this one")
    else:
        _write_atomic(path, json.dumps(settings, indent=2).encode())


def _difference(before: Any, now: dict) -> str:
    if not isinstance(before, dict) or not isinstance(before.get("params"), dict):
        return f"its {_SETTINGS} is unreadable"
    if before.get("method") != now["method"]:
        return f"method {before.get('method')}, now {now['method']}"
    old, new = before["params"], now["params"]
    changed = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return "; ".join(f"{k}={old.get(k, '(none)')}, now {new.get(k, '(none)')}" for k in changed)


def _finished_rows(out: Path) -> dict[str, dict]:
    rows = {}
    try:
        lines = (out / _ROWS).read_text().splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
            rows[row["image"]] = row
        except (ValueError, TypeError, KeyError):
            continue  # a line cut short by an interrupted run: that image runs again
    return rows


class _Inline(cf.Executor):
    """Runs each job at once in this process (``jobs=1``: no process to start)."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_result(fn(*args, **kwargs))
        return future


_LIMITS = None


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle (it stops the pool); one BLAS thread per
    # process, as there is a process per core.
    global _LIMITS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits

    _LIMITS = threadpool_limits(limits=1)


def _pool(jobs: int) -> cf.Executor:
    if jobs == 1:
        return _Inline()
    # spawn, not fork: a forked child of a process that has started threads (torch,
    # BLAS, the app's server) can hang.
    return cf.ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init,
                                  mp_context=multiprocessing.get_context("spawn"))


def _stop(executor: cf.Executor) -> None:
    # A running job would otherwise finish first (Python 3.14 has terminate_workers).
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
    executor.shutdown(wait=True, cancel_futures=True)


def _connect(address: str):
    try:
        import distributed
    except ImportError:
        raise ValueError(f"--dask needs Dask's distributed package: {CLUSTER_HINT}") from None
    try:
        return distributed.Client(address, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise ValueError(f"could not reach a Dask scheduler at {address}: {err}") from None


def batch(method: str, source: str | os.PathLike, out_dir: str | os.PathLike, *,
          params: Mapping[str, Any] | None = None, truth_dir: str | os.PathLike | None = None,
          zero: str = "class", jobs: int | None = None, dask: str | None = None,
          progress: Callable[[int, int, dict | None], Any] | None = None) -> Result:
    """Segment every image of ``source`` with ``method`` and write the labels, with
    truth the scores, into ``out_dir`` (see the module's description for the files).

    Parameters
    ----------
    method : str
        A registry method that runs without seeds.
    source : path or glob pattern
        A folder of images, or a pattern such as ``"photos/*.jpg"``.
    out_dir : path
        Made if missing. A folder of an earlier run with the same settings is
        resumed; one made with other settings is refused.
    params : mapping, optional
        The method's settings (strings are fine, as the CLI's ``--set`` gives them).
    truth_dir : path, optional
        Truth masks matched to images by file stem.
    zero : {"class", "ignore"}
        In a label truth, whether ``0`` is a class or pixels left out.
    jobs : int, optional
        Processes on this machine (default: one per core; ``1`` runs in this process).
    dask : str, optional
        A Dask scheduler's address (``tcp://host:port``): the images run on its
        workers instead, which need segcore installed but not the files.
    progress : callable, optional
        ``progress(done, total, row)`` after each image (``row`` ``None`` for the
        first call, which counts the images already finished by an earlier run).

    Returns
    -------
    Result

    Raises
    ------
    ValueError
        For an unknown method or setting, a method that needs seeds, no images,
        truth or output folders that do not fit, or a Dask scheduler out of reach.
    KeyboardInterrupt
        Passed on after the workers are stopped; finished images are kept.

    Examples
    --------
    >>> import tempfile
    >>> from segcore.io import png_bytes
    >>> from segcore.viz import to_uint8
    >>> from segcore import synthetic
    >>> folder = Path(tempfile.mkdtemp())
    >>> gray = to_uint8(synthetic.two_regions((16, 16)).image[:, :, 0])
    >>> _ = (folder / "a.png").write_bytes(png_bytes(gray))
    >>> done = batch("threshold", folder, folder / "out", params={"algorithm": "li"}, jobs=1)
    >>> done.rows[0]["regions"], (folder / "out" / "a.png").exists(), done.summary["failed"]
    (2, True, 0)
    """
    spec = get_method(method)
    if spec.seeds == "required":
        raise ValueError(f"method {method!r} needs seeds, and a batch has none to give")
    if zero not in ("class", "ignore"):
        raise ValueError(f"zero must be 'class' or 'ignore', got {zero!r}")
    resolved = spec.resolve(dict(params or {}))
    if jobs is None:
        jobs = os.cpu_count() or 1
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    items = plan(source, out_dir, truth_dir=truth_dir)
    out = Path(out_dir)
    _check_out_dir(out, _settings(spec.name, resolved))
    earlier = _finished_rows(out)
    rows: dict[str, dict] = {}
    todo = []
    for item in items:
        row = earlier.get(item.name)
        truth_name = item.truth.name if item.truth else ""
        if row and row.get("truth", "") == truth_name and label_file_complete(item.output):
            rows[item.name] = row
        else:
            todo.append(item)
    total = len(items)
    client = _connect(dask) if dask and todo else None
    try:
        if progress is not None:
            progress(len(rows), total, None)

        def record(item: Item, done: dict) -> None:
            rows[item.name] = _record(out, item, done)
            if progress is not None:
                progress(len(rows), total, rows[item.name])

        if todo:
            _work(todo, spec.name, resolved, zero, min(jobs, len(todo)), client, record)
    finally:
        if client is not None:
            client.close()
    return _finish(out, items, rows, spec.name, resolved, truth_dir is not None,
                   resumed=total - len(todo))


def _record(out: Path, item: Item, done: dict) -> dict:
    """Write one finished image's labels and its row (the row last: a row in the
    journal means its label file is in place)."""
    row = {"image": item.name, "labels": "", "truth": item.truth.name if item.truth else "",
           **done["row"]}
    if done["png"] is not None:
        _write_atomic(item.output, done["png"])
        row["labels"] = item.output.name
    with open(out / _ROWS, "a", encoding="utf-8") as journal:
        journal.write(json.dumps(jsonable(row)) + "\n")
    return row


def _work(todo: list[Item], method: str, params: dict, zero: str, jobs: int, client,
          record: Callable[[Item, dict], None]) -> None:
    """Run :func:`segment_file` on every item, a few at a time per worker, and
    ``record`` each as it finishes."""
    executor = client.get_executor(pure=False) if client is not None else _pool(jobs)
    room = 2 * (sum(client.nthreads().values()) if client is not None else jobs)
    queue, running = list(reversed(todo)), {}

    def submit_next() -> None:
        while queue:
            item = queue.pop()
            try:
                image = item.image.read_bytes()
                truth = item.truth.read_bytes() if item.truth else None
            except OSError as err:
                record(item, {"png": None, "row": {"error": _reason(err)}})
                continue
            if client is not None:  # sent once, ahead of the task (Dask's advice for data)
                image = client.scatter(image, hash=False)
                truth = None if truth is None else client.scatter(truth, hash=False)
            running[executor.submit(segment_file, method, params, image, truth,
                                    zero=zero)] = item
            return

    try:
        for _ in range(room):
            submit_next()
        while running:
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                item = running.pop(future, None)
                if item is None:
                    continue  # queued again after its pool broke
                try:
                    done = future.result()
                except cf.BrokenExecutor:
                    # A worker died (out of memory, killed): this image is the suspect,
                    # the others that were running go again in a fresh pool.
                    done = {"png": None, "row": {"error": "the worker process running it "
                                                          "stopped (out of memory?)"}}
                    queue.extend(running.values())
                    running.clear()
                    executor.shutdown(wait=True)
                    executor = _pool(jobs)
                    for _ in range(room - 1):
                        submit_next()
                except Exception as err:  # the job failed outside segment_file (Dask)
                    done = {"png": None, "row": {"error": _reason(err)}}
                record(item, done)
                submit_next()
    except BaseException:  # Ctrl-C above all: stop the workers, keep what is finished
        for future in running:
            future.cancel()
        if client is None:
            _stop(executor)
        raise
    if client is None:
        executor.shutdown(wait=True)


def _finish(out: Path, items: list[Item], rows: dict, method: str, params: dict, scored: bool,
            *, resumed: int) -> Result:
    ordered = [rows[item.name] for item in items]
    summary = summarise(ordered, scored=scored)
    summary.update(method=method, params=jsonable(params), resumed=resumed)
    _write_csv(out / _CSV, ordered, scored=scored)
    _write_atomic(out / _SUMMARY, json.dumps(jsonable(summary), indent=2).encode())
    return Result(ordered, summary, out)
def summarise(rows: list[dict], *, scored: bool = True) -> dict:
    """Counts, and the mean and median of each score and of the run times.

    Examples
    --------
    >>> rows = [{"iou": 0.5, "seconds": 1.0, "error": ""}, {"iou": 1.0, "seconds": 3.0, "error": ""},
    ...         {"error": "not an image"}]
    >>> s = summarise(rows)
    >>> s["images"], s["failed"], s["iou"]
    (3, 1, {'mean': 0.75, 'median': 0.75})
    """
    out: dict[str, Any] = {"images": len(rows),
                           "failed": sum(1 for r in rows if r.get("error")),
                           "ok": sum(1 for r in rows if not r.get("error"))}
    names = (*SCORES, "seconds") if scored else ("seconds",)
    if scored:
        out["unscored"] = sum(1 for r in rows if not r.get("error") and "iou" not in r)
    for name in names:
        found = [float(r[name]) for r in rows if isinstance(r.get(name), (int, float))]
        out[name] = ({"mean": float(np.mean(found)), "median": float(statistics.median(found))}
                     if found else {"mean": None, "median": None})
    return out


def _write_csv(path: Path, rows: list[dict], *, scored: bool) -> None:
    columns = [c for c in COLUMNS if scored or c not in SCORES]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: (f"{row[c]:.6g}" if isinstance(row.get(c), float) else row.get(c, ""))
                         for c in columns})
    _write_atomic(path, text.getvalue().encode("utf-8"))
