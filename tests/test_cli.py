"""The `citechat` command as a user runs it: real processes, real exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GENEVA, RUSI, SEEDS


def citechat(*args: str, data_dir: Path, env: dict | None = None, stdin: str | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CITECHAT_")}
    environment.update({"CITECHAT_DATA_DIR": str(data_dir), **(env or {})})
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True,
                          env=environment, timeout=300, input=stdin)


def assert_clean_failure(result, words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.fixture
def data(tmp_path: Path, seeded_dir: Path) -> Path:
    import shutil

    shutil.copytree(seeded_dir, tmp_path / "data")
    return tmp_path / "data"


def test_ingest_then_reingest_says_nothing_to_embed(tmp_path: Path) -> None:
    first = citechat("ingest", str(SEEDS), data_dir=tmp_path / "d")
    assert first.returncode == 0, first.stderr
    assert "Embedded" in first.stdout and "2 added" in first.stdout
    second = citechat("ingest", str(SEEDS), data_dir=tmp_path / "d")
    assert second.returncode == 0
    assert "Nothing to embed: 2 documents unchanged" in second.stdout


def test_retrieve_json_returns_the_shoygu_passage_first(data: Path) -> None:
    result = citechat("retrieve", "Between which two defence ministers did Antonov want contacts?",
                      "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    passages = json.loads(result.stdout)
    top = passages[0]
    assert top["doc"] == RUSI and "Shoygu" in top["text"]
    text = (SEEDS / top["doc"]).read_text(encoding="utf-8")
    assert text[top["start"] : top["end"]] == top["text"]


def test_docs_lists_chunk_counts_and_remove_deletes(data: Path) -> None:
    listed = json.loads(citechat("docs", "--json", data_dir=data).stdout)
    assert [d["name"] for d in listed] == [RUSI, GENEVA] and all(d["chunks"] > 0 for d in listed)
    assert citechat("remove", RUSI, data_dir=data).returncode == 0
    assert [d["name"] for d in json.loads(citechat("docs", "--json", data_dir=data).stdout)] \
        == [GENEVA]


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (("remove", "nope.txt"), {}, "No document named 'nope.txt'"),
        (("ingest", "/does/not/exist"), {}, "No such file or folder"),
        (("retrieve", "x"), {"CITECHAT_K": "0"}, "Invalid setting k"),
        (("retrieve", "x"), {"CITECHAT_CHROMA_URL": "ftp://nowhere"}, "Invalid Chroma URL"),
        (("ask", "   "), {}, "The question is empty"),
        (("summarize", "nope.txt"), {}, "No document named"),
        (("eval", "/does/not/exist.jsonl"), {}, "Cannot read the eval file"),
    ],
)
def test_bad_input_gets_one_line_and_non_zero_exit(data: Path, args, env, words) -> None:
    assert_clean_failure(citechat(*args, data_dir=data, env=env), words)


def test_ingest_of_only_bad_files_fails_and_keeps_the_store(data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.bin").write_bytes(b"\x00\x01")
    (bad / "e.txt").write_text("")
    result = citechat("ingest", str(bad), data_dir=data)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "x.bin: unsupported file type" in result.stderr and "e.txt: empty file" in result.stderr
    assert len(json.loads(citechat("docs", "--json", data_dir=data).stdout)) == 2
