"""benchmarks/suite.py's bookkeeping: merging a rerun into an earlier suite.json and the
README's summary table. Nothing is timed here; the rows are made up."""

from dataclasses import asdict

from benchmarks.suite import Row, merge_rows, summary_table


def _row(case, mp, seconds, peer=None, verdict="pass", ratio=None):
    side = {"status": "ok", "seconds": seconds}
    return Row(case, case.split("[")[0], mp, (1, 1), side,
               {"status": "ok", "seconds": peer} if peer else {}, ratio=ratio,
               target="t" if verdict != "-" else "", verdict=verdict)


def _suite(rows, date="d1", git="g1"):
    return {"machine": {"date": date, "git": git}, "settings": {"repeat": 1},
            "rows": [asdict(r) for r in rows]}


def test_a_rerun_replaces_its_own_rows_and_keeps_the_others_with_their_run():
    old = _suite([_row("kmeans[rgb]", 1.0, 0.5), _row("kmeans[rgb]", 4.0, 2.0),
                  _row("chan_vese", 1.0, 3.0)])
    merged, runs = merge_rows(old, [_row("kmeans[rgb]", 4.0, 0.07)])
    got = {(r.case, r.size_mp): r.ours["seconds"] for r in merged}
    assert got == {("kmeans[rgb]", 1.0): 0.5, ("kmeans[rgb]", 4.0): 0.07, ("chan_vese", 1.0): 3.0}
    assert [r.case for r in merged] == ["kmeans[rgb]", "kmeans[rgb]", "chan_vese"]
    assert runs == [{"repeat": 1, "date": "d1", "git": "g1",
                     "rows": [["kmeans[rgb]", 1.0], ["chan_vese", 1.0]]}]
    # a run none of whose rows remain is dropped from the list
    _, runs = merge_rows(_suite([_row("chan_vese", 1.0, 3.0)]), [_row("chan_vese", 1.0, 2.5)])
    assert runs == []


def test_the_summary_gives_one_line_per_case_with_its_verdict_over_every_size():
    rows = [_row("slic", 1.0, 0.4, peer=0.5, ratio=0.8),
            _row("slic", 4.0, 2.2, peer=2.0, ratio=1.1, verdict="MISS"),
            _row("unet", 1.0, 0.9, verdict="pass")]
    lines = summary_table(rows).splitlines()
    assert len(lines) == 4
    slic = [c.strip() for c in lines[2].strip("|").split("|")]
    assert slic[0] == "slic" and slic[1:5] == ["0.4", "0.5", "2.2", "2"]
    assert slic[5:7] == ["-", "-"]  # nothing measured at 16 MP
    assert slic[-1] == "MISS at 1 of 2 sizes"
    assert lines[3].split("|")[1].strip() == "unet" and lines[3].rstrip("| ").endswith("pass")
