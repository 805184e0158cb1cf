"""The generative engine with LangChain's fake chat model, and end to end with the real
`openai` client against a local OpenAI-compatible server (tests/fake_openai_server.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from rag.config import load_settings
from rag.engines import build_engine
from rag.engines.base import REFUSAL
from rag.engines.llm import OPENAI_URL, LLMEngine, _groups, build_chat_model, where
from rag.errors import ModelUnavailable
from rag.evaluation import load_items, run_eval
from rag.types import Passage, Turn

from app_server import free_port
from conftest import DEV_EVAL, GENEVA
from fake_openai_server import FakeOpenAIServer, overlap_responder

PASSAGES = [Passage("a.txt", 0, 30, 1.0, "Wendy Sherman led the talks."),
            Passage("b.txt", 5, 40, 0.5, "Ryabkov spoke for Russia in Geneva.")]


class RecordingFake(GenericFakeChatModel):
    """LangChain's scripted fake, keeping the prompt of every call."""

    prompts: list[str] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.prompts.append(str(messages[-1].content))
        return super()._generate(messages, *args, **kwargs)


def fake(*replies: str) -> RecordingFake:
    return RecordingFake(messages=iter(AIMessage(content=r) for r in replies))


def units(count: int, chars: int = 90) -> list[Passage]:
    return [Passage("d.txt", i * 100, i * 100 + chars, 1.0, f"Fact {i}. ".ljust(chars, "x"))
            for i in range(count)]


# --- with a fake chat model --------------------------------------------------------------

def test_answer_streams_and_keeps_markers() -> None:
    pieces: list[str] = []
    model = fake("Sherman led them [1]. Ryabkov spoke [2].")
    draft = LLMEngine(model).answer("Who led?", PASSAGES, pieces.append)
    assert draft.text == "Sherman led them [1]. Ryabkov spoke [2]."
    assert draft.sources == PASSAGES and not draft.refused
    assert len(pieces) > 1 and "".join(pieces) == draft.text
    prompt = model.prompts[0]
    assert '[1] (from a.txt)\n"""\nWendy Sherman led the talks.\n"""' in prompt
    assert '[2] (from b.txt)' in prompt and "[3]" not in prompt
    assert "Question: Who led?" in prompt and REFUSAL in prompt


@pytest.mark.parametrize("reply", [
    REFUSAL, "The documents don't say who won.", "The documents do not say.",
    "The documents don\u2019t say.", "the documents don't say. Sherman led the talks [1].",
    "The passages do not mention the cup.", "   \n"])  # "" is below, via the server
def test_refusals_are_recognised(reply: str) -> None:
    draft = LLMEngine(fake(reply)).answer("Who won the cup?", PASSAGES)
    assert draft.refused and draft.text == REFUSAL and draft.sources == []


@pytest.mark.parametrize("reply", [
    "The documents don't say who won, but Sherman led the talks [1].",
    "Sherman led the talks [1]; the documents don't say why.",
    "Sherman led the talks [1]."])
def test_answers_with_markers_are_not_refusals(reply: str) -> None:
    draft = LLMEngine(fake(reply)).answer("Who led?", PASSAGES)
    assert not draft.refused and draft.text == reply and draft.sources == PASSAGES


def test_no_passages_refuses_without_calling_the_model() -> None:
    model = fake()  # an empty script: any call would raise StopIteration
    assert LLMEngine(model).answer("Anything?", []) == LLMEngine(model).summarize([])
    assert LLMEngine(model).answer("Anything?", []).refused and model.prompts == []


def test_condense_uses_history_only_when_there_is_some() -> None:
    model = fake("What does Ryabkov want NATO to do?\n(He is Russia's deputy minister.)", " ")
    engine = LLMEngine(model)
    assert engine.condense([], "What does he want?") == "What does he want?"
    assert model.prompts == []
    history = [Turn("Who is Sergei Ryabkov?", "Russia's deputy foreign minister [1].")]
    assert engine.condense(history, "What does he want?") == "What does Ryabkov want NATO to do?"
    assert "User: Who is Sergei Ryabkov?" in model.prompts[0]
    assert "Assistant: Russia's deputy foreign minister." in model.prompts[0]  # no marker
    assert "Follow-up question: What does he want?" in model.prompts[0]
    assert engine.condense(history, "And then?") == "And then?"  # blank reply: unchanged


def test_single_batch_summary_streams_the_map_step() -> None:
    model = fake("Facts zero to two [1][3].")
    pieces: list[str] = []
    draft = LLMEngine(model).summarize(units(3), "Be short.", pieces.append)
    assert draft.text == "Facts zero to two [1][3]." and draft.sources == units(3)
    assert len(model.prompts) == 1 and "".join(pieces) == draft.text
    assert "Be short." in model.prompts[0] and "[3] (from d.txt)" in model.prompts[0]


def test_map_reduce_summary_numbers_passages_globally_and_keeps_markers() -> None:
    model = fake("Facts zero to two [1][3].", "Facts three to five [4][6].",
                 "All six facts [1][3][4][6].")
    pieces: list[str] = []
    draft = LLMEngine(model, batch_chars=300).summarize(units(6), on_token=pieces.append)
    assert draft.text == "All six facts [1][3][4][6]." and draft.sources == units(6)
    assert "".join(pieces) == draft.text  # only the reduce step streams
    first_map, second_map, reduce = model.prompts
    assert "[1] (from d.txt)" in first_map and "[3] (from d.txt)" in first_map
    assert "[4] (from d.txt)" not in first_map
    assert "[4] (from d.txt)" in second_map and "[6] (from d.txt)" in second_map
    assert "[1] (from" not in second_map  # global numbers, not restarted per batch
    assert "Facts zero to two [1][3].\n\nFacts three to five [4][6]." in reduce


def test_many_partial_summaries_are_reduced_in_rounds() -> None:
    # 8 units of 90 chars at 100 chars a batch: 8 maps; partials of ~40 chars at 200 a
    # reduce: 8 -> 2 -> 1 merges.
    replies = [f"Partial summary number {i} of the facts [{i + 1}]." for i in range(8)]
    model = fake(*replies, "First half [1][4].", "Second half [5][8].", "All [1][8].")
    draft = LLMEngine(model, batch_chars=100).summarize(units(8))
    assert draft.text == "All [1][8]." and len(model.prompts) == 11
    assert "First half [1][4].\n\nSecond half [5][8]." in model.prompts[-1]


@pytest.mark.parametrize(("sizes", "budget", "at_least", "expected"), [
    ([], 10, 1, [(0, 0)]),
    ([5], 10, 1, [(0, 1)]),
    ([4, 4, 4], 10, 1, [(0, 2), (2, 3)]),
    ([20, 3, 20], 10, 1, [(0, 1), (1, 2), (2, 3)]),  # oversized items go alone
    ([20, 20, 20], 10, 2, [(0, 2), (2, 3)]),  # but in twos when a round must shrink
])
def test_groups(sizes: list[int], budget: int, at_least: int,
                expected: list[tuple[int, int]]) -> None:
    assert [(r.start, r.stop) for r in _groups(sizes, budget, at_least)] == expected


# --- with the real openai client against a local server ---------------------------------

def settings_for(server: FakeOpenAIServer, **overrides: Any):
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
    assert draft.text == "Wendy Sherman led the talks [1]." and not draft.refused
    assert "".join(pieces) == draft.text and (len(pieces) > 1) == streaming
    assert len(server.requests) == 1 and server.requests[0]["model"] == "fake-model"
    assert bool(server.requests[0].get("stream")) == streaming
    assert "Wendy Sherman led the talks." in server.prompts[0]


def test_map_reduce_through_the_server() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue("Zero to two [1][3].", "Three to five [4][6].", "All [1][6].")
        engine = LLMEngine(build_chat_model(settings_for(server)), batch_chars=300)
        draft = engine.summarize(units(6))
    assert draft.text == "All [1][6]." and len(server.requests) == 3
    assert "[4] (from d.txt)" in server.prompts[1] and "Three to five [4][6]." in server.prompts[2]


@pytest.mark.parametrize(("status", "words"), [
    (401, "rejected the API key"), (429, "is rate-limiting requests"),
    (404, "has no model named 'fake-model'"), (500, r"failed \(500: Scripted failure\)"),
    (503, r"failed \(503")])
def test_server_errors_become_one_clear_sentence(status: int, words: str) -> None:
    with FakeOpenAIServer(fail_with=status) as server:
        engine = LLMEngine(build_chat_model(settings_for(server)))
        with pytest.raises(ModelUnavailable, match=f"^The model server at {server.base_url} "
                                                   f"{words}") as caught:
            engine.answer("Who?", PASSAGES)
    message = str(caught.value)
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0


def test_unreachable_server() -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    engine = LLMEngine(build_chat_model(load_settings(engine="openai", openai_base_url=closed)))
    with pytest.raises(ModelUnavailable) as caught:
        engine.condense([Turn("Who?", "Sherman [1].")], "And he?")
    assert str(caught.value) == f"Cannot reach the model server at {closed}: connection refused."


@pytest.mark.parametrize(("delay", "stall"), [(3.0, 0.0), (0.0, 3.0)])
def test_timeouts_before_and_during_the_stream(delay: float, stall: float) -> None:
    with FakeOpenAIServer(delay=delay, stall=stall) as server:
        server.enqueue("Wendy Sherman led the talks [1].", "Wendy Sherman led the talks [1].")
        engine = LLMEngine(build_chat_model(settings_for(server, openai_timeout=0.5)))
        with pytest.raises(ModelUnavailable) as caught:
            engine.answer("Who?", PASSAGES)
    assert str(caught.value) == (f"The model server at {server.base_url} did not answer "
                                 "within 0.5 seconds.")


def test_settings_choose_the_server_and_key() -> None:
    with pytest.raises(ModelUnavailable, match=r"^Set CITECHAT_OPENAI_API_KEY"):
        build_chat_model(load_settings(engine="openai"))
    real = load_settings(engine="openai", openai_api_key="sk-test")
    assert build_chat_model(real).openai_api_base == where(real) == OPENAI_URL
    local = load_settings(engine="openai", openai_base_url="http://127.0.0.1:1/v1")
    model = build_chat_model(local)
    assert model.openai_api_key.get_secret_value() == "not-needed"
    assert model.max_retries == 1 and model.streaming and where(local) == model.openai_api_base


def test_fake_server_lists_models_and_rejects_other_paths() -> None:
    with FakeOpenAIServer() as server:
        with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as reply:
            assert json.load(reply)["data"][0]["object"] == "model"
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"{server.base_url}/completions", data=b"{}", timeout=5)
    assert server.requests == []


def test_empty_reply_from_a_server_is_a_refusal() -> None:
    with FakeOpenAIServer() as server:
        server.enqueue("")
        draft = LLMEngine(build_chat_model(settings_for(server))).answer("Who?", PASSAGES)
    assert draft.refused


def test_a_selector_shows_the_model_extracts_and_refuses_for_it(embedder) -> None:
    from rag.selection import Selector

    text = ("Wendy Sherman led the U.S. delegation. Cats sleep a lot.\n\n"
            "The talks were held in Geneva in January.")
    passages = [Passage("a.txt", 10, 10 + len(text), 1.0, text)]
    model = fake("Sherman led it [1].")
    engine = LLMEngine(model, selector=Selector(embedder))
    draft = engine.answer("Who led the U.S. delegation?", passages)
    assert not draft.refused and draft.sources
    assert draft.sources[0].text.startswith("Wendy Sherman led the U.S. delegation.")
    for source in draft.sources:
        assert text[source.start - 10 : source.end - 10] == source.text
    assert "[1] (from a.txt)" in model.prompts[0]
    refused = engine.answer("What did Emmanuel Macron propose?", passages)
    assert refused.refused and len(model.prompts) == 1  # refused without asking the model


# --- the whole pipeline through the server ----------------------------------------------

def test_pipeline_ask_through_the_server(seeded) -> None:
    with FakeOpenAIServer(responder=overlap_responder) as server:
        seeded._engine = LLMEngine(build_chat_model(settings_for(server)))
        response = seeded.ask("Who represented the United States at the Geneva talks?")
        refused = seeded.ask("Who won the 2018 FIFA World Cup?")
    assert response.engine == "openai" and not response.refused and response.citations
    for citation in response.citations:
        assert seeded.source_text(citation.doc)[citation.start : citation.end] == citation.text
    assert refused.refused and refused.citations == ()


def test_dev_eval_through_the_server(seeded) -> None:
    with FakeOpenAIServer(responder=overlap_responder) as server:
        seeded._engine = build_engine(settings_for(server), seeded.embedder)
        scores = run_eval(seeded, load_items(DEV_EVAL))
    assert scores["items"] == 11
    assert scores["refusal_accuracy"] == 1.0 and scores["false_refusals"] == 0.0
    assert scores["gold_in_context"] >= 0.9  # the engine reads the whole context
    assert scores["citation_precision"] >= 0.5
    assert any(GENEVA in str(r) for r in server.requests)


def test_openai_embedder_asks_the_service_once_per_distinct_question() -> None:
    """Retrieval (once per document for a question about several) and the answer engine
    all embed the same question: with a remote embedding service each is a request."""
    from rag.embedding import OpenAIEmbedder

    asked: list[list[str]] = []

    class Service:  # stands in for the embedding model behind langchain-openai
        fail = True

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            asked.append(list(texts))
            if self.fail:
                self.fail = False
                raise ConnectionError("connection refused")
            return [[float(len(text)), 1.0] for text in texts]

    embedder = OpenAIEmbedder(load_settings(embedding="openai",
                                            openai_base_url=f"http://127.0.0.1:{free_port()}/v1"))
    embedder._client = Service()
    with pytest.raises(ModelUnavailable):
        embedder.embed_query("Who?")
    first, again, other = (embedder.embed_query(q) for q in ("Who?", "Who?", "When?"))
    assert asked == [["Who?"], ["Who?"], ["When?"]]  # a failure is not remembered
    assert first.tolist() == again.tolist() == [4.0, 1.0] and other.tolist() == [5.0, 1.0]
