"""The corpus folder is one setting (VRCULTURE_CORPUS) that tests and tools resolve alike."""

from __future__ import annotations

import re
from pathlib import Path

from corpus_location import ENV, ROOT, corpus_dir


def test_default_is_shared_corpus_beside_the_checkout(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert corpus_dir() == (ROOT.parent / "shared" / "corpus").resolve()


def test_absolute_setting_is_used_as_is(monkeypatch, tmp_path: Path):
    monkeypatch.setenv(ENV, str(tmp_path / "my-corpus"))
    assert corpus_dir() == tmp_path / "my-corpus"


def test_relative_setting_is_taken_from_the_checkout_not_the_working_folder(
        monkeypatch, tmp_path: Path):
    monkeypatch.setenv(ENV, "corpora/meshes")
    monkeypatch.chdir(tmp_path)
    assert corpus_dir() == ROOT / "corpora" / "meshes"


def test_an_empty_setting_means_the_default(monkeypatch):
    monkeypatch.setenv(ENV, "")
    assert corpus_dir() == (ROOT.parent / "shared" / "corpus").resolve()


def test_no_test_or_tool_hard_codes_the_corpus_path():
    # Code that joins "shared" and "corpus" itself would ignore the setting.
    pattern = re.compile(r"""/\s*["']shared["']|["'][./]*shared/corpus["']""")
    offenders = []
    for folder in (ROOT / "tests", ROOT / "tools"):
        for path in folder.rglob("*"):
            if path.name in ("corpus_location.py", Path(__file__).name) or not path.is_file():
                continue
            if path.suffix not in ("", ".py", ".sh") or "__pycache__" in path.parts:
                continue
            text = path.read_text(errors="replace")
            offenders += [f"{path.relative_to(ROOT)}: {m[0]}" for m in pattern.finditer(text)]
    assert not offenders
