"""Several users at once on one shared pipeline (as the app shares it between sessions):
two keep asking while a third uploads documents. Bounded loops, loopback only."""

from __future__ import annotations

import threading

from rag.types import Response

QUESTIONS = ["Who represented the United States at the Geneva talks?",
             "Between which two defence ministers did Antonov want contacts?"]
ROUNDS = 6


def test_two_askers_and_an_uploader(seeded) -> None:
    expected = {q: seeded.ask(q) for q in QUESTIONS}
    answers: dict[str, list[Response]] = {q: [] for q in QUESTIONS}
    errors: list[BaseException] = []
    uploaded: list[str] = []

    def asker(question: str) -> None:
        try:
            for _ in range(ROUNDS):
                answers[question].append(seeded.ask(question))
        except BaseException as exc:  # surfaced below, with the thread's failure
            errors.append(exc)

    def uploader() -> None:
        try:
            for i in range(ROUNDS):
                text = f"Note {i}: the zebra census counted {1000 + i} animals in Kenya."
                result = seeded.ingest_bytes(f"note-{i}.txt", text.encode())
                assert result.status == "added", result
                uploaded.append(result.name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=asker, args=(q,)) for q in QUESTIONS]
    threads.append(threading.Thread(target=uploader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    for question, responses in answers.items():
        assert len(responses) == ROUNDS
        # the uploads are about zebras: they must not change answers about Geneva
        assert {r.answer for r in responses} == {expected[question].answer}
        assert all(r.citations == expected[question].citations for r in responses)
    assert sorted(uploaded) == [f"note-{i}.txt" for i in range(ROUNDS)]
    assert {d.name for d in seeded.documents()} >= set(uploaded)
    census = seeded.ask("How many animals did the zebra census count in Kenya?")
    assert not census.refused and "zebra" in census.answer
