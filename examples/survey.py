"""SURVEYOR/RESPONDENT: ask every connected respondent at once and gather the answers.

A survey goes to the respondents connected when it is sent; answers are taken until the
deadline (``surveyor_deadline``, in ms), after which ``recv`` raises ``nn.Timeout``. Answers to
an older survey are dropped. Respondents connect in the background, so a survey that comes too
early misses some of them: this one asks again until all have answered.
Run: ``python examples/survey.py``.
"""

from __future__ import annotations

import tempfile
import threading

import nanomsg_rs as nn

VOTES = {"alice": "yes", "bob": "no", "carol": "yes"}


def respond(name: str, respondent: nn.Socket) -> None:
    """Answers every survey with ``name``'s vote, until the socket is closed."""
    try:
        while True:
            question = respondent.recv()
            respondent.send(f"{name}: {VOTES[name]} to {question.decode()}")
    except nn.Closed:
        pass


def take_survey(surveyor: nn.Socket, question: bytes) -> list[bytes]:
    """Sends ``question`` and returns the answers that came before the deadline."""
    surveyor.send(question)
    answers = []
    while True:
        try:
            answers.append(surveyor.recv())
        except nn.Timeout:  # the deadline passed: the survey is over
            return answers


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, nn.Socket("surveyor") as surveyor:
        address = f"ipc://{tmp}/survey.ipc"
        surveyor.bind(address)
        surveyor.surveyor_deadline = 500  # ms to collect answers

        respondents = [nn.Socket("respondent") for _ in VOTES]
        threads = [
            threading.Thread(target=respond, args=(name, sock))
            for name, sock in zip(VOTES, respondents, strict=True)
        ]
        for sock, thread in zip(respondents, threads, strict=True):
            sock.connect(address)
            thread.start()
        try:
            for attempt in range(1, 11):
                answers = take_survey(surveyor, b"lunch at noon?")
                if len(answers) == len(VOTES):
                    break
                print(f"survey {attempt}: {len(answers)} answers, asking again")
        finally:
            for sock in respondents:
                sock.close()
            for thread in threads:
                thread.join()

        for answer in sorted(answers):
            print(answer.decode())
        print(f"survey: {len(answers)} of {len(VOTES)} respondents answered")


if __name__ == "__main__":
    main()
