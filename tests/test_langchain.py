"""rag/langchain.py: LangChain's own standard retriever suite over the seeds (embedded and
on a Chroma server), exact spans for any query, `k` and the document filter, async calls
off the event loop, and `citechat_chain` with LangChain's fake chat model."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.errors import CitechatError, ConfigError, DocumentNotFound
from rag.langchain import CitechatRetriever, citechat_chain
from rag.pipeline import Pipeline
from rag.sentences import sentence_spans
from rag.types import Response

from conftest import GENEVA, RUSI, pdf_with_pages

QUESTION = "Who represented the United States at the Geneva talks?"
METADATA = {"doc", "title", "start", "end", "score"}
# for tests of what is the same whatever the store: the seeds in a data directory only
EMBEDDED_ONLY = pytest.mark.parametrize("mode", ["embedded"])


class TestStandardRetrieverSuite(RetrieversIntegrationTests):
    """langchain-tests' RetrieversIntegrationTests, unchanged, over the seeds; each
    retriever is built from settings as a user would, not handed a pipeline."""

    @pytest.fixture(autouse=True)
    def _over_seeds(self, seeded: Pipeline) -> None:
        store = seeded.settings
        self.store_settings = {"data_dir": store.data_dir, "collection": store.collection,
                               "chroma_url": store.chroma_url}

    @property
    def retriever_constructor(self) -> type[CitechatRetriever]:
        return CitechatRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self.store_settings

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


# --- exact spans, k and the document filter -----------------------------------------------

def check_documents(pipeline: Pipeline, found: list[Document]) -> None:
    """Each document is the exact span its metadata names, titled as its source is."""
    titles = {info.name: info.title for info in pipeline.documents()}
    for document in found:
        meta = document.metadata
        assert set(meta) >= METADATA and isinstance(meta["score"], float)
        source = pipeline.source_text(meta["doc"])
        assert source[meta["start"]:meta["end"]] == document.page_content
        assert meta["title"] == titles[meta["doc"]]


SEED_WORDS = ["Geneva", "Sherman", "Ryabkov", "NATO", "Ukraine", "Shoygu", "Mattis",
              "talks", "Russia", "divorce", "Kommersant", "who", "when", "each", "articles"]
QUERIES = st.one_of(
    st.lists(st.sampled_from(SEED_WORDS), min_size=1, max_size=6).map(" ".join),
    st.text(min_size=0, max_size=60))
FILTERS = st.sampled_from([None, [GENEVA], [RUSI], [GENEVA, RUSI]])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERIES, k=st.integers(1, 8), docs=FILTERS)
def test_every_document_slices_its_source(seeded: Pipeline, query: str, k: int,
                                          docs: list[str] | None) -> None:
    retriever = CitechatRetriever(pipeline=seeded, docs=docs)
    found = retriever.invoke(query, k=k)
    check_documents(seeded, found)
    # hybrid retrieval always finds candidates: exactly k for any query with a character
    assert len(found) == (k if query.strip() else 0)
    assert all(d.metadata["doc"] in (docs or [GENEVA, RUSI]) for d in found)
    assert len({d.id for d in found}) == len(found)


def test_k_from_constructor_call_and_settings(seeded: Pipeline) -> None:
    assert len(CitechatRetriever(pipeline=seeded).invoke(QUESTION)) == seeded.settings.k
    retriever = CitechatRetriever(pipeline=seeded, k=2)
    assert retriever.k == 2 and len(retriever.invoke(QUESTION)) == 2
    assert len(retriever.invoke(QUESTION, k=7)) == 7
    everything = retriever.invoke(QUESTION, k=100)  # more than the seeds' chunks
    assert len(everything) == len(seeded.store.table().ids)
    check_documents(seeded, everything)


def test_document_filter_from_constructor_and_call(seeded: Pipeline) -> None:
    only_geneva = CitechatRetriever(pipeline=seeded, docs=[GENEVA], k=8)
    assert {d.metadata["doc"] for d in only_geneva.invoke("Shoygu Mattis Antonov")} == {GENEVA}
    found = only_geneva.invoke("Shoygu Mattis Antonov", docs=[RUSI])
    assert {d.metadata["doc"] for d in found} == {RUSI}
    assert "Shoygu" in found[0].page_content


@EMBEDDED_ONLY
def test_langchain_can_rebuild_it_with_another_k(seeded: Pipeline) -> None:
    from langchain_core.runnables import ConfigurableField

    built = {"pipeline": CitechatRetriever(pipeline=seeded, docs=RUSI),
             "settings": CitechatRetriever(data_dir=seeded.settings.data_dir, docs=[RUSI])}
    for retriever in built.values():
        tunable = retriever.configurable_fields(k=ConfigurableField(id="k"))
        found = tunable.invoke(QUESTION, config={"configurable": {"k": 4}})
        assert len(found) == 4 and {d.metadata["doc"] for d in found} == {RUSI}


@EMBEDDED_ONLY
def test_top_passage_is_the_one_citechat_retrieves(seeded: Pipeline) -> None:
    retriever = CitechatRetriever(data_dir=seeded.settings.data_dir, k=1)
    top = retriever.invoke(QUESTION)[0]
    passage = seeded.retrieve(QUESTION, k=1)[0]
    assert retriever.source_text(passage.doc) == seeded.source_text(passage.doc)
    assert (top.metadata["doc"], top.metadata["start"], top.metadata["end"],
            top.metadata["score"], top.page_content) == \
        (passage.doc, passage.start, passage.end, passage.score, passage.text)
    assert top.metadata["title"] == passage.title != ""  # the seeds' headlines
    assert "pages" not in top.metadata  # plain text has no pages


PAGES = ["Apples grow in the orchard behind the old mill. The harvest is in October.",
         "Zebras live on the open plains of the savanna. They travel in large herds.",
         "Glaciers carve deep valleys into the mountains. They move a few metres a year."]


@EMBEDDED_ONLY
def test_paged_documents_carry_their_pages(make_pipeline) -> None:
    pipeline = make_pipeline(chunk_size=80)
    assert pipeline.ingest_bytes("nature.pdf", pdf_with_pages(*PAGES)).status == "added"
    retriever = CitechatRetriever(pipeline=pipeline, k=1)
    for page, query in enumerate(["apples orchard", "zebras savanna", "glaciers valleys"], 1):
        [top] = retriever.invoke(query)
        assert top.metadata["pages"] == (page, page)
        assert query.split()[0] in top.page_content.lower()
        check_documents(pipeline, [top])


@EMBEDDED_ONLY
@pytest.mark.parametrize("k", [0, -1, 101, "three", 2.5])
def test_bad_k_is_refused(seeded: Pipeline, k: Any) -> None:
    with pytest.raises(ValueError, match="k"):
        CitechatRetriever(pipeline=seeded, k=k)
    with pytest.raises(ConfigError, match="Invalid k"):
        CitechatRetriever(pipeline=seeded).invoke(QUESTION, k=k)


@EMBEDDED_ONLY
def test_bad_arguments_are_refused(seeded: Pipeline) -> None:
    retriever = CitechatRetriever(pipeline=seeded)
    with pytest.raises(DocumentNotFound, match=r"nope\.txt"):
        retriever.invoke(QUESTION, docs=["nope.txt"])
    with pytest.raises(TypeError, match="top_k"):
        retriever.invoke(QUESTION, top_k=3)
    with pytest.raises(ValueError, match="not several"):
        CitechatRetriever(pipeline=seeded, data_dir=seeded.settings.data_dir)
    assert retriever.invoke("   ") == []


@EMBEDDED_ONLY
def test_ainvoke_retrieves_off_the_event_loop(seeded: Pipeline,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    retrieve = seeded.retrieve

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return retrieve(*args, **kwargs)

    monkeypatch.setattr(seeded, "retrieve", recording)
    retriever = CitechatRetriever(pipeline=seeded)

    async def both() -> tuple[list[Document], list[Document], int]:
        found = await asyncio.gather(retriever.ainvoke(QUESTION, k=2),
                                     retriever.ainvoke(QUESTION, docs=[RUSI]))
        return found[0], found[1], threading.get_ident()

    two, rusi, loop_thread = asyncio.run(both())
    assert len(two) == 2 and {d.metadata["doc"] for d in rusi} == {RUSI}
    assert two == retriever.invoke(QUESTION, k=2)
    assert len(threads) == 3 and loop_thread not in threads[:2]


# --- whole answers ------------------------------------------------------------------------

class Recorder(BaseCallbackHandler):
    """What the chat model was sent, and the tokens it streamed back."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.tokens: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.prompts.append(str(messages[0][-1].content))

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


def fake_model(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(AIMessage(content=r) for r in replies))


def first_sentence(text: str) -> str:
    start, end = sentence_spans(text)[0]
    return text[start:end]


@EMBEDDED_ONLY
def test_chain_answers_with_citations_and_checked_claims(seeded: Pipeline) -> None:
    retriever = CitechatRetriever(pipeline=seeded, k=3)
    top = retriever.invoke(QUESTION)[0]
    true, false = first_sentence(top.page_content), "The talks were held on the Moon in 1850."
    chain = citechat_chain(fake_model(f"{true} [1] {false} [1]"), retriever)
    recorder = Recorder()
    response = chain.invoke(QUESTION, config={"callbacks": [recorder]})

    assert isinstance(response, Response) and not response.refused
    assert response.answer.startswith(true) and "[1]" in response.answer
    assert len(response.passages) <= 3
    [citation] = response.citations
    assert citation.doc == top.metadata["doc"] and citation.text in top.page_content
    assert seeded.source_text(citation.doc)[citation.start:citation.end] == citation.text
    verdicts = {claim.sentence: claim.verdict for claim in response.claims}
    assert verdicts == {true: "supported", false: "unsupported"}
    # the prompt is citechat's answer prompt, numbered passages first; tokens streamed
    [prompt] = recorder.prompts
    assert "[3] (from" in prompt and "[4] (from" not in prompt and QUESTION in prompt
    assert prompt.index("[1] (from") < prompt.index(top.page_content) < prompt.index("[2] (from")
    assert len(recorder.tokens) > 1


@EMBEDDED_ONLY
def test_chain_condenses_a_follow_up_from_chat_messages(seeded: Pipeline) -> None:
    standalone = "Who spoke for Russia at the Geneva talks?"
    model = fake_model(standalone, "Sergey Ryabkov spoke for Russia [1].")
    recorder = Recorder()
    chain = citechat_chain(model, CitechatRetriever(pipeline=seeded, docs=[GENEVA]))
    response = chain.invoke(
        {"question": "And for Russia?",
         "history": [HumanMessage(QUESTION), AIMessage("Wendy Sherman [1]."),
                     ("human", "Thanks"), ("ai", "You're welcome.")]},
        config={"callbacks": [recorder]})
    condense_prompt = recorder.prompts[0]
    assert QUESTION in condense_prompt and "Wendy Sherman" in condense_prompt
    assert "You're welcome." in condense_prompt and "[1]" not in condense_prompt
    assert response.question == "And for Russia?"
    assert response.standalone_question == standalone
    assert {p.doc for p in response.passages} == {GENEVA}
    assert [c.doc for c in response.citations] == [GENEVA]


@EMBEDDED_ONLY
def test_chain_refuses_when_the_model_says_the_documents_do_not_say(seeded: Pipeline) -> None:
    chain = citechat_chain(fake_model("The documents don't say."),
                           CitechatRetriever(pipeline=seeded))
    response = asyncio.run(chain.ainvoke({"question": "Who won the 1966 World Cup?"}))
    assert response.refused and response.citations == () and response.claims == ()


@EMBEDDED_ONLY
def test_chain_streams_the_models_tokens_as_events(seeded: Pipeline) -> None:
    chain = citechat_chain(fake_model("Wendy Sherman led the talks for the United States [1]."),
                           CitechatRetriever(pipeline=seeded))

    async def events() -> list[dict[str, Any]]:
        return [event async for event in chain.astream_events(QUESTION, version="v2")]

    seen = asyncio.run(events())
    tokens = [e["data"]["chunk"].content for e in seen if e["event"] == "on_chat_model_stream"]
    assert len(tokens) > 1 and "".join(tokens).startswith("Wendy Sherman")
    [response] = [e["data"]["output"] for e in seen
                  if e["event"] == "on_chain_end" and e["name"] == "citechat"]
    assert isinstance(response, Response) and response.citations


@EMBEDDED_ONLY
def test_chain_without_a_model_uses_the_offline_engine(seeded: Pipeline) -> None:
    chain = citechat_chain(retriever=CitechatRetriever(pipeline=seeded))
    response = chain.invoke(QUESTION)
    assert response.engine == "extractive" and "Sherman" in response.answer
    for citation in response.citations:
        assert seeded.source_text(citation.doc)[citation.start:citation.end] == citation.text


@EMBEDDED_ONLY
@pytest.mark.parametrize("given", [
    42, {"history": []}, {"question": 3}, "", {"question": "Who?", "history": "Sherman"},
    {"question": "Who?", "history": [42]}, {"question": "Who?", "history": [("robot", "x")]},
    {"question": "Who led?", "docs": "nope.txt"}])
def test_chain_refuses_bad_input(seeded: Pipeline, given: Any) -> None:
    chain = citechat_chain(fake_model(), CitechatRetriever(pipeline=seeded))
    with pytest.raises(CitechatError):
        chain.invoke(given)
