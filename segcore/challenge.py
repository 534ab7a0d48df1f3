"""Class challenges: an image with a hidden truth, the methods allowed and a goal.

A teacher makes a :class:`Challenge` from one of SegLab's generated samples
(:func:`generated`: the generator's settings are enough to make it again, so it
travels as a link, :func:`to_query` / :func:`from_query`) or from their own image
and mask (:func:`from_image`: a small copy travels as one file, :func:`to_bytes` /
:func:`from_bytes`). A student tunes an allowed method, :func:`score` says how
close the result is, and :func:`sweep` tries each allowed method's settings to
find the best score within a time budget.

It is a classroom exercise, not an exam: the truth travels with the challenge
(the settings that make it, or the mask itself). The ``check`` of a link or file
is a hash over its settings and content that catches a link cut short, a
character changed or a damaged file; it is not a seal (anyone can compute it).

>>> ch = generated("blobs", {"n": 6}, methods=["threshold"], metric="iou", target=0.9)
>>> same = from_query(to_query(ch))
>>> same.check == ch.check, bool((same.truth == ch.truth).all())
(True, True)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np
from PIL import Image

from segcore import io as sio
from segcore import synthetic
from segcore.registry import Param, check_image, format_value, get_method, list_methods
# The grid of settings and the run of one of them live in segcore.sweep, the one home
# of sweeps; `candidates` is re-exported here for the challenge's callers.
from segcore.sweep import FIXED, candidates, measure, run

__all__ = [
    "VERSION", "FORMAT", "MAX_PIXELS", "MIN_SIDE", "MAX_FILE_BYTES", "METRICS", "GENERATORS",
    "Challenge", "Trial", "Sweep", "allowed_methods", "generator_params", "generator_param",
    "generated",
    "from_image", "to_query", "from_query", "to_bytes", "from_bytes", "score", "attempt",
    "candidates", "sweep",
]

#: The format version links and files carry; another version is refused in words.
VERSION = 1
#: What a challenge file says it is, first thing.
FORMAT = "seglab-challenge"
#: An own image travels as a copy of at most this many pixels (as the lessons use):
#: the file stays small and every try answers in about a second.
MAX_PIXELS = 90_000
#: The shortest side a challenge image may have.
MIN_SIDE = 16
#: The largest challenge file read (a 300 x 300 colour PNG and its mask fit easily).
MAX_FILE_BYTES = 2 * 2**20
#: The longest question, image name and query value taken.
MAX_QUESTION, MAX_NAME, MAX_VALUE = 300, 80, 400
#: The scores a goal can be set on (from :mod:`segcore.metrics`), with their names.
METRICS = {"iou": "mean IoU", "dice": "mean Dice", "accuracy": "pixel accuracy",
           "boundary_f1": "boundary F1"}
#: Parameters the sweep leaves at their defaults (:data:`segcore.sweep.FIXED`).
SWEEP_FIXED = FIXED

_RNG = Param("rng", "int", 0, label="Variant", low=0, high=9999,
             help="The random seed: another number draws another image of the same kind.")
#: The settings of each generated sample a teacher may change, declared as data
#: (samples not listed are made with their defaults).
GENERATORS: dict[str, tuple[Param, ...]] = {
    "shapes": (_RNG,),
    "colour shapes": (_RNG,),
    "blobs": (Param("n", "int", 12, label="Blobs drawn", low=1, high=40,
                    help="How many blobs are drawn (hidden ones drop out)."), _RNG),
    "noisy blobs": (Param("sigma", "float", 0.2, label="Noise (standard deviation)", low=0.0,
                          high=0.5, step=0.01, help="Gaussian noise added to the blobs."), _RNG),
    "low contrast": (_RNG,),
    "two regions": (Param("low", "float", 0.2, label="Left half's gray", low=0.0, high=1.0,
                          step=0.01),
                    Param("high", "float", 0.8, label="Right half's gray", low=0.0, high=1.0,
                          step=0.01)),
}
_TASK_KEYS = ("name", "question", "methods", "metric", "target")
_QUERY_KEYS = ("challenge", "sample", "methods", "metric", "target", "question", "check")


@dataclass(frozen=True, eq=False)
class Challenge:
    """One challenge: what the students see, the truth they do not, and the goal.

    Attributes
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    truth : (H, W) int32 ndarray
        Class ids; ``ignore`` pixels are left out of scores.
    methods : tuple of str
        The registry methods a student may use.
    metric : str
        A key of :data:`METRICS`.
    target : float
        The goal: ``metric`` at least this, in ``[0, 1]``.
    question : str
        The teacher's own words (may be empty).
    name : str
        What the image is called.
    sample : str or None
        The generated sample it was made from (``None``: the teacher's own image).
    settings : tuple of (name, value)
        The generator's settings, sorted by name.
    ignore : int or None

    Examples
    --------
    >>> ch = generated("two regions", methods=["threshold"], metric="dice", target=0.95)
    >>> ch.image.shape, ch.task
    ((64, 64, 1), 'Reach a mean Dice of at least 0.95 with Threshold.')
    """

    image: np.ndarray
    truth: np.ndarray
    methods: tuple[str, ...]
    metric: str
    target: float
    question: str
    name: str
    sample: str | None = None
    settings: tuple = ()
    ignore: int | None = None
    description: str = field(default="", compare=False)

    @property
    def task(self) -> str:
        """The goal in words."""
        labels = [get_method(m).label for m in self.methods]
        methods = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
        return f"Reach a {METRICS[self.metric]} of at least {self.target:.2f} with {methods}."

    @property
    def source(self) -> str:
        """Where the image comes from, in words."""
        if self.sample is None:
            return f"the teacher's own image ({self.name}) with the teacher's mask"
        told = ", ".join(f"{generator_param(self.sample, k).label.lower()} {v:g}"
                         for k, v in self.settings)
        return f"SegLab's generated sample “{self.sample}”" + (f" ({told})" if told else "")

    @cached_property
    def check(self) -> str:
        """A hash over the settings and the content (16 hex digits)."""
        return _digest(_canonical(self))


def _digest(canonical: dict) -> str:
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _array_hash(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    head = f"{array.dtype.str}{array.shape}".encode()
    return hashlib.sha256(head + array.tobytes()).hexdigest()


def _canonical(ch: Challenge) -> dict:
    out = {"version": VERSION, **{k: getattr(ch, k) for k in _TASK_KEYS},
           "truth": _array_hash(ch.truth.astype("<i4"))}
    out["methods"] = list(ch.methods)
    if ch.sample is not None:
        out.update(sample=ch.sample, settings=dict(ch.settings))
    else:  # the pixels themselves: an own image is exact 8-bit levels
        out.update(image=_array_hash(_to_u8(ch.image)), ignore=ch.ignore)
    return out


# --------------------------------------------------------------------------- validation


def allowed_methods() -> list[str]:
    """The registry methods a challenge may allow: those that run without seeds
    (a challenge has no seeds to give).

    Examples
    --------
    >>> "threshold" in allowed_methods(), "region_growing" in allowed_methods()
    (True, False)
    """
    return [m.name for m in list_methods() if m.seeds != "required"]


def generator_params(sample: str) -> tuple[Param, ...]:
    """The settings a teacher may change for a generated ``sample``.

    Examples
    --------
    >>> [p.name for p in generator_params("noisy blobs")]
    ['sigma', 'rng']
    """
    if sample not in synthetic.SAMPLES:
        raise ValueError(f"there is no generated sample {_short(sample)}; there are "
                         f"{', '.join(synthetic.SAMPLES)}")
    return GENERATORS.get(sample, ())


def generator_param(sample: str, name: str) -> Param:
    """One setting of a generated sample, by its name.

    Examples
    --------
    >>> generator_param("blobs", "n").label
    'Blobs drawn'
    """
    for p in generator_params(sample):
        if p.name == name:
            return p
    raise ValueError(f"the sample {_short(sample)} has no setting {_short(name)}")


def _short(value: Any) -> str:
    # Values from a link or file go into messages: never a page of them.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"the {what} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"the {what} is {len(value)} characters long; at most {limit} are taken")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValueError(f"the {what} holds control characters")
    return value


def _task(*, name, question, methods, metric, target) -> dict:
    """The task's fields, validated (the same for links, files and new challenges)."""
    if isinstance(methods, str) or not isinstance(methods, (list, tuple)):
        raise ValueError(f"the methods must be a list of method names, got {_short(methods)}")
    usable = allowed_methods()
    if not methods:
        raise ValueError("a challenge needs at least one method")
    for m in methods:
        if not isinstance(m, str) or m not in usable:
            raise ValueError(f"{_short(m)} is not a method a challenge can allow; they are "
                             f"{', '.join(usable)}")
    if len(set(methods)) != len(methods):
        raise ValueError("a method is listed twice")
    if metric not in METRICS:
        raise ValueError(f"the score must be one of {', '.join(METRICS)}, got {_short(metric)}")
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        raise ValueError(f"the target must be a number, got {_short(target)}")
    if not (0 <= target <= 1 and math.isfinite(target)):
        raise ValueError(f"the target must be a score between 0 and 1, got {_short(target)}")
    return {"name": _text(name, "image name", MAX_NAME),
            "question": _text(question, "question", MAX_QUESTION),
            "methods": tuple(methods), "metric": metric, "target": float(target)}


def _truth(truth: np.ndarray, ignore: int | None) -> np.ndarray:
    truth = np.asarray(truth)
    if not (np.issubdtype(truth.dtype, np.integer) or truth.dtype == bool) or truth.ndim != 2:
        raise ValueError(f"the truth must be a 2-D array of class ids, got {truth.dtype} "
                         f"with shape {truth.shape}")
    if truth.min() < 0 or truth.max() > 65535:
        raise ValueError("the truth's class ids must lie in 0 to 65535")
    if ignore is not None and (isinstance(ignore, bool) or not isinstance(ignore, int)
                               or not 0 <= ignore <= 65535):
        raise ValueError(f"the ignored class must be a class id or nothing, got "
                         f"{_short(ignore)}")
    classes = np.unique(truth)
    if np.count_nonzero(classes != ignore) < 2:
        raise ValueError("the truth needs at least two classes (background and an object) "
                         "to score against")
    return truth.astype(np.int32)


# --------------------------------------------------------------------------- making


def generated(sample: str, settings: Mapping[str, Any] | None = None, *, methods, metric: str,
              target: float, question: str = "") -> Challenge:
    """A challenge on a generated sample, made again from its settings.

    Parameters
    ----------
    sample : str
        A name from :data:`segcore.synthetic.SAMPLES`.
    settings : dict, optional
        Values for :func:`generator_params` (strings are taken, as a link has them);
        missing ones take their defaults.
    methods : list of str
        From :func:`allowed_methods`.
    metric : str
        A key of :data:`METRICS`.
    target : float
        In ``[0, 1]``.
    question : str
        The teacher's own words.

    Raises
    ------
    ValueError
        For an unknown sample or setting, or a value out of range, in words.

    Examples
    --------
    >>> ch = generated("noisy blobs", {"sigma": "0.3", "rng": 2}, methods=["kmeans"],
    ...                metric="iou", target=0.8)
    >>> ch.settings, ch.image.shape
    ((('rng', 2), ('sigma', 0.3)), (192, 192, 1))
    """
    params = generator_params(sample)
    settings = dict(settings or {})
    unknown = sorted(set(settings) - {p.name for p in params})
    if unknown:
        raise ValueError(f"the sample {sample!r} has no setting "
                         f"{', '.join(map(_short, unknown[:3]))}")
    for name, value in settings.items():
        if not isinstance(value, (str, int, float)) or len(str(value)) > 40:
            raise ValueError(f"the setting {name!r} must be a number, got {_short(value)}")
    values = {p.name: p.validate(settings.get(p.name, p.default)) for p in params}
    made = synthetic.SAMPLES[sample](**values)
    task = _task(name=sample, question=question, methods=methods, metric=metric, target=target)
    return Challenge(image=made.image, truth=made.truth.astype(np.int32), sample=sample,
                     settings=tuple(sorted(values.items())), description=made.description,
                     **task)


def _to_u8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _from_u8(levels: np.ndarray) -> np.ndarray:
    image = levels.astype(np.float32) / np.float32(255)
    return image[:, :, None] if image.ndim == 2 else image


def from_image(image: np.ndarray, truth: np.ndarray, *, name: str, methods, metric: str,
               target: float, question: str = "", ignore: int | None = None) -> Challenge:
    """A challenge on the teacher's own image and mask: a copy of at most
    :data:`MAX_PIXELS` pixels (the truth resized by nearest pixel), in exact 8-bit
    levels, so that the file holds the very pixels the students work on.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    truth : (H, W) int ndarray
        Class ids in ``[0, 65535]``, at least two classes besides ``ignore``.
    name : str
        What the image is called (a file name).
    methods, metric, target, question
        As in :func:`generated`.
    ignore : int, optional
        A truth value left out of scores (unlabelled pixels).

    Raises
    ------
    ValueError
        A truth of another size, with one class only, an image smaller than
        :data:`MIN_SIDE` on a side, or a task field out of range, in words.

    Examples
    --------
    >>> s = synthetic.blobs((600, 600))
    >>> ch = from_image(s.image, s.truth, name="cells.png", methods=["threshold"],
    ...                 metric="iou", target=0.9)
    >>> ch.image.shape, ch.truth.shape, ch.sample
    ((300, 300, 1), (300, 300), None)
    """
    image = check_image(image)
    truth = _truth(truth, ignore)
    if truth.shape != image.shape[:2]:
        raise ValueError(f"the truth is {truth.shape[1]} × {truth.shape[0]} pixels but the "
                         f"image is {image.shape[1]} × {image.shape[0]}")
    small = sio.preview(image, max_pixels=MAX_PIXELS)
    if min(small.shape[:2]) < MIN_SIDE:
        raise ValueError(f"the image is {image.shape[1]} × {image.shape[0]} pixels; challenges "
                         f"need at least {MIN_SIDE} × {MIN_SIDE}")
    truth = _truth(sio.resize_labels(truth, small.shape[:2]), ignore)
    task = _task(name=name, question=question, methods=methods, metric=metric, target=target)
    return Challenge(image=_from_u8(_to_u8(small)), truth=truth, ignore=ignore, **task)


# --------------------------------------------------------------------------- links


def to_query(ch: Challenge) -> dict[str, str]:
    """The query string of a challenge link: the generator's settings, the task and
    the check, as plain text (an own image cannot travel in a link: see :func:`to_bytes`).

    Examples
    --------
    >>> ch = generated("blobs", {"rng": 7}, methods=["threshold", "kmeans"], metric="iou",
    ...                target=0.9, question="Best split?")
    >>> q = to_query(ch)
    >>> q["sample"], q["rng"], q["methods"], q["target"]
    ('blobs', '7', 'threshold,kmeans', '0.9')
    """
    if ch.sample is None:
        raise ValueError("an own image travels as a challenge file, not in a link")
    query = {"challenge": str(VERSION), "sample": ch.sample}
    query.update((k, repr(v) if isinstance(v, float) else str(v)) for k, v in ch.settings)
    query.update(methods=",".join(ch.methods), metric=ch.metric, target=repr(ch.target),
                 question=ch.question, check=ch.check)
    return query


def from_query(query: Mapping[str, Any]) -> Challenge:
    """The challenge a link's query string describes, checked field by field and
    against its check. Parameters that are not the challenge's (a mail program's
    tracking tags) are left alone.

    Raises
    ------
    ValueError
        Saying in plain words what is missing, out of range or changed.

    Examples
    --------
    >>> q = to_query(generated("shapes", methods=["threshold"], metric="iou", target=0.9))
    >>> from_query(q).sample
    'shapes'
    >>> from_query({**q, "target": "0.5"})
    Traceback (most recent call last):
    ...
    ValueError: the link does not match its check: it was changed after it was made
    """
    if "challenge" not in query:
        raise ValueError("this address holds no challenge")
    version = query["challenge"]
    if version != str(VERSION):
        raise ValueError(f"this challenge link is in format {str(version)[:10]!r}; this SegLab "
                         f"reads format {VERSION} (ask for a link made with this version)")
    sample = query.get("sample")
    if not isinstance(sample, str):
        raise ValueError("this challenge link names no sample: it may have been cut short")
    params = generator_params(_text(sample, "link's sample", MAX_NAME))
    wanted = [*_QUERY_KEYS, *(p.name for p in params)]
    missing = [k for k in wanted if k not in query]
    if missing:
        raise ValueError(f"this challenge link lacks {', '.join(missing)}: it may have been "
                         "cut short (ask for the whole link)")
    for k in wanted:
        _text(query[k], f"link's {k!r}", MAX_VALUE)
    try:
        target = float(query["target"])
    except ValueError:
        raise ValueError(f"the link's target must be a number, got "
                         f"{_short(query['target'])}") from None
    methods = query["methods"].split(",") if query["methods"] else []
    ch = generated(sample, {p.name: query[p.name] for p in params}, methods=methods,
                   metric=query["metric"], target=target, question=query["question"])
    if ch.check != query["check"]:
        raise ValueError("the link does not match its check: it was changed after it "
                         "was made")
    return ch


# --------------------------------------------------------------------------- files


def _png(levels: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(levels).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def to_bytes(ch: Challenge) -> bytes:
    """One small challenge file (JSON, UTF-8): the task, the check, and the
    generator's settings or, for an own image, the image and its truth as PNGs.

    Examples
    --------
    >>> s = synthetic.shapes((40, 50))
    >>> ch = from_image(s.image, s.truth, name="mine.png", methods=["kmeans"],
    ...                 metric="accuracy", target=0.95)
    >>> data = to_bytes(ch)
    >>> data[:30], len(data) < 10_000
    (b'{"format": "seglab-challenge",', True)
    """
    out = {"format": FORMAT, "version": VERSION, "name": ch.name, "question": ch.question,
           "methods": list(ch.methods), "metric": ch.metric, "target": ch.target}
    if ch.sample is not None:
        out.update(sample=ch.sample, settings=dict(ch.settings))
    else:
        truth = ch.truth.astype(np.uint8 if ch.truth.max() <= 255 else np.uint16)
        image = _to_u8(ch.image)
        out.update(image=_png(image[:, :, 0] if image.shape[2] == 1 else image),
                   truth=_png(truth), ignore=ch.ignore)
    out["check"] = ch.check
    return json.dumps(out, ensure_ascii=False, indent=None).encode("utf-8")


def _read_png(text: Any, what: str, modes: tuple[str, ...]) -> np.ndarray:
    if not isinstance(text, str):
        raise ValueError(f"the file's {what} is not a picture")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the file's {what} is damaged (not base64 text)") from None
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as png:
            width, height = png.size
            if width * height > MAX_PIXELS or min(width, height) < MIN_SIDE:
                raise ValueError(f"the file's {what} is {width} × {height} pixels; a challenge "
                                 f"holds at most {MAX_PIXELS:,} pixels, at least {MIN_SIDE} "
                                 "on a side")
            if png.mode not in modes:
                raise ValueError(f"the file's {what} is a {png.mode} PNG; expected "
                                 f"{' or '.join(modes)}")
            png.load()
            return np.asarray(png)
    except ValueError:
        raise
    except Exception:  # PIL raises OSError, SyntaxError, ... for damaged data
        raise ValueError(f"the file's {what} is damaged (its PNG data does not "
                         "decode)") from None


def from_bytes(data: bytes) -> Challenge:
    """The challenge a file holds, checked field by field and against its check.

    Raises
    ------
    ValueError
        For a file that is too large, not a challenge file, of another format
        version, damaged, cut short or changed, in plain words.

    Examples
    --------
    >>> ch = generated("blobs", methods=["threshold"], metric="iou", target=0.9)
    >>> from_bytes(to_bytes(ch)).check == ch.check
    True
    >>> from_bytes(b"GIF89a...")
    Traceback (most recent call last):
    ...
    ValueError: this is not a challenge file (a challenge file is JSON text)
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"a challenge file is bytes, got {type(data).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MB; a challenge file is at most "
                         f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        fields = json.loads(bytes(data).decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep, a huge number
        if data.lstrip()[:1] == b"{":
            raise ValueError("the challenge file is damaged or cut short (it is no longer "
                             "whole, readable JSON text)") from None
        raise ValueError("this is not a challenge file (a challenge file is JSON text)") from None
    if not isinstance(fields, dict) or fields.get("format") != FORMAT:
        raise ValueError("this is not a SegLab challenge file")
    if fields.get("version") != VERSION:
        raise ValueError(f"this challenge file is in format {str(fields.get('version'))[:10]!r}; "
                         f"this SegLab reads format {VERSION}")
    own = "sample" not in fields
    keys = {"format", "version", "check", *_TASK_KEYS,
            *(("image", "truth", "ignore") if own else ("sample", "settings"))}
    missing, unknown = sorted(keys - set(fields)), sorted(set(fields) - keys)
    if missing:
        raise ValueError(f"the challenge file lacks {', '.join(missing)}")
    if unknown:
        raise ValueError(f"the challenge file holds fields it should not: {', '.join(unknown)}")
    task = {k: fields[k] for k in _TASK_KEYS}
    if own:
        image = _read_png(fields["image"], "image", ("L", "RGB"))
        truth = _read_png(fields["truth"], "truth", ("L", "I;16"))
        if truth.shape != image.shape[:2]:
            raise ValueError("the file's truth and image differ in size")
        task = _task(**task)
        ch = Challenge(image=_from_u8(image), truth=_truth(truth, fields["ignore"]),
                       ignore=fields["ignore"], **task)
    else:
        if not isinstance(fields["settings"], dict) or not isinstance(fields["sample"], str):
            raise ValueError("the challenge file's sample or settings are damaged")
        _text(fields["sample"], "sample's name", MAX_NAME)
        ch = generated(fields["sample"], fields["settings"], **{
            k: v for k, v in task.items() if k != "name"})
        if task["name"] != ch.name:
            raise ValueError("the challenge file's name does not match its sample")
    if ch.check != fields["check"]:
        raise ValueError("the file does not match its check: it was changed after it "
                         "was made")
    return ch


# --------------------------------------------------------------------------- scores


def score(ch: Challenge, labels: np.ndarray) -> float:
    """The challenge's score of a result: its metric against the truth, after
    Hungarian matching of labels to classes (as the app's Evaluate page does).

    Examples
    --------
    >>> ch = generated("two regions", methods=["threshold"], metric="iou", target=0.9)
    >>> score(ch, ch.truth + 5), score(ch, np.ones((64, 64), np.int32))
    (1.0, 0.25)
    """
    labels = np.asarray(labels)
    if labels.shape != ch.truth.shape:
        raise ValueError(f"the result is {labels.shape[1::-1]} but the challenge image is "
                         f"{ch.truth.shape[1::-1]} (width, height)")
    return measure(labels, ch.truth, metric=ch.metric, ignore=ch.ignore)[ch.metric]


@dataclass(frozen=True)
class Trial:
    """One setting tried: its score, or why it could not run (``score`` ``None``).

    Examples
    --------
    >>> Trial("kmeans", {"k": 2}, 0.5).settings
    'k 2'
    >>> Trial("threshold", {"algorithm": "otsu", "level": 0.5}, 0.9).settings
    'algorithm otsu'
    >>> Trial("kmeans", {"k": 4, "rng": 0, "max_iter": 10}, 0.9).settings
    'k 4, max_iter 10'
    """

    method: str
    params: dict
    score: float | None
    error: str = ""

    @property
    def settings(self) -> str:
        """The parameters that matter, in words: ``name value`` each (randomness and
        iteration caps only where they are not the defaults)."""
        spec = get_method(self.method)
        defaults = spec.defaults()
        return ", ".join(
            f"{k} {format_value(v)}" for k, v in self.params.items()
            if k not in defaults or (spec.is_active(k, self.params)
                                     and not (k in SWEEP_FIXED and v == defaults[k])))


def attempt(ch: Challenge, method: str, params: Mapping[str, Any] | None = None) -> Trial:
    """Run one allowed method with ``params`` on the challenge image and score it;
    a setting that cannot run comes back with its reason instead of a score.

    Examples
    --------
    >>> ch = generated("two regions", methods=["kmeans"], metric="iou", target=0.9)
    >>> attempt(ch, "kmeans", {"k": 2}).score
    1.0
    >>> attempt(ch, "kmeans", {"k": 3}).error
    'the image has fewer than 3 distinct colours; lower k'
    """
    if method not in ch.methods:
        raise ValueError(f"this challenge allows {', '.join(ch.methods)}, not {_short(method)}")
    found = run(ch.image, method, get_method(method).resolve(dict(params or {})),
                truth=ch.truth, ignore=ch.ignore, metric=ch.metric, keep_labels=False)
    return Trial(method, found.params, found.score, found.error)


@dataclass(frozen=True)
class Sweep:
    """What :func:`sweep` tried, how long it took, and whether it tried everything.

    Examples
    --------
    >>> Sweep((Trial("kmeans", {}, 0.5), Trial("kmeans", {}, 0.75)), 0.1, True).best.score
    0.75
    """

    trials: tuple[Trial, ...]
    elapsed_s: float
    complete: bool

    @property
    def best(self) -> Trial | None:
        """The trial with the highest score (the first of equals); ``None`` if none ran."""
        scored = [t for t in self.trials if t.score is not None]
        return max(scored, key=lambda t: t.score) if scored else None


def sweep(ch: Challenge, *, budget_s: float | None = 10.0, points: int = 9,
          max_trials: int = 400) -> Sweep:
    """Try the :func:`candidates` of every allowed method on the challenge image,
    taking the methods in turns (one setting each, round and round) so that a slow
    method does not eat the others' share, until all are tried, ``max_trials``
    have run or ``budget_s`` seconds have passed (``None``: no time limit). Every
    method's defaults are always tried, and a run that has started is finished.

    Examples
    --------
    >>> ch = generated("two regions", methods=["threshold"], metric="iou", target=0.9)
    >>> found = sweep(ch, budget_s=None)
    >>> found.complete, found.best.score
    (True, 1.0)
    """
    queues = [[(m, s) for s in candidates(m, points=points)] for m in ch.methods]
    order = [q[turn] for turn in range(max(map(len, queues))) for q in queues if turn < len(q)]
    start, trials = time.perf_counter(), []
    for i, (method, setting) in enumerate(order[:max_trials]):
        # The first round (every method's defaults) always runs: there is a best.
        if i >= len(queues) and budget_s is not None and time.perf_counter() - start > budget_s:
            break
        trials.append(attempt(ch, method, setting))
    return Sweep(tuple(trials), time.perf_counter() - start, len(trials) == len(order))
