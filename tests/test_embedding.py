"""rag/embedding.py: the offline embedder's batching, vectors and shipped tokenizer; the
OpenAI embedder against the local fake server, reading only citechat's settings."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import load_settings
from rag.embedding import MAX_TOKENS, TOKENIZER, OnnxEmbedder, OpenAIEmbedder, build_embedder
from rag.errors import ModelUnavailable

from fake_openai_server import FakeOpenAIServer, bag_of_words

# lengths from a few tokens to past the 256-token limit, shuffled, so batches regroup them
TEXTS = [
    "Sherman led the American delegation.",
    " ".join(["The talks in Geneva went on for hours without agreement."] * 30),
    "Cats.",
    "Ryabkov said the talks were difficult but useful, and that Russia wanted guarantees.",
    "",
    " ".join(["Antonov wanted contacts between the two defence ministers."] * 6),
    "NATO's open door.",
]


def test_batches_keep_each_text_in_its_row(embedder: OnnxEmbedder) -> None:
    small_batches = OnnxEmbedder(tokens_per_batch=16)  # mostly one text per batch
    alone = np.stack([embedder.embed([text])[0] for text in TEXTS])
    for vectors in (embedder.embed(TEXTS), small_batches.embed(TEXTS)):
        assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(vectors, alone, atol=1e-4)
    # rows are told apart, so a shuffled batch could not pass the comparison above
    similarity = alone @ alone.T
    assert (similarity[~np.eye(len(TEXTS), dtype=bool)] < 0.99).all()


def test_the_models_threads_sleep_between_runs(embedder: OnnxEmbedder) -> None:
    options = embedder.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_runs_side_by_side_give_the_vectors_of_one_run_at_a_time() -> None:
    texts = [f"{text} ({n})" for n in range(12) for text in TEXTS]
    side_by_side, one_at_a_time = OnnxEmbedder(threads=2), OnnxEmbedder(threads=1)
    assert side_by_side._runs._max_workers == 2 and one_at_a_time._runs._max_workers == 1
    lengths = [len(e.ids) for e in side_by_side.tokenizer.encode_batch(texts)]
    assert len(side_by_side._batches(lengths)) > 10
    np.testing.assert_array_equal(side_by_side.embed(texts), one_at_a_time.embed(texts))


def test_vectors_are_unit_length_and_an_empty_list_is_empty(embedder: OnnxEmbedder) -> None:
    norms = np.linalg.norm(embedder.embed(TEXTS), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    np.testing.assert_allclose(embedder.embed_query(TEXTS[0]), embedder.embed([TEXTS[0]])[0],
                               atol=1e-5)


def test_related_texts_come_out_closer_than_unrelated_ones(embedder: OnnxEmbedder) -> None:
    question, related, unrelated = embedder.embed([
        "Who led the American delegation in Geneva?",
        "Wendy Sherman headed the US team at the Geneva talks.",
        "Preheat the oven and butter the baking tin."])
    assert question @ related > question @ unrelated + 0.2


def test_the_tokenizer_ships_in_the_package_and_truncates_at_the_models_limit(
        embedder: OnnxEmbedder) -> None:
    assert TOKENIZER.is_file() and (TOKENIZER.parent / "LICENSE").is_file()
    assert "Apache License" in (TOKENIZER.parent / "LICENSE").read_text(encoding="utf-8")
    assert len(embedder.tokenizer.encode(TEXTS[1]).ids) == MAX_TOKENS
    assert embedder.tokenizer.encode("Geneva").tokens == ["[CLS]", "geneva", "[SEP]"]


def test_openai_embedder_asks_the_configured_server_never_openai_base_url(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer() as configured, FakeOpenAIServer() as from_environment:
        monkeypatch.setenv("OPENAI_BASE_URL", from_environment.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
        embedder = build_embedder(load_settings(embedding="openai",
                                                openai_base_url=configured.base_url))
        texts = ["Sherman led the talks", "the talks in Geneva", "baking tins"]
        vectors = embedder.embed(texts)
    assert isinstance(embedder, OpenAIEmbedder)
    np.testing.assert_allclose(vectors, bag_of_words(texts), atol=1e-6)  # rows in order
    assert [body["input"] for body in configured.requests] == [texts]
    assert from_environment.requests == []


def test_openai_embedder_without_a_base_url_goes_to_openai_not_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer() as openai_itself, FakeOpenAIServer() as from_environment:
        monkeypatch.setattr("rag.engines.llm.OPENAI_URL", openai_itself.base_url)
        monkeypatch.setenv("OPENAI_BASE_URL", from_environment.base_url)
        embedder = OpenAIEmbedder(load_settings(embedding="openai", openai_api_key="sk-test"))
        embedder.embed_query("Who led the talks?")
        embedder.embed_query("Who led the talks?")  # remembered: no second request
    assert len(openai_itself.requests) == 1 and from_environment.requests == []


def test_openai_embedder_needs_a_key_or_a_server_of_citechats_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    with pytest.raises(ModelUnavailable, match=r"^Set CITECHAT_OPENAI_API_KEY, or point "
                                               r"CITECHAT_OPENAI_BASE_URL .* openai embeddings"):
        build_embedder(load_settings(embedding="openai"))


@pytest.mark.parametrize(("status", "message"), [
    (401, r"^The embedding server at \S+ rejected the API key \(check CITECHAT_OPENAI_API_KEY\)"),
    (404, r"^The embedding server at \S+ has no model named 'text-embedding-3-small' "
          r"\(check CITECHAT_OPENAI_EMBEDDING_MODEL\)"),
    (500, r"^The embedding server at \S+ failed \(500\)\.$"),
])
def test_openai_embedder_failures_are_one_sentence_naming_the_server(
        status: int, message: str) -> None:
    with FakeOpenAIServer(fail_with=status) as server:
        settings = load_settings(embedding="openai", openai_base_url=server.base_url)
        with pytest.raises(ModelUnavailable, match=message) as caught:
            OpenAIEmbedder(settings).embed(["x"])
    assert server.base_url in str(caught.value) and "\n" not in str(caught.value)


def test_openai_embedder_with_its_server_down_says_it_cannot_reach_it() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url
    embedder = OpenAIEmbedder(load_settings(embedding="openai", openai_base_url=url))
    with pytest.raises(ModelUnavailable, match=rf"^Cannot reach the embedding server at {url}: "):
        embedder.embed(["x"])
