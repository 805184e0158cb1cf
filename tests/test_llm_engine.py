"""The generative engine with LangChain's fake chat model, and end to end with the real
`openai` client against a local OpenAI-compatible server."""

from __future__ import annotations

import socket

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.config import load_settings
from rag.engines.base import REFUSAL
from rag.engines.llm import LLMEngine, build_chat_model
from rag.errors import ModelUnavailable
from rag.evaluation import load_items, run_eval
from rag.types import Passage, Turn

from conftest import DEV_EVAL, GENEVA
from fake_openai_server import FakeOpenAIServer, overlap_responder

PASSAGES = [Passage("a.txt", 0, 30, 1.0, "Wendy Sherman led the talks."),
            Passage("b.txt", 5, 40, 0.5, "Ryabkov spoke for Russia in Geneva.")]


def fake(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(AIMessage(content=r) for r in replies))


def test_answer_streams_and_keeps_markers() -> None:
    pieces: list[str] = []
    draft = LLMEngine(fake("Sherman led them [1]. Ryabkov spoke [2].")).answer(
        "Who led?", PASSAGES, pieces.append)
    assert draft.text == "Sherman led them [1]. Ryabkov spoke [2]."
    assert draft.sources == PASSAGES and not draft.refused
    assert len(pieces) > 1 and "".join(pieces) == draft.text


@pytest.mark.parametrize("reply", [REFUSAL, "The documents don't say who won.",
                                   "The documents do not say."])
def test_refusals_are_recognised(reply: str) -> None:
    draft = LLMEngine(fake(reply)).answer("Who won the cup?", PASSAGES)
    assert draft.refused and draft.text == REFUSAL and draft.sources == []


def test_no_passages_refuses_without_calling_the_model() -> None:
    model = fake()  # an empty script: any call would raise StopIteration
    assert LLMEngine(model).answer("Anything?", []).refused


def test_condense_uses_history_only_when_there_is_some() -> None:
    engine = LLMEngine(fake("What does Ryabkov want NATO to do?"))
    assert engine.condense([], "What does he want?") == "What does he want?"
    history = [Turn("Who is Sergei Ryabkov?", "Russia's deputy foreign minister [1].")]
    assert engine.condense(history, "What does he want?") == "What does Ryabkov want NATO to do?"


def test_map_reduce_summary_keeps_global_markers() -> None:
    units = [Passage("d.txt", i * 100, i * 100 + 90, 1.0, f"Fact number {i}. " * 5)
             for i in range(6)]
    engine = LLMEngine(fake("Facts zero to two [1][3].", "Facts three to five [4][6].",
                            "All six facts [1][3][4][6]."), batch_chars=250)
    pieces: list[str] = []
    draft = engine.summarize(units, on_token=pieces.append)
    assert draft.text == "All six facts [1][3][4][6]." and draft.sources == units
    assert "".join(pieces) == draft.text  # only the reduce step streams


def settings_for(server: FakeOpenAIServer, **overrides):
    return load_settings(engine="openai", openai_base_url=server.base_url,
                         openai_model="fake-model", **overrides)


@pytest.mark.parametrize("streaming", [True, False])
def test_real_client_against_local_server(streaming: bool) -> None:
    with FakeOpenAIServer() as server:
        server.enqueue("Wendy Sherman led the talks [1].")
        model = build_chat_model(settings_for(server))
        model.streaming = streaming
        pieces: list[str] = []
        draft = LLMEngine(model).answer("Who led the talks?", PASSAGES, pieces.append)
    assert draft.text == "Wendy Sherman led the talks [1]."
    assert server.requests[0]["model"] == "fake-model"
    assert bool(server.requests[0].get("stream")) == streaming
    assert "Wendy Sherman led the talks." in server.requests[0]["messages"][0]["content"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("status", "words"), [(401, "rejected the API key"),
                                               (429, "rate-limiting"), (404, "does not know"),
                                               (500, "failed")])
def test_server_errors_become_one_clear_sentence(status: int, words: str) -> None:
    with FakeOpenAIServer() as server:
        server.fail_with = status
        engine = LLMEngine(build_chat_model(settings_for(server)), server.base_url)
        with pytest.raises(ModelUnavailable, match=words) as caught:
            engine.answer("Who?", PASSAGES)
    assert "\n" not in str(caught.value)


def test_unreachable_server_and_timeout() -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    settings = load_settings(engine="openai", openai_base_url=closed)
    with pytest.raises(ModelUnavailable, match="Cannot reach"):
        LLMEngine(build_chat_model(settings), closed).answer("Who?", PASSAGES)
    with FakeOpenAIServer() as server:
        server.delay = 3.0
        model = build_chat_model(settings_for(server, openai_timeout=0.5))
        with pytest.raises(ModelUnavailable, match="timed out"):
            LLMEngine(model, server.base_url).answer("Who?", PASSAGES)


def test_missing_key_for_openai_itself() -> None:
    with pytest.raises(ModelUnavailable, match="CITECHAT_OPENAI_API_KEY"):
        build_chat_model(load_settings(engine="openai"))


def test_pipeline_ask_through_the_server(seeded) -> None:
    with FakeOpenAIServer(responder=overlap_responder) as server:
        seeded._engine = LLMEngine(build_chat_model(settings_for(server)), server.base_url)
        response = seeded.ask("Who represented the United States at the Geneva talks?")
        refused = seeded.ask("Who won the 2018 FIFA World Cup?")
    assert response.engine == "openai" and not response.refused and response.citations
    for citation in response.citations:
        assert seeded.source_text(citation.doc)[citation.start : citation.end] == citation.text
    assert refused.refused and refused.citations == []


def test_dev_eval_through_the_server(seeded) -> None:
    with FakeOpenAIServer(responder=overlap_responder) as server:
        seeded._engine = LLMEngine(build_chat_model(settings_for(server)), server.base_url)
        scores = run_eval(seeded, load_items(DEV_EVAL))
    assert scores["items"] == 11
    assert scores["refusal_accuracy"] == 1.0 and scores["false_refusals"] == 0.0
    assert scores["gold_retrieved@5"] >= 0.9
    assert scores["citation_precision"] >= 0.5
    assert any(GENEVA in str(r) for r in server.requests)


def test_empty_reply_from_a_server_is_a_refusal() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue("")
        draft = LLMEngine(build_chat_model(settings_for(server))).answer("Who?", PASSAGES)
    assert draft.refused
