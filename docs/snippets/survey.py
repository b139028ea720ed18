"""SURVEYOR/RESPONDENT: ask every respondent, gather the answers until the deadline."""

import nanomsg_rs as nn

with nn.Socket("surveyor") as surveyor:
    surveyor.bind("inproc://vote")
    surveyor.surveyor_deadline = 300  # ms to collect answers
    respondents = [nn.Socket("respondent") for _ in range(3)]
    for r in respondents:
        r.connect("inproc://vote")
        r.rcvtimeo = 2000

    surveyor.send(b"lunch at noon?")
    for i, r in enumerate(respondents):
        assert r.recv() == b"lunch at noon?"
        r.send(f"respondent {i}: yes")

    answers = []
    while True:
        try:
            answers.append(surveyor.recv())
        except nn.Timeout:  # the deadline passed: the survey is over
            break
    assert sorted(answers) == [f"respondent {i}: yes".encode() for i in range(3)]

    try:
        surveyor.recv()  # no survey in flight any more
    except nn.BadState:
        print("after the deadline: nn.BadState")
    else:
        raise AssertionError("an answer after the survey ended")
    for r in respondents:
        r.close()
    print("survey:", len(answers), "answers")
