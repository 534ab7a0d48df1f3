"""The Datasets page's glue: open a dataset folder or an uploaded zip, score methods
over it (kept per session, not recomputed on every rerun), and open one of its images
on the Segment page with the settings that made a result."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from segcore import benchmark, datasets
from segcore import io as sio
from segcore.registry import get_method, segment

from seglab import cache
from seglab.state import CurrentImage, keep, set_current

#: Where the app looks for dataset folders to suggest: $SEGLAB_DATA, then ../shared/data.
SUGGESTED = [Path(os.environ["SEGLAB_DATA"])] if os.environ.get("SEGLAB_DATA") else []
SUGGESTED.append(Path(__file__).resolve().parents[2] / "shared" / "data")
#: Published figures are shown beside a BSDS dataset's scores.
MEASURE_LABELS = {"covering": "Covering ↑", "pri": "PRI ↑", "vi": "VI ↓", "iou": "IoU ↑",
                  "dice": "Dice ↑"}


def suggestions() -> list[str]:
    """Dataset folders found where SegLab looks for them (their layout recognised)."""
    found = []
    for base in SUGGESTED:
        if base.is_dir():
            for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                try:
                    datasets.open_dataset(folder)
                except ValueError:
                    continue
                found.append(str(folder))
    return found


@st.cache_resource(max_entries=8, show_spinner="Reading the dataset's folder…")
def open_folder(path: str, split: str | None) -> datasets.Dataset:
    """The dataset at ``path`` (lazy: files are read when an item is asked for)."""
    return datasets.open_dataset(path, split=split)


def folder_of_zip(data: bytes) -> str:
    """Unpack an uploaded zip into the server's private folder, under its content's
    hash (never a name from the zip or the browser); returns the dataset's root."""
    target = Path(cache.upload_folder()) / ("dataset-" + sio.content_key(data))
    if target.is_dir():
        return str(next((p for p in [target, *target.iterdir()]
                         if p.is_dir() and _recognised(p)), target))
    return str(datasets.extract_zip(data, target))


def _recognised(folder: Path) -> bool:
    try:
        datasets.open_dataset(folder)
    except ValueError:
        return False
    return True


def run(dataset: datasets.Dataset, plans: dict[str, list[dict]]) -> dict:
    """Score every method's settings on every image, with a progress bar; returns
    ``{method: SweepScores}`` (a method that cannot run on this data is left out, its
    reason shown)."""
    out = {}
    bar = st.progress(0.0, text="Scoring…")
    for m, (method, settings) in enumerate(plans.items()):
        label = get_method(method).label

        def tick(fraction, m=m, label=label):
            done = (m + fraction) / len(plans)
            bar.progress(done, text=f"{label}: {fraction:.0%} of the images")

        try:
            out[method] = benchmark.sweep_scores(dataset, method, settings, progress=tick)
        except ValueError as err:
            st.error(f"{label} could not be scored: {err}")
    bar.empty()
    return out


def summary_rows(results: dict, measures: list[str], *, bsds: bool) -> list[dict]:
    """One row per method (its best single setting, ODS, and each image's best, OIS),
    with the published BSDS500 figures below when the data is BSDS."""
    rows = []
    for method, found in results.items():
        ods = found.ods_ois()
        index = ods["covering"]["ods_setting"]
        row = {"method": get_method(method).label,
               "setting (ODS)": ", ".join(f"{k} {v}" for k, v in found.settings[index].items()
                                          if len(found.settings) > 1) or "as set"}
        for m in ("covering", "pri", "vi"):
            row[f"{MEASURE_LABELS[m]} ODS"] = ods[m]["ods"]
            row[f"{MEASURE_LABELS[m]} OIS"] = ods[m]["ois"]
        for m in measures:
            if m in benchmark.MASK_MEASURES:
                row[MEASURE_LABELS[m]] = found.at(index).get(m)
        row["s per image"] = found.at(index)["seconds"]
        rows.append(row)
    if bsds:
        for name, p in list(benchmark.PUBLISHED.items())[:3]:
            rows.append({"method": f"{name} (published, BSDS500 test)", "setting (ODS)": "",
                         f"{MEASURE_LABELS['covering']} ODS": p[0],
                         f"{MEASURE_LABELS['covering']} OIS": p[1],
                         f"{MEASURE_LABELS['pri']} ODS": p[3], f"{MEASURE_LABELS['pri']} OIS": p[4],
                         f"{MEASURE_LABELS['vi']} ODS": p[5], f"{MEASURE_LABELS['vi']} OIS": p[6]})
    return rows


def per_image(found: benchmark.SweepScores, measure: str) -> np.ndarray:
    """Each image's score at the method's ODS setting (for covering)."""
    index = found.ods_ois()["covering"]["ods_setting"]
    return np.asarray(getattr(found, measure)[index], np.float64)


@st.cache_data(max_entries=32, show_spinner=False)
def item_result(path: str, split: str | None, name: str, method: str, params: tuple):
    """``(labels, None)`` of ``method`` on one image of the dataset, or ``(None, reason)``."""
    try:
        seg = segment(open_folder(path, split)[name].image, method, **dict(params))
    except ValueError as err:
        return None, str(err)
    return seg.labels, None


def open_on_segment(path: str, split: str | None, name: str, method: str, params: dict) -> None:
    """Button callback: make the dataset's image (with its truth) the current image and
    the Segment page open with ``method`` and ``params``."""
    item = open_folder(path, split)[name]
    key = "dataset:" + sio.content_key(f"{path}|{split}|{name}".encode())
    image = CurrentImage(name=f"{name} ({Path(path).name})", origin="dataset", key=key,
                         image=item.image,
                         preview=sio.preview(item.image, max_pixels=cache.PREVIEW_PIXELS))
    set_current(image.with_truth(item.truth, ignore=item.ignore,
                                 note=f"the dataset's own ({len(item.truths)} "
                                      f"annotation{'s' if len(item.truths) > 1 else ''}; "
                                      "the first is used)" if len(item.truths) > 1 else
                                      "the dataset's own mask"))
    keep("segment.method", method)
    for k, v in params.items():
        keep(f"segment.{method}.{k}", v)
    st.session_state["datasets.open_segment"] = True
