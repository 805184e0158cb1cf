"""The API with keys, through curl, and under load: `citechat serve` with keys from
CITECHAT_API_KEYS and from the keys file (`citechat keys create`), its model server down.

Missing, wrong and revoked keys get 401; keys made or revoked while it runs count at
once; curl uploads, lists and deletes a document; two API clients keep asking while a
third uploads, and every answer equals the quiet one; the MCP endpoint beside the API
takes the same keys; without keys, a server refuses a host beyond loopback. One server
for the module.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from api_server import clean_env, running_api
from app_server import ROOT, free_port
from test_mcp import TOOLS, http_scenario

ENV_KEYS = ["env-key-one", "env-key-two"]
QUESTIONS = ["Who represented the United States at the Geneva talks?",
             "Between which two defence ministers did Antonov want contacts?"]
ROUNDS = 4


def citechat(data: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, text=True,
                          capture_output=True, env=clean_env(data, env), timeout=timeout)


@dataclass
class Served:
    url: str
    data: Path
    log: Path
    file_key: str  # made by `citechat keys create` before the server started

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    def http(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, seeded_dir: Path) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("api-keys")
    data, log = folder / "data", folder / "serve.log"
    shutil.copytree(seeded_dir, data)
    created = citechat(data, "keys", "create", "--name", "ci")
    assert created.returncode == 0, created.stderr
    down = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    env = {"CITECHAT_API_KEYS": ",".join(ENV_KEYS), "CITECHAT_OPENAI_BASE_URL": down}
    with running_api(data, log, env) as url:
        yield Served(url, data, log, created.stdout.strip())
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.mark.parametrize("header", [None, "Bearer not-a-key", "Basic ZW52LWtleS1vbmU=",
                                    "Bearer", f"bearer {ENV_KEYS[0]}x"])
def test_a_missing_or_wrong_key_gets_401(served: Served, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in (("GET", "/v1/models"), ("GET", "/v1/documents"),
                         ("POST", "/v1/chat/completions"), ("DELETE", "/v1/documents/x")):
        reply = httpx.request(method, served.url + path, headers=headers, json={})
        assert reply.status_code == 401, (path, reply.text)
        assert reply.json()["error"]["code"] == "invalid_api_key"
        assert reply.headers["WWW-Authenticate"] == "Bearer"


def test_keys_from_the_environment_and_the_file_work(served: Served) -> None:
    for key in [*ENV_KEYS, served.file_key]:
        assert "citechat" in {m.id for m in served.client(key).models.list()}
    with pytest.raises(openai.AuthenticationError):
        served.client("cc-wrong").models.list()
    assert httpx.get(f"{served.url}/docs").status_code == 200  # the docs page is public


def test_keys_made_and_revoked_while_serving(served: Served) -> None:
    made = citechat(served.data, "keys", "create", "--name", "laptop")
    key = made.stdout.strip()
    assert made.returncode == 0 and key.startswith("cc-")
    assert served.http(key).get("/v1/models").status_code == 200
    keys_file = served.data / "api-keys.json"
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    assert key not in keys_file.read_text() and served.file_key not in keys_file.read_text()
    listed = json.loads(citechat(served.data, "keys", "list", "--json").stdout)
    assert [k["name"] for k in listed] == ["ci", "laptop"]
    assert key not in json.dumps(listed)
    revoked = citechat(served.data, "keys", "revoke", "laptop")
    assert revoked.returncode == 0, revoked.stderr
    assert served.http(key).get("/v1/models").status_code == 401
    assert served.http(served.file_key).get("/v1/models").status_code == 200
    unknown = citechat(served.data, "keys", "revoke", "laptop")
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1


def curl(served: Served, *args: str, key: str | None = ENV_KEYS[0]) -> tuple[int, dict]:
    auth = ["-H", f"Authorization: Bearer {key}"] if key else []
    done = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *auth, *args],
                          capture_output=True, text=True, timeout=120, check=True)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body)


def test_curl_uploads_lists_and_deletes(served: Served, tmp_path: Path) -> None:
    note = tmp_path / "curl-note.md"
    note.write_text("# Curl note\n\nThe lighthouse keeper counted 312 ships in 1911.\n")
    url = f"{served.url}/v1/documents"
    assert curl(served, "-F", f"file=@{note}", url, key=None)[0] == 401
    status, uploaded = curl(served, "-F", f"file=@{note}", url)
    assert status == 201 and uploaded["data"] == [
        {"name": "curl-note.md", "status": "added", "chunks": 1, "reason": ""}]
    status, listed = curl(served, url)
    assert status == 200
    assert {"curl-note.md": "Curl note"}.items() <= {d["name"]: d["title"]
                                                     for d in listed["data"]}.items()
    status, deleted = curl(served, "-X", "DELETE", f"{url}/curl-note.md")
    assert status == 200 and deleted == {"name": "curl-note.md", "object": "document",
                                         "deleted": True}
    assert "curl-note.md" not in {d["name"] for d in curl(served, url)[1]["data"]}
    assert curl(served, "-X", "DELETE", f"{url}/curl-note.md")[0] == 404


def test_the_mcp_endpoint_beside_the_api(served: Served) -> None:
    assert httpx.post(f"{served.url}/mcp", json={}).status_code == 401
    tools, found = asyncio.run(asyncio.wait_for(http_scenario(served.url, ENV_KEYS[1]), 120))
    assert tools == TOOLS and any("Sherman" in p["text"] for p in found["passages"])


def test_a_model_server_that_is_down_gets_503(served: Served) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        served.client(ENV_KEYS[0]).chat.completions.create(
            model="citechat:openai", messages=[{"role": "user", "content": QUESTIONS[0]}])
    assert failed.value.status_code == 503
    assert "Cannot reach the model server" in failed.value.body["message"]


def test_two_clients_and_an_upload_at_once(served: Served) -> None:
    def answer(client: openai.OpenAI, question: str) -> tuple[str, list]:
        reply = client.chat.completions.create(
            model="citechat", messages=[{"role": "user", "content": question}])
        return reply.choices[0].message.content, reply.model_extra["citechat"]["citations"]

    quiet = {q: answer(served.client(ENV_KEYS[0]), q) for q in QUESTIONS}
    answers: dict[str, list] = {q: [] for q in QUESTIONS}
    uploaded: list[str] = []
    failures: list[BaseException] = []

    def asker(question: str, key: str) -> None:
        client = served.client(key)
        try:
            for _ in range(ROUNDS):
                answers[question].append(answer(client, question))
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    def uploader() -> None:
        try:
            with served.http(served.file_key) as http:
                for i in range(ROUNDS):
                    text = f"Note {i}: the zebra census counted {1000 + i} animals in Kenya."
                    reply = http.post("/v1/documents", files={"file": (f"note-{i}.txt", text)})
                    assert reply.status_code == 201, reply.text
                    uploaded.extend(r["name"] for r in reply.json()["data"])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=asker, args=(q, k)) for q, k in zip(QUESTIONS, ENV_KEYS,
                                                                           strict=True)]
    threads.append(threading.Thread(target=uploader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads) and not failures, failures
    for question, replies in answers.items():
        assert replies == [quiet[question]] * ROUNDS  # the same words and citations
    names = [f"note-{i}.txt" for i in range(ROUNDS)]
    assert uploaded == names
    listed = {d["name"] for d in served.http(ENV_KEYS[1]).get("/v1/documents").json()["data"]}
    assert set(names) <= listed
    census = answer(served.client(ENV_KEYS[1]), "How many animals did the zebra census count?")
    assert "zebra" in census[0] and census[1][0]["doc"] in names


@pytest.mark.parametrize("command", [["serve"], ["mcp", "--http"]])
def test_without_keys_only_loopback_is_served(tmp_path: Path, command: list[str]) -> None:
    refused = citechat(tmp_path / "data", *command, "--host", "0.0.0.0", "--port", "9")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: Refusing to serve on 0.0.0.0 without API keys")
    assert refused.stderr.count("\n") == 1 and not (tmp_path / "data").exists()
