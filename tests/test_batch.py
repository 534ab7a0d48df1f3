"""segcore batch: a folder of images segmented into label files and scored against
truth masks, in processes or on a Dask cluster; resumed, interrupted, one bad file."""

import csv
import io
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import segcore
from segcore import batch as sb
from segcore import synthetic
from segcore.cli import main
from segcore.io import load_image
from segcore.sweep import measure
from segcore.viz import to_uint8


def _labels(path):
    """A label file's values as written (palette indices or 16-bit gray)."""
    with Image.open(path) as png:
        return np.asarray(png).astype(np.int32)


@pytest.fixture
def folder(tmp_path):
    """Five generated images, truth masks for four of them, and one damaged file."""
    images, truths = tmp_path / "images", tmp_path / "truth"
    images.mkdir()
    truths.mkdir()
    for i in range(5):
        s = synthetic.noisy((40, 48), sigma=0.1, rng=i)
        Image.fromarray(to_uint8(s.image[:, :, 0])).save(images / f"{i:03d}.png")
        if i != 4:  # 004 has no truth: segmented, not scored
            Image.fromarray(((s.truth == 2) * 255).astype(np.uint8)).save(truths / f"{i:03d}.png")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (images / "notes.txt").write_text("not an image, and not picked up from a folder")
    return images, truths, tmp_path / "out"


def _timeless(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def _rows(out):
    with open(out / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_batch_writes_labels_scores_and_a_summary_with_two_processes(folder, capsys):
    images, truths, out = folder
    code = main(["batch", "threshold", str(images), "--set", "algorithm=li", "-o", str(out),
                 "--truth", str(truths), "--jobs", "2"])
    assert code == 1  # one image failed: the run went on, and says so
    captured = capsys.readouterr()
    assert "6/6" in captured.err and "broken.png: cannot load the image" in captured.err
    assert "6 images, 5 done, 1 failed" in captured.out
    rows = {r["image"]: r for r in _rows(out)}
    assert list(rows) == ["000.png", "001.png", "002.png", "003.png", "004.png", "broken.png"]
    for i in range(5):
        name = f"{i:03d}.png"
        expected = segcore.segment(load_image(images / name), "threshold", algorithm="li").labels
        assert np.array_equal(_labels(out / name), expected)
        row = rows[name]
        assert (row["labels"], row["width"], row["height"], row["error"]) == (name, "48", "40", "")
        if i == 4:
            assert row["truth"] == row["iou"] == ""
            continue
        truth = (np.asarray(Image.open(truths / name)) > 0) + 1
        scores = measure(expected, truth)
        for metric in sb.SCORES:
            assert float(row[metric]) == pytest.approx(scores[metric], rel=1e-5), metric
    assert rows["broken.png"]["labels"] == "" and "truncated" in rows["broken.png"]["error"]
    assert not (out / "broken.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    ious = [float(rows[f"{i:03d}.png"]["iou"]) for i in range(4)]
    assert (summary["images"], summary["ok"], summary["failed"], summary["unscored"]) == (6, 5, 1, 1)
    assert summary["iou"]["mean"] == pytest.approx(np.mean(ious), rel=1e-5)
    assert summary["iou"]["median"] == pytest.approx(np.median(ious), rel=1e-5)
    assert sorted(p.name for p in out.iterdir()) == [
        "000.png", "001.png", "002.png", "003.png", "004.png", "batch-rows.jsonl", "batch.json",
        "metrics.csv", "summary.json"]


def test_a_run_resumes_where_it_stopped_and_refuses_other_settings(folder, monkeypatch):
    images, truths, out = folder
    first = sb.batch("threshold", images, out, truth_dir=truths, jobs=1)
    assert first.summary["resumed"] == 0
    ran = []
    real = sb.segment_file
    monkeypatch.setattr(sb, "segment_file", lambda *a, **k: ran.append(a) or real(*a, **k))
    (out / "001.png").write_bytes((out / "001.png").read_bytes()[:50])  # cut short elsewhere
    again = sb.batch("threshold", images, out, truth_dir=truths, jobs=1)
    # The finished images are skipped; the damaged label file and the failed image run again.
    assert len(ran) == 2 and again.summary["resumed"] == 4
    assert _timeless(again.rows) == _timeless(first.rows)
    assert sb.label_file_complete(out / "001.png")
    with pytest.raises(ValueError, match=r"other settings \(algorithm=otsu, now li\)"):
        sb.batch("threshold", images, out, params={"algorithm": "li"}, jobs=1)
    with pytest.raises(ValueError, match="method threshold, now kmeans"):
        sb.batch("kmeans", images, out, jobs=1)


def test_ctrl_c_leaves_no_half_written_file(tmp_path):
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    for i in range(12):  # about half a second each for the random walker
        s = synthetic.noisy((128, 128), sigma=0.3, rng=i)
        Image.fromarray(to_uint8(s.image[:, :, 0])).save(images / f"{i:03d}.png")
    argv = [sys.executable, "-m", "segcore", "batch", "random_walker", str(images), "-o", str(out),
            "--set", "beta=1000", "--jobs", "2"]
    # A shell's background job ignores SIGINT, and a child inherits that: restore it.
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    start = time.monotonic()
    while not list(out.glob("0*.png")) and time.monotonic() - start < 60:
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted" in err and "run the same command again" in err
    assert "Traceback" not in err
    labels = sorted(out.glob("*.png"))
    assert 1 <= len(labels) < 12  # stopped part way
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary file
    for path in labels:
        assert sb.label_file_complete(path)
        assert _labels(path).shape == (128, 128)
    rows = [json.loads(line) for line in (out / "batch-rows.jsonl").read_text().splitlines()]
    assert {r["labels"] for r in rows} <= {p.name for p in labels}


def test_the_dask_path_runs_the_same_job_on_a_local_cluster(folder):
    distributed = pytest.importorskip("distributed")
    images, truths, out = folder
    local = sb.batch("threshold", images, out.with_name("local"), truth_dir=truths, jobs=1)
    # In-process workers (processes=False) start in a second; the client in batch() still
    # talks to the scheduler over TCP and the job and its data travel pickled.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        seen = []
        found = sb.batch("threshold", images, out, truth_dir=truths,
                         dask=cluster.scheduler_address, progress=lambda *a: seen.append(a[:2]))
    assert seen[-1] == (6, 6)
    assert _timeless(found.rows) == _timeless(local.rows)
    for i in range(5):
        assert np.array_equal(_labels(out / f"{i:03d}.png"),
                              _labels(out.with_name("local") / f"{i:03d}.png"))


def test_dask_without_distributed_says_what_to_install(folder, monkeypatch, capsys):
    images, _, out = folder
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    assert main(["batch", "threshold", str(images), "-o", str(out), "--dask",
                 "tcp://127.0.0.1:8786"]) == 2
    assert "pip install 'seglab[cluster]'" in capsys.readouterr().err


def test_a_glob_picks_files_and_a_truth_is_matched_by_stem(folder):
    images, truths, out = folder
    Image.open(truths / "001.png").save(truths / "002.bmp")
    with pytest.raises(ValueError, match="two files of stem '002'"):
        sb.plan(images, out, truth_dir=truths)
    (truths / "002.bmp").unlink()
    (images / "000.png").rename(images / "000.JPG.png")
    items = sb.plan(str(images / "00[0-2]*.png"), out, truth_dir=truths)
    assert [(i.name, i.truth and i.truth.name, i.output.name) for i in items] == [
        ("000.JPG.png", None, "000.JPG.png"), ("001.png", "001.png", "001.png"),
        ("002.png", "002.png", "002.png")]


@pytest.mark.parametrize("argv,message", [
    (["batch", "threshold", "IMAGES", "-o", "IMAGES"], "would replace an input file"),
    (["batch", "threshold", "NOWHERE", "-o", "OUT"], "there is no folder or file"),
    (["batch", "threshold", "NOWHERE/*.png", "-o", "OUT"], "no file matches"),
    (["batch", "region_growing", "IMAGES", "-o", "OUT"], "needs seeds"),
    (["batch", "threshold", "IMAGES", "-o", "OUT", "--set", "level=2"], "between 0 and 1"),
    (["batch", "threshold", "IMAGES", "-o", "OUT", "--jobs", "0"], "at least 1"),
    (["batch", "threshold", "IMAGES", "-o", "OUT", "--truth", "NOWHERE"], "does not exist"),
    (["batch", "threshold", "IMAGES"], "required: -o/--output"),
])
def test_wrong_batch_arguments_exit_2_with_a_message(argv, message, folder, capsys):
    images, _, out = folder
    where = {"IMAGES": str(images), "OUT": str(out), "NOWHERE": str(out.with_name("nowhere"))}
    argv = [next((v + a[len(k):] for k, v in where.items() if a.split("/")[0] == k), a)
            for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_row_is_small():
    s = synthetic.two_regions((20, 30))
    data = io.BytesIO()
    Image.fromarray(to_uint8(s.image[:, :, 0])).save(data, "PNG")
    done = sb.segment_file("random_walker", {}, data.getvalue())
    assert set(done) == {"png", "row"}
    assert set(done["row"]) == {"width", "height", "regions", "seconds", "error"}
    assert len(done["png"]) < 2000
