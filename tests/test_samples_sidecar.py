"""A large leaderboard keeps its raw samples in a sidecar named by sha256; every reader sees them back."""

from __future__ import annotations

import json

import pytest

from factories import board_definition, random_cases, run_record, write_board
from frontierbench.cli import main as cli
from frontierbench.formats import samples_sidecar
from frontierbench.formats.leaderboard import load_leaderboard, save_leaderboard
from frontierbench.formats.run import RecordError, save_run


def use_sidecars(monkeypatch):
    """Tests use a few hundred samples; the real threshold is for histories of a million rows."""
    monkeypatch.setattr(samples_sidecar, "SIDECAR_MIN_SAMPLES", 100)


def aggregated(tmp_path, out="leaderboards-out"):
    write_board(tmp_path / "boards", board_definition("toy"))
    for i in range(3):
        save_run(run_record(random_cases(["x", "y"], seed=i, items=50), run_id=f"r{i}",
                            started_at=f"2026-01-0{i + 1}T00:00:00+00:00"), tmp_path / "runs" / f"r{i}.json")
    assert cli(["aggregate", str(tmp_path / "runs"), "--boards", str(tmp_path / "boards"), "-o",
                str(tmp_path / out), "--draws", "100"]) == 0
    return tmp_path / out / "toy" / "leaderboard.json"


def test_samples_move_to_a_sidecar_named_by_sha256_and_come_back_on_load(tmp_path, monkeypatch):
    inline_path = aggregated(tmp_path / "inline")  # the same data, written with the samples inline
    use_sidecars(monkeypatch)
    path = aggregated(tmp_path)
    assert "samples_sidecar" not in json.loads(inline_path.read_text())
    data = json.loads(path.read_text())
    sidecar = data["samples_sidecar"]
    assert sidecar["file"] == f"leaderboard.samples.{sidecar['sha256']}.npy"
    assert (path.parent / sidecar["file"]).exists()
    wall = data["groups"][0]["entries"][0]["metrics"]["wall_time"]
    assert wall["samples"] is None and wall["samples_at"][1] == 30  # 3 runs x 10 rounds

    loaded = load_leaderboard(path)
    inline = load_leaderboard(inline_path)
    for mine, theirs in zip(loaded.estimates(), inline.estimates()):
        assert mine.samples == theirs.samples
        assert "samples_at" not in (mine.model_extra or {})


def test_rewriting_gives_the_same_bytes_and_removes_only_stale_sidecars(tmp_path, monkeypatch):
    use_sidecars(monkeypatch)
    path = aggregated(tmp_path)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    save_leaderboard(load_leaderboard(path), path)
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before

    other = path.parent / "other.json"  # a second leaderboard in the same folder keeps its own sidecar
    save_leaderboard(load_leaderboard(path), other)
    board = load_leaderboard(path)
    board.groups[0].entries[0].metrics["wall_time"].samples[0] *= 2  # new samples: a new sidecar
    save_leaderboard(board, path)
    names = sorted(p.name for p in path.parent.iterdir())
    assert len([n for n in names if n.startswith("leaderboard.samples.")]) == 1
    assert len([n for n in names if n.startswith("other.samples.")]) == 1
    assert json.loads(path.read_text())["samples_sidecar"]["file"] in names


def test_a_changed_or_missing_sidecar_is_refused_naming_the_files(tmp_path, monkeypatch):
    use_sidecars(monkeypatch)
    path = aggregated(tmp_path)
    sidecar = path.parent / json.loads(path.read_text())["samples_sidecar"]["file"]
    raw = sidecar.read_bytes()
    sidecar.write_bytes(raw[:-8] + b"\0" * 8)
    with pytest.raises(RecordError, match=r"samples\..*\.npy: its sha256 is not the one .*leaderboard\.json names"):
        load_leaderboard(path)
    sidecar.unlink()
    with pytest.raises(RecordError, match=r"leaderboard\.json: field 'samples_sidecar\.file': the samples sidecar "
                                          r"it names cannot be read .*\.npy: cannot read"):
        load_leaderboard(path)
    # An estimate pointing into a sidecar the leaderboard does not name is refused, not read as sample-less.
    data = json.loads(path.read_text())
    del data["samples_sidecar"]
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="field 'samples_at'"):
        load_leaderboard(path)


def test_a_symbolic_link_to_a_leaderboard_finds_its_sidecar(tmp_path, monkeypatch):
    use_sidecars(monkeypatch)
    path = aggregated(tmp_path)
    link = tmp_path / "latest.json"
    link.symlink_to(path)
    through_link = [e.samples for e in load_leaderboard(link).estimates()]
    assert through_link == [e.samples for e in load_leaderboard(path).estimates()]


def test_check_compare_and_the_site_read_a_leaderboard_with_a_sidecar(tmp_path, monkeypatch, capsys):
    inline_path = aggregated(tmp_path / "inline")
    use_sidecars(monkeypatch)
    path = aggregated(tmp_path)
    capsys.readouterr()
    outputs = []
    for leaderboard in (inline_path, path):  # the same data, inline and in a sidecar: the same answers
        checked = cli(["check", str(leaderboard)])
        compared = cli(["compare", str(inline_path), str(leaderboard), "--format", "markdown"])
        printed = capsys.readouterr().out.replace(str(inline_path), "LB").replace(str(path), "LB")
        outputs.append((checked, compared, printed))
    assert outputs[0] == outputs[1]
    assert "wall_time" in outputs[1][2]
    assert cli(["site", str(path.parent.parent), "-o", str(tmp_path / "site")]) == 0
    published = tmp_path / "site" / "boards" / "toy"
    name = json.loads((published / "leaderboard.json").read_text())["samples_sidecar"]["file"]
    assert (published / name).read_bytes() == (path.parent / name).read_bytes()
    board_page = next(published.glob("*.html")).read_text()
    assert f'<a href="{name}">' in board_page  # offered for download beside the JSON


def test_a_small_leaderboard_keeps_its_samples_inline(tmp_path):
    path = aggregated(tmp_path)  # 2 entries x (30 rounds + 50 items): far below the real threshold
    data = json.loads(path.read_text())
    assert "samples_sidecar" not in data
    assert data["groups"][0]["entries"][0]["metrics"]["wall_time"]["samples"]
    assert [p.name for p in path.parent.iterdir()] == ["leaderboard.json"]


def test_the_fast_writer_gives_what_the_models_dump(tmp_path):
    """save_leaderboard builds its JSON without serialising a million history points field by field:
    the same JSON as to_json_dict, and the same leaderboard read back."""
    board = load_leaderboard(aggregated(tmp_path))
    board.groups[0].entries[0].history[0].__pydantic_extra__["note"] = "an extra field travels too"
    path = save_leaderboard(board, tmp_path / "again.json")
    assert json.loads(path.read_text()) == board.to_json_dict()
    assert load_leaderboard(path) == board


def test_the_sidecar_holds_exactly_what_np_save_writes(tmp_path, monkeypatch):
    """The sidecar is written part by part, never joined in memory: the bytes np.save gives."""
    import io

    import numpy as np

    use_sidecars(monkeypatch)
    path = aggregated(tmp_path)
    sidecar = path.parent / json.loads(path.read_text())["samples_sidecar"]["file"]
    expected = io.BytesIO()
    np.save(expected, np.load(sidecar), allow_pickle=False)
    assert sidecar.read_bytes() == expected.getvalue()
