"""The segcore command line, run in-process and as `python -m segcore`."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from segcore import synthetic
from segcore.cli import main
from segcore.viz import to_uint8


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "blobs.png"
    Image.fromarray(to_uint8(synthetic.blobs((48, 48)).image[:, :, 0])).save(path)
    return path


def test_methods_lists_every_method_with_ranges(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "kmeans: K-means clustering" in out
    assert "[2, 12]" in out  # k's range


def test_methods_json(capsys):
    assert main(["methods", "--json"]) == 0
    specs = json.loads(capsys.readouterr().out)
    assert {"threshold", "kmeans", "watershed"} <= {s["name"] for s in specs}


def test_run_writes_labels_and_overlay(image_file, tmp_path, capsys):
    out, ov = tmp_path / "labels.png", tmp_path / "overlay.png"
    code = main(["run", "kmeans", str(image_file), "--set", "k=2", "-o", str(out),
                 "--overlay", str(ov), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["params"]["k"] == 2 and summary["n_regions"] == 2
    labels = np.asarray(Image.open(out))
    assert labels.shape == (48, 48) and set(np.unique(labels)) == {1, 2}
    assert np.asarray(Image.open(ov)).shape == (48, 48, 3)


def test_run_with_seeds(image_file, capsys):
    assert main(["run", "region_growing", str(image_file), "--seed-point", "2,2,1",
                 "--set", "tolerance=0.2"]) == 0
    assert "region_growing: 1 regions" in capsys.readouterr().out


def test_score_prints_measures(tmp_path, capsys):
    truth = synthetic.two_regions((20, 20)).truth.astype(np.uint8)
    Image.fromarray(truth).save(tmp_path / "t.png")
    Image.fromarray(3 - truth).save(tmp_path / "p.png")  # swapped labels
    assert main(["score", str(tmp_path / "p.png"), str(tmp_path / "t.png"), "--match", "none"]) == 0
    assert "IoU 0.0000" in capsys.readouterr().out
    # Hungarian matching is the default, as in segcore.metrics.score and the app.
    assert main(["score", str(tmp_path / "p.png"), str(tmp_path / "t.png")]) == 0
    assert "IoU 1.0000" in capsys.readouterr().out
    over = np.repeat(np.arange(1, 5, dtype=np.uint8), 5)[None].repeat(20, 0)  # 4 stripes
    Image.fromarray(over).save(tmp_path / "o.png")
    assert main(["score", str(tmp_path / "o.png"), str(tmp_path / "t.png"),
                 "--match", "majority"]) == 0
    assert "IoU 1.0000" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["run", "otsu", "x.png"], "unknown method 'otsu'"),
    (["run", "kmeans", "missing.png"], "missing.png"),
    (["run", "kmeans", "IMG", "--set", "k"], "NAME=VALUE"),
    (["run", "kmeans", "IMG", "--set", "k=99"], "between 2 and 12"),
    (["run", "kmeans", "IMG", "--set", "colour=1"], "no parameter 'colour'"),
    (["run", "watershed", "IMG", "--seed-point", "1,2"], "ROW,COL,LABEL"),
    (["run", "kmeans", "IMG", "-o", "/no/such/folder/x.png"], "No such file"),
    (["score", "missing.png", "IMG"], "missing.png"),
    (["frobnicate"], "invalid choice"),
    ([], ""),
])
def test_wrong_arguments_exit_2_with_a_message(argv, message, image_file, capsys):
    argv = [str(image_file) if a == "IMG" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_not_an_image_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("these are my notes, not a picture")
    assert main(["run", "kmeans", str(bad)]) == 2
    assert "not an image" in capsys.readouterr().err.lower()


def test_python_dash_m(image_file):
    done = subprocess.run([sys.executable, "-m", "segcore", "run", "threshold", str(image_file)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "threshold: 2 regions" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "segcore", "run", "threshold", "nope.png"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
