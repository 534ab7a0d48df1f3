"""The README's Limits section states what the code enforces: every number in its table
is read here and compared with the constant that enforces it, and the kept-results
limits are exercised."""

from __future__ import annotations

import re
import sys
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest

import segcore
from segcore.nn import infer
from segcore.registry import Segmentation

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from seglab import cache, state  # noqa: E402


def limits_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Limits", 1)[1].split("\n#", 1)[0]  # up to the next heading
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    return {what.strip(): limit.strip() for what, limit, _ in rows[1:]}


def number(text: str, unit: str) -> int:
    found = re.search(r"([\d,]+) " + unit, text)
    assert found, f"no '<number> {unit}' in {text!r}"
    return int(found.group(1).replace(",", ""))


def test_every_limit_in_the_readme_is_the_enforced_one():
    rows = limits_table()
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert number(rows["upload size"], "MB") == config["server"]["maxUploadSize"]
    assert number(rows["image size"], "pixels") == cache.MAX_PIXELS
    assert segcore.load_image.__kwdefaults__["max_pixels"] == cache.MAX_PIXELS
    assert number(rows["working size"], "pixels") == cache.PREVIEW_PIXELS
    assert int(rows["results kept per image"].split()[0]) == state.RESULTS_KEPT
    assert number(rows["images whose results are kept"], "per session") == state.IMAGES_KEPT
    assert number(rows["full-size results kept"], "per session") == cache.FULL_RESULTS_KEPT
    assert number(rows["decoded images cached"], "for the whole server") == 4
    assert "max_entries=4" in (ROOT / "seglab" / "cache.py").read_text().split("def _decode")[0]
    assert number(rows["U-Net checkpoint"], "MB") << 20 == infer.MAX_CHECKPOINT_BYTES
    assert number(rows["U-Net checkpoint"], "weights") == infer.MAX_WEIGHTS
    assert number(rows["file names"], "characters") == state.NAME_CHARS
    corpus = (ROOT / "tests" / "corpus.py").read_text()
    said = number((ROOT / "README.md").read_text().split("## Limits")[1], "files the tests try")
    assert said == corpus.count('    Case("')


def test_kept_results_are_capped_per_image_and_per_session(monkeypatch):
    monkeypatch.setattr(state, "st", types.SimpleNamespace(session_state={}))
    images = [types.SimpleNamespace(key=f"image{k}") for k in range(state.IMAGES_KEPT + 2)]
    seg = Segmentation(labels=np.ones((2, 2), np.int32))
    for n in range(state.RESULTS_KEPT + 5):
        state.remember_result(images[0], f"run {n}", seg, full=False)
    kept = state.results_for(images[0])
    assert len(kept) == state.RESULTS_KEPT and next(iter(kept)) == f"run {state.RESULTS_KEPT + 4}"
    for image in images[1:]:
        state.remember_result(image, "run", seg, full=False)
    held = state.st.session_state["results"]
    assert list(held) == [i.key for i in images[-state.IMAGES_KEPT:]]
    state.remember_result(images[-state.IMAGES_KEPT], "again", seg, full=False)
    assert list(held)[-1] == images[-state.IMAGES_KEPT].key, "a used image becomes the newest"


@pytest.mark.parametrize("name, kept", [
    ("photo.png", "photo.png"), ("C:\\Users\\me\\photo.png", "photo.png"),
    ("../../etc/passwd", "passwd"), ("a\x00b\nc.png", "abc.png"), ("", "unnamed file"),
    ("x" * 300 + ".jpeg", "x" * 94 + "….jpeg")])
def test_file_names_are_kept_short_and_without_paths(name, kept):
    assert state.clean_name(name) == kept and len(state.clean_name(name)) <= state.NAME_CHARS
