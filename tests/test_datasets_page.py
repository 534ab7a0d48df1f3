"""The Datasets page, driven headless: a folder or a zip, methods with a sweep, scores,
the BSDS table, best and worst images opened on the Segment page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from segcore import synthetic
from segcore.io import save_png

from test_app import no_trouble, start, texts


def pairs_folder(root: Path, n: int = 4) -> Path:
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for k in range(n):
        s = synthetic.make("blobs")
        image = (s.image[:, :, 0] * 255).astype(np.uint8)
        image = np.roll(image, 7 * k, axis=1)
        mask = np.roll(np.where(s.truth == 2, 255, 0).astype(np.uint8), 7 * k, axis=1)
        save_png(root / "images" / f"cell{k}.png", image)
        save_png(root / "masks" / f"cell{k}.png", mask)
    return root


def test_score_a_folder_with_a_sweep_and_open_the_worst_image(tmp_path):
    folder = pairs_folder(tmp_path / "cells")
    at = start(("generated", "blobs"), "pages/lab/datasets.py")
    at.text_input(key="datasets.path").set_value(str(folder)).run()
    no_trouble(at)
    assert "pairs layout · 4 images" in texts(at.caption)
    at.multiselect(key="datasets.methods").set_value(["threshold", "kmeans"]).run()
    at.selectbox(key="datasets.kmeans.sweep").set_value("k").run()
    no_trouble(at)
    at.button(key="datasets.run").click().run()
    no_trouble(at)
    table = at.dataframe[0].value
    assert list(table["method"]) == ["Threshold", "K-means clustering"]
    assert table["IoU ↑"].between(0, 1).all() and table["Covering ↑ ODS"].between(0, 1).all()
    kmeans = table.iloc[1]
    assert kmeans["setting (ODS)"].startswith("k ") and kmeans["Covering ↑ OIS"] >= \
        kmeans["Covering ↑ ODS"] - 1e-12
    assert at.get("plotly_chart"), "the box plot of per-image scores"
    at.button(key="datasets.open.kmeans.worst").click().run()
    no_trouble(at)
    cur = at.session_state["current"]
    assert cur.origin == "dataset" and cur.truth is not None and "(cells)" in cur.name
    assert at.session_state["segment.method"] == "kmeans"


def test_a_zip_and_a_folder_that_is_no_dataset_are_explained(tmp_path):
    at = start(("generated", "blobs"), "pages/lab/datasets.py")
    at.text_input(key="datasets.path").set_value(str(tmp_path)).run()
    no_trouble(at)
    assert "cannot be read as a dataset" in texts(at.error)
    folder = pairs_folder(tmp_path / "zipped" / "cells", n=2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path in folder.rglob("*.png"):
            archive.write(path, path.relative_to(folder.parent))
    at.radio(key="datasets.source").set_value("A zip of images and masks").run()
    at.file_uploader(key="datasets.zip").set_value(("cells.zip", buf.getvalue(),
                                                     "application/zip")).run()
    no_trouble(at)
    assert "pairs layout · 2 images" in texts(at.caption)
    at.file_uploader(key="datasets.zip").set_value(("photo.zip", b"not a zip",
                                                     "application/zip")).run()
    no_trouble(at)
    assert "not a zip archive" in texts(at.error)
    loose = io.BytesIO()
    with zipfile.ZipFile(loose, "w") as archive:
        for path in folder.rglob("*.png"):
            archive.write(path, path.name + ("" if "images" in path.parts else "_mask.png"))
    at.file_uploader(key="datasets.zip").set_value(("loose.zip", loose.getvalue(),
                                                     "application/zip")).run()
    no_trouble(at)
    message = texts(at.error)
    assert "The zip cannot be read as a dataset: its content is not a dataset folder" in message
    assert "seglab-uploads" not in message, "the server's private folder is not shown"


@pytest.mark.data
def test_bsds_val_is_scored_beside_the_published_numbers():
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "bsds500"
    if not root.is_dir():
        pytest.skip(f"no data at {root}")
    at = start(("generated", "blobs"), "pages/lab/datasets.py")
    at.text_input(key="datasets.path").set_value(str(root)).run()
    assert at.selectbox(key="datasets.split").value == "val"
    at.slider(key="datasets.count").set_value(2).run()
    at.multiselect(key="datasets.methods").set_value(["felzenszwalb"]).run()
    at.button(key="datasets.run").click().run()
    no_trouble(at)
    methods = list(at.dataframe[0].value["method"])
    assert methods[0].startswith("Felzenszwalb") and "gPb-owt-ucm (published, BSDS500 test)" in methods
