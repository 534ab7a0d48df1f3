"""Datasets of images with ground truth: one reader for the folder layouts SegLab knows.

:func:`open_dataset` looks at a folder, recognises its layout and returns a
:class:`Dataset`: a list of names whose :class:`Item` (image and truths) is read
from disk only when asked for. Three layouts:

``"bsds"``
    The Berkeley Segmentation Data Set (BSDS500): ``images/<split>/<id>.jpg``
    with ``groundTruth/<split>/<id>.mat``, each ``.mat`` holding several human
    segmentations (4 to 9 in BSDS500). The splits are the subfolders present
    in both (``train``, ``val``, ``test``).
``"membrane"``
    The ISBI 2012 EM membrane stack: ``train/image/<k>.png`` with
    ``train/label/<k>.png`` (slice ``k``, as zhixuhao/unet ships it), or the
    challenge's own multi-page ``train-volume.tif`` with ``train-labels.tif``.
    A 30-slice stack has the project's splits ``"train"`` (slices 0-24) and
    ``"report"`` (25-29, never tuned on). The unlabelled test slices are not items.
``"pairs"``
    An image folder and a mask folder whose files match by name: ``images/`` with
    ``masks/``, ``image/`` with ``label/``, ``rgb/`` with ``figure_ground/`` (the
    Weizmann horses), ... (:data:`IMAGE_FOLDERS` and :data:`MASK_FOLDERS`), or any
    two folders named with ``images=`` and ``masks=``. A mask matches the image
    of the same stem, or the stem followed by one of :data:`MASK_SUFFIXES`
    (``cat.jpg`` and ``cat_mask.png``).

Values follow segcore's conventions. ``Item.image`` is what
:func:`segcore.io.load_image` gives: ``float32 (H, W, C)`` in ``[0, 1]``.
``Item.truths`` is a list of ``int32 (H, W)`` label images: for BSDS the
annotators' segmentations as stored (regions ``1..n``); for masks (pairs and
membrane) :func:`segcore.io.load_mask`'s reading, so a two-value mask gives
``1`` for the lower value (background; for the membrane: membrane, black) and
``2`` for the higher (the object; the cell interior), a label mask keeps its
values and ``zero="ignore"`` makes ``0`` unlabelled (``Item.ignore``). Masks
stored as lossy JPEG (the horses') hold dozens of values near black and white;
they are cut at half range first (above 127 of 255 is the object), as their
README says. A mask with one value everywhere is one region (``1``). An image
larger or smaller than its mask (the horses' ``rgb/``) is resized to the mask's
size by area averaging (Pillow's box filter, in 8 bits for 8-bit files), since
the masks were drawn at that size.

Whatever is wrong with a folder raises :class:`ValueError` saying what was
expected; a file that cannot be read raises :class:`segcore.io.ImageError`
naming it, when its item is read.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import numpy as np
from PIL import Image

from segcore.io import SUPPORTED_EXTENSIONS, ImageError, load_image, load_mask

__all__ = [
    "LAYOUTS",
    "IMAGE_FOLDERS",
    "MASK_FOLDERS",
    "MASK_SUFFIXES",
    "MEMBRANE_SPLITS",
    "Item",
    "Dataset",
    "open_dataset",
    "extract_zip",
    "MAX_ZIP_FILES",
    "MAX_ZIP_BYTES",
]

#: The layouts :func:`open_dataset` recognises, in the order it tries them.
LAYOUTS = ("bsds", "membrane", "pairs")
#: Folder names taken for the images of a ``"pairs"`` layout, first found first.
IMAGE_FOLDERS = ("images", "image", "imgs", "img", "rgb", "inputs", "input", "photos")
#: Folder names taken for the masks of a ``"pairs"`` layout, first found first.
MASK_FOLDERS = ("masks", "mask", "labels", "label", "annotations", "ground_truth", "gt",
                "truth", "truths", "figure_ground", "segmentations")
#: Ends of a mask's file name that may follow its image's stem (``cat_mask.png``).
MASK_SUFFIXES = ("_mask", "-mask", "_masks", "_label", "-label", "_labels", "_gt", "_seg",
                 "_segmentation", "_annotation")
#: The project's slice splits of the 30-slice ISBI 2012 training stack
#: (``../shared/data/README.md``): tune on ``train``, report on ``report``.
MEMBRANE_SPLITS = {"train": tuple(range(0, 25)), "report": tuple(range(25, 30))}

_BSDS_SPLIT_ORDER = ("train", "val", "test")
_IMAGE_SUFFIXES = tuple(f".{ext}" for ext in SUPPORTED_EXTENSIONS)
_LOSSY = (".jpg", ".jpeg")
# Masks drawn at one size and images stored at another keep their aspect ratio
# (the horses' within 0.6 %); a larger difference is a mismatched pair.
_ASPECT_TOLERANCE = 0.02


@dataclasses.dataclass(frozen=True)
class Item:
    """One image of a dataset with its ground truth.

    Attributes
    ----------
    name : str
        The image's name in the dataset (its file stem, or the slice number).
    image : (H, W, C) float32 ndarray
        In ``[0, 1]``, ``C`` 1 or 3, as :func:`segcore.io.load_image` reads it.
    truths : list of (H, W) int32 ndarray
        One truth for masks, several for BSDS (one per annotator).
    ignore : int or None
        The truth value that marks unlabelled pixels, if any (``zero="ignore"``).
    split : str or None
        The split the item belongs to, where the layout has splits.

    Examples
    --------
    >>> item = Item("a", np.zeros((2, 3, 1), np.float32), [np.ones((2, 3), np.int32)])
    >>> item.truth.shape, item.shape
    ((2, 3), (2, 3))
    """

    name: str
    image: np.ndarray
    truths: list
    ignore: int | None = None
    split: str | None = None

    @property
    def truth(self) -> np.ndarray:
        """The first (for masks, the only) truth."""
        return self.truths[0]

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image and its truths."""
        return self.image.shape[:2]


class _Source(NamedTuple):
    """Where one item's files are: paths, or (stack path, page) for a TIFF stack."""

    name: str
    split: str | None
    image: Path | tuple[Path, int]
    truth: Path | tuple[Path, int]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A folder of images with ground truth; items are read when asked for.

    Made by :func:`open_dataset`. ``len(dataset)`` counts the items, iterating
    yields :class:`Item` objects in name order, ``dataset[i]`` or
    ``dataset["name"]`` reads one. Each access reads the files again: keep the
    items (``list(dataset)``) to reuse them.

    Attributes
    ----------
    layout : str
        One of :data:`LAYOUTS`.
    root : pathlib.Path
        The folder opened.
    split : str or None
        The split selected, or ``None`` for every item.
    splits : tuple of str
        The splits the layout defines for this folder (empty when it has none).
    names : tuple of str
        Every item's name, in order.
    unmatched : tuple of str
        Files left out for want of a partner (an image without a mask or
        ``.mat``, a mask without an image), as paths relative to ``root``.
    zero : {"class", "ignore"}
        How a label mask's ``0`` is read (see :func:`segcore.io.load_mask`).

    Examples
    --------
    >>> import tempfile
    >>> from segcore.io import save_png
    >>> tmp = tempfile.TemporaryDirectory(); root = Path(tmp.name)
    >>> for sub in ("images", "masks"):
    ...     (root / sub).mkdir()
    >>> mask = np.zeros((4, 6), np.uint8); mask[:, 3:] = 255
    >>> for name in ("b", "a"):
    ...     save_png(root / "images" / f"{name}.png", mask // 2)
    ...     save_png(root / "masks" / f"{name}.png", mask)
    >>> data = open_dataset(root)
    >>> data.layout, len(data), data.names
    ('pairs', 2, ('a', 'b'))
    >>> item = data["a"]
    >>> item.image.shape, item.image.dtype, item.truth.tolist()[0]
    ((4, 6, 1), dtype('float32'), [1, 1, 1, 2, 2, 2])
    >>> [item.name for item in data.select(["b"])]
    ['b']
    >>> tmp.cleanup()
    """

    layout: str
    root: Path
    split: str | None
    splits: tuple[str, ...]
    unmatched: tuple[str, ...]
    zero: str
    _every: tuple[_Source, ...]  # every item of the folder, whatever is selected
    _sources: tuple[_Source, ...]  # the items selected

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def __iter__(self) -> Iterator[Item]:
        for source in self._sources:
            yield self._read(source)

    def __getitem__(self, key: int | str) -> Item:
        if isinstance(key, str):
            for source in self._sources:
                if source.name == key:
                    return self._read(source)
            raise KeyError(f"no item named {key!r} in {self}")
        return self._read(self._sources[key])

    def __repr__(self) -> str:
        where = f", split {self.split!r}" if self.split else ""
        return f"<{self.layout} dataset {str(self.root)!r}: {len(self)} items{where}>"

    def with_split(self, split: str | None) -> Dataset:
        """The items of one split (``None``: every split).

        Raises
        ------
        ValueError
            If the layout has no such split.
        """
        if split is None:
            return dataclasses.replace(self, split=None, _sources=self._every)
        if split not in self.splits:
            have = (f"its splits are {', '.join(self.splits)}" if self.splits
                    else "it has no splits")
            raise ValueError(f"split {split!r} is not in the {self.layout} dataset at "
                             f"{str(self.root)!r}: {have}")
        return dataclasses.replace(self, split=split, _sources=tuple(
            s for s in self._every if s.split == split))

    def select(self, names: Sequence[str | int]) -> Dataset:
        """The items with these names, in the order given (numbers are taken as
        names, for membrane slices: ``select(range(23))``).

        Raises
        ------
        ValueError
            If a name is not in the dataset.
        """
        by_name = {s.name: s for s in self._sources}
        wanted = [str(n) for n in names]
        missing = [n for n in wanted if n not in by_name]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise ValueError(f"no item named {shown} in {self}")
        return dataclasses.replace(self, _sources=tuple(by_name[n] for n in wanted))

    def _read(self, source: _Source) -> Item:
        if self.layout == "bsds":
            image = load_image(source.image)
            truths = _read_bsds_truths(source.truth, image.shape[:2])
            return Item(source.name, image, truths, None, source.split)
        image = load_image(_page_bytes(source.image) if isinstance(source.image, tuple)
                           else source.image)
        truth, ignore = _read_mask(source.truth, self.zero)
        if truth.shape != image.shape[:2]:
            image = _fit_image(image, truth.shape, source)
        return Item(source.name, image, [truth], ignore, source.split)


def open_dataset(path, *, split: str | None = None, layout: str | None = None,
                 images: str | None = None, masks: str | None = None,
                 zero: str = "class") -> Dataset:
    """Open a dataset folder, recognising its layout (see the module documentation).

    Parameters
    ----------
    path : str or os.PathLike
        The dataset's folder.
    split : str, optional
        Keep only this split's items (BSDS ``"train"``/``"val"``, membrane
        ``"train"``/``"report"``); every item by default.
    layout : {"bsds", "membrane", "pairs"}, optional
        Read the folder as this layout instead of recognising it.
    images, masks : str, optional
        For ``"pairs"``: the image and mask folders inside `path`, when their
        names are not in :data:`IMAGE_FOLDERS` and :data:`MASK_FOLDERS`.
    zero : {"class", "ignore"}
        Whether a label mask's ``0`` is a class or unlabelled pixels.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If the folder is missing or not one of the layouts (the message says
        what was expected and what was found), has no item, or `split`,
        `layout` or `zero` is not one it has.

    Examples
    --------
    >>> import tempfile
    >>> from segcore.io import save_png
    >>> tmp = tempfile.TemporaryDirectory(); root = Path(tmp.name)
    >>> for sub in ("train/image", "train/label"):
    ...     (root / sub).mkdir(parents=True)
    >>> label = np.full((8, 8), 255, np.uint8); label[4] = 0
    >>> for k in range(30):
    ...     save_png(root / f"train/image/{k}.png", label // 2 + k)
    ...     save_png(root / f"train/label/{k}.png", label)
    >>> data = open_dataset(root, split="report")
    >>> data.layout, data.splits, data.names
    ('membrane', ('train', 'report'), ('25', '26', '27', '28', '29'))
    >>> item = data[0]
    >>> item.image.shape, np.unique(item.truth).tolist(), len(item.truths)
    ((8, 8, 1), [1, 2], 1)
    >>> open_dataset(root / "train/image")
    Traceback (most recent call last):
    ...
    ValueError: ... is not a dataset folder we know: expected images/ and groundTruth/ (BSDS), ...
    >>> tmp.cleanup()
    """
    root = Path(path)
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if zero not in ("class", "ignore"):
        raise ValueError(f"zero must be 'class' or 'ignore', got {zero!r}")
    if (images is None) != (masks is None):
        raise ValueError("give both images= and masks= (the two folders of the pairs), "
                         f"got images={images!r}, masks={masks!r}")
    if not root.is_dir():
        what = "a file, not a folder" if root.exists() else "not found"
        raise ValueError(f"dataset folder {str(root)!r}: {what}")
    if images is not None:
        if layout not in (None, "pairs"):
            raise ValueError(f"images= and masks= name the folders of the 'pairs' layout, "
                             f"not of {layout!r}")
        layout = "pairs"
    found = layout or _recognise(root)
    if found is None:
        subs = sorted(p.name + "/" for p in root.iterdir()
                      if p.is_dir() and not p.name.startswith("."))
        files = sum(1 for p in root.iterdir() if p.is_file())
        raise ValueError(
            f"{str(root)!r} is not a dataset folder we know: expected images/ and "
            f"groundTruth/ (BSDS), train/image/ and train/label/ or train-volume.tif and "
            f"train-labels.tif (ISBI membrane), or an image folder and a mask folder whose "
            f"files match by name (e.g. images/ and masks/; name others with images= and "
            f"masks=); found {', '.join(subs) if subs else 'no folder'} and {files} file(s)")
    reader = {"bsds": _bsds_sources, "membrane": _membrane_sources,
              "pairs": lambda r: _pair_sources(r, images, masks)}[found]
    sources, splits, unmatched = reader(root)
    if not sources:
        raise ValueError(f"{str(root)!r} read as the {found} layout has no image with its "
                         f"ground truth" + (f"; unmatched: {', '.join(unmatched[:5])}"
                                            if unmatched else ""))
    dataset = Dataset(found, root, None, tuple(splits), tuple(unmatched), zero,
                      tuple(sources), tuple(sources))
    return dataset if split is None else dataset.with_split(split)


# ---------------------------------------------------------------- recognising and listing


#: What :func:`extract_zip` unpacks at most: files, and bytes once uncompressed (a
#: zip bomb declares little and inflates to a lot; the count is checked as it inflates).
MAX_ZIP_FILES = 5000
MAX_ZIP_BYTES = 1 << 30


def extract_zip(data: bytes, folder) -> Path:
    """Unpack a zip of a dataset (images and masks, or BSDS's ``.mat`` truths) into
    ``folder`` safely, and return the dataset's root: ``folder``, or the one folder
    everything in the zip sits in.

    Only image files and ``.mat`` files are written, each under its path in the zip
    with every part reduced to letters, digits, ``.``, ``-``, ``_`` and spaces; parts
    that lead upwards or are hidden (``..``, ``.git``, ``__MACOSX``) are skipped, so
    nothing is written outside ``folder``. At most :data:`MAX_ZIP_FILES` files and
    :data:`MAX_ZIP_BYTES` bytes are unpacked.

    Raises
    ------
    ValueError
        Not a zip archive, more files or bytes than the limits, nothing usable in it.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("horses/images/a.png", b"png bytes"); z.writestr("../evil.png", b"x")
    ...     z.writestr("__MACOSX/._a.png", b"x"); z.writestr("horses/notes.txt", b"x")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = extract_zip(buf.getvalue(), tmp)
    ...     sorted(str(p.relative_to(tmp)) for p in Path(tmp).rglob("*") if p.is_file())
    ['horses/images/a.png']
    """
    import zipfile

    folder = Path(folder)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ValueError("this is not a zip archive: pack the dataset's folders (images and "
                         "masks) into one .zip file") from None
    keep = set(_IMAGE_SUFFIXES) | {".mat"}
    written, total = [], 0
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise ValueError(f"the zip holds {len(members):,} files; at most "
                             f"{MAX_ZIP_FILES:,} are unpacked")
        for member in members:
            parts = [p for p in re.split(r"[\\/]", member.filename) if p]
            if (not parts or any(p in ("..", ".") or p.startswith(".") or p == "__MACOSX"
                                 for p in parts)
                    or Path(parts[-1]).suffix.lower() not in keep):
                continue
            safe = [re.sub(r"[^\w.\- ]", "_", p)[:120] for p in parts]
            target = folder.joinpath(*safe)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_ZIP_BYTES:
                        raise ValueError(f"the zip unpacks to more than {MAX_ZIP_BYTES >> 20:,} MB; "
                                         "send a smaller part of the dataset")
                    dst.write(chunk)
            written.append(safe)
    if not written:
        raise ValueError("the zip holds no image: it should hold an image folder and a mask "
                         "folder (or BSDS's images/ and groundTruth/)")
    tops = {w[0] for w in written}
    if len(tops) == 1 and all(len(w) > 1 for w in written):
        top = folder / next(iter(tops))
        if _recognise(top) is not None or _recognise(folder) is None:
            return top
    return folder


def _recognise(root: Path) -> str | None:
    if (root / "images").is_dir() and (root / "groundTruth").is_dir():
        return "bsds"
    if ((root / "train/image").is_dir() and (root / "train/label").is_dir()) or (
            (root / "train-volume.tif").is_file() and (root / "train-labels.tif").is_file()):
        return "membrane"
    if _pair_folders(root) is not None:
        return "pairs"
    return None


def _natural(name: str) -> tuple:
    """Sort key that puts 'horse2' before 'horse10' and slice '9' before '10'."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", name) if part)


def _image_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".")
            and p.suffix.lower() in _IMAGE_SUFFIXES]


def _bsds_sources(root: Path):
    splits, sources, unmatched = [], [], []
    present = [p.name for p in (root / "images").iterdir()
               if p.is_dir() and (root / "groundTruth" / p.name).is_dir()]
    order = sorted(present, key=lambda s: (_BSDS_SPLIT_ORDER.index(s)
                                           if s in _BSDS_SPLIT_ORDER else 99, s))
    for split in order:
        truths = {p.stem: p for p in (root / "groundTruth" / split).glob("*.mat")}
        names = []
        for path in sorted(_image_files(root / "images" / split), key=lambda p: _natural(p.stem)):
            if path.stem in truths:
                sources.append(_Source(path.stem, split, path, truths.pop(path.stem)))
                names.append(path.stem)
            else:
                unmatched.append(str(path.relative_to(root)))
        unmatched += [str(p.relative_to(root)) for p in truths.values()]
        if names:
            splits.append(split)
    return sources, splits, sorted(unmatched)


def _membrane_sources(root: Path):
    images, labels = root / "train/image", root / "train/label"
    if images.is_dir() and labels.is_dir():
        sources, unmatched = _matched(root, images, labels, suffixes=False)
    else:
        volume, truth = root / "train-volume.tif", root / "train-labels.tif"
        pages = [_page_count(volume), _page_count(truth)]
        if pages[0] != pages[1]:
            raise ValueError(f"{str(volume)!r} has {pages[0]} slices but {str(truth)!r} has "
                             f"{pages[1]}; expected one label slice per image slice")
        sources = [_Source(str(k), None, (volume, k), (truth, k)) for k in range(pages[0])]
        unmatched = []
    names = [s.name for s in sources]
    if names != [str(k) for k in range(30)]:
        return sources, [], unmatched
    where = {str(k): split for split, ks in MEMBRANE_SPLITS.items() for k in ks}
    return [s._replace(split=where[s.name]) for s in sources], list(MEMBRANE_SPLITS), unmatched


def _pair_folders(root: Path, images: str | None = None,
                  masks: str | None = None) -> tuple[Path, Path] | None:
    if images is not None:
        return root / images, root / masks
    subs = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    image_dir = next((subs[n] for n in IMAGE_FOLDERS if n in subs), None)
    mask_dir = next((subs[n] for n in MASK_FOLDERS if n in subs), None)
    if image_dir is None or mask_dir is None:
        return None
    return image_dir, mask_dir


def _pair_sources(root: Path, images: str | None, masks: str | None):
    folders = _pair_folders(root, images, masks)
    if folders is None:
        raise ValueError(
            f"{str(root)!r} has no image folder and mask folder: expected one of "
            f"{', '.join(IMAGE_FOLDERS)} and one of {', '.join(MASK_FOLDERS)} "
            f"(or name them with images= and masks=)")
    for folder in folders:
        if not folder.is_dir():
            raise ValueError(f"{str(folder)!r}: no such folder in the dataset")
    sources, unmatched = _matched(root, *folders, suffixes=True)
    return sources, [], unmatched


def _matched(root: Path, image_dir: Path, mask_dir: Path, *, suffixes: bool):
    """Images and masks paired by stem (or stem + a mask suffix); the rest unmatched."""
    masks = {}
    for path in _image_files(mask_dir):
        masks.setdefault(path.stem, path)
    sources, unmatched = [], []
    for path in sorted(_image_files(image_dir), key=lambda p: _natural(p.stem)):
        keys = [path.stem] + ([path.stem + s for s in MASK_SUFFIXES] if suffixes else [])
        key = next((k for k in keys if k in masks), None)
        if key is None:
            unmatched.append(str(path.relative_to(root)))
        else:
            sources.append(_Source(path.stem, None, path, masks.pop(key)))
    unmatched += [str(p.relative_to(root)) for p in masks.values()]
    return sources, sorted(unmatched)


# ---------------------------------------------------------------- reading


def _page_count(path: Path) -> int:
    try:
        with Image.open(path) as img:
            return getattr(img, "n_frames", 1)
    except Exception as err:  # any decoder failure is a bad file to the user
        raise ImageError(f"cannot read the stack {str(path)!r}: {err}") from None


def _page_bytes(page: tuple[Path, int]) -> bytes:
    """One page of a multi-page TIFF as a one-page TIFF, for load_image to convert."""
    path, k = page
    try:
        with Image.open(path) as img:
            img.seek(k)
            buf = io.BytesIO()
            img.save(buf, "TIFF")
    except Exception as err:  # any decoder failure is a bad file to the user
        raise ImageError(f"cannot read slice {k} of {str(path)!r}: {err}") from None
    return buf.getvalue()


def _where(source: Path | tuple[Path, int]) -> str:
    return (f"slice {source[1]} of {str(source[0])!r}" if isinstance(source, tuple)
            else repr(str(source)))


def _read_mask(source: Path | tuple[Path, int], zero: str) -> tuple[np.ndarray, int | None]:
    data = _page_bytes(source) if isinstance(source, tuple) else source
    if not isinstance(source, tuple) and source.suffix.lower() in _LOSSY:
        values = load_image(data)
        # Lossy masks hold values near black and white, not two values.
        return np.where(values.mean(axis=2) > 0.5, 2, 1).astype(np.int32), None
    try:
        truth, ignore, _ = load_mask(data, zero=zero)
    except ImageError as err:
        values = load_image(data)
        if values.min() == values.max():  # nothing but background, or nothing but object
            return np.ones(values.shape[:2], np.int32), None
        raise ImageError(f"mask {_where(source)}: {err}") from None
    return truth, ignore


def _read_bsds_truths(path: Path, shape: tuple[int, int]) -> list[np.ndarray]:
    import scipy.io  # only BSDS needs it

    try:
        gt = scipy.io.loadmat(path)["groundTruth"]
        truths = [np.ascontiguousarray(gt[0, k]["Segmentation"][0, 0], dtype=np.int32)
                  for k in range(gt.shape[1])]
    except Exception as err:  # a .mat that is not a BSDS ground truth, however it fails
        raise ImageError(f"cannot read the ground truth {str(path)!r}: expected a BSDS .mat "
                         f"with groundTruth{{k}}.Segmentation ({type(err).__name__}: {err})"
                         ) from None
    if not truths:
        raise ImageError(f"the ground truth {str(path)!r} holds no segmentation")
    bad = sorted({t.shape for t in truths if t.shape != tuple(shape)})
    if bad:
        raise ImageError(f"the ground truth {str(path)!r} is {bad[0][1]} × {bad[0][0]} pixels "
                         f"but its image is {shape[1]} × {shape[0]}")
    return truths


def _fit_image(image: np.ndarray, shape: tuple[int, int], source: _Source) -> np.ndarray:
    """``image`` resized to its mask's ``shape`` by area averaging; a pair whose
    aspect ratios differ is refused."""
    h, w = image.shape[:2]
    if abs((w / h) / (shape[1] / shape[0]) - 1) > _ASPECT_TOLERANCE:
        raise ImageError(f"image {_where(source.image)} is {w} × {h} pixels but its mask "
                         f"{_where(source.truth)} is {shape[1]} × {shape[0]}: not the same "
                         f"shape, so the mask cannot be laid over it")
    size = (shape[1], shape[0])
    eight = np.rint(image * 255).astype(np.uint8)
    if np.array_equal(eight.astype(np.float32) / 255, image):
        # 8-bit files are resized in 8 bits, as Pillow resizes the file itself.
        small = Image.fromarray(eight[:, :, 0] if image.shape[2] == 1 else eight).resize(
            size, Image.Resampling.BOX)
        out = np.asarray(small, np.float32) / 255
        return out.reshape(shape[0], shape[1], image.shape[2])
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c])).resize(size, Image.Resampling.BOX))
                for c in range(image.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0, 1).astype(np.float32)
