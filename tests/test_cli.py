"""The segcore command line, run in-process and as `python -m segcore`."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from segcore import synthetic
from segcore.cli import main
from segcore.io import load_image
from segcore.registry import segment
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


@pytest.fixture
def truth_file(tmp_path):
    path = tmp_path / "truth.png"
    Image.fromarray(((synthetic.blobs((48, 48)).truth == 2) * 255).astype(np.uint8)).save(path)
    return path


def test_sweep_prints_a_table_with_the_best_marked(image_file, truth_file, capsys):
    assert main(["sweep", "threshold", str(image_file), "--truth", str(truth_file),
                 "--points", "5"]) == 0
    out = capsys.readouterr().out
    assert "threshold: 5 settings" in out and "(algorithm=manual)" in out
    lines = out.splitlines()
    assert lines[1].split() == ["level", "iou", "dice", "regions", "seconds"]
    best = [line for line in lines if line.endswith("<- best")]
    assert len(best) == 1 and best[0].split()[0] == "0.5"
    assert "automatic choices on the level axis:" in out and "  otsu " in out


def test_sweep_json_with_given_values_and_errors(image_file, truth_file, capsys):
    from segcore.sweep import measure

    assert main(["sweep", "kmeans", str(image_file), "--param", "k=2,3", "--param", "space=gray",
                 "--truth", str(truth_file), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["axes"] == {"k": [2, 3], "space": ["gray"]}
    assert [o["params"]["k"] for o in found["outcomes"]] == [2, 3]
    image = load_image(image_file)
    truth = (np.asarray(Image.open(truth_file)) > 0) + 1
    labels = segment(image, "kmeans", k=2, space="gray").labels
    assert found["outcomes"][0]["scores"]["iou"] == measure(labels, truth)["iou"]
    assert found["best"] == max(range(2), key=lambda i: found["outcomes"][i]["scores"]["iou"])
    assert main(["sweep", "kmeans", str(image_file)]) == 0
    assert "<- best" not in capsys.readouterr().out  # no truth, no best


@pytest.mark.parametrize("argv,message", [
    (["sweep", "kmeans", "IMG", "--param", "colour"], "no parameter 'colour'"),
    (["sweep", "kmeans", "IMG", "--param", "k=2,99"], "between 2 and 12, got '99'"),
    (["sweep", "kmeans", "IMG", "--param", "k="], "gives no values"),
    (["sweep", "threshold", "IMG", "--param", "level", "--param", "classes"],
     "cannot be swept together"),
    (["sweep", "kmeans", "IMG", "--truth", "missing.png"], "missing.png"),
])
def test_wrong_sweep_arguments_exit_2(argv, message, image_file, capsys):
    argv = [str(image_file) if a == "IMG" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
