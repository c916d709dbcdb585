"""The LLM proposer against a stub that speaks the OpenAI chat-completions protocol on loopback: its
answers are parsed, checked and judged like enumerated ones, diagnostics go back once, and the
search falls back to enumeration when the LLM fails or cannot be reached."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from circ.synth.llm import ChatEndpoint, as_program, code_blocks, propose
from circ.synth.problems import Problem
from circ.synth.search import Budget
from circ.synth.synthesize import synthesize

GRIDS = ("grids", "colors")
GRID = "(g: Grid[5, 5]) -> Grid[5, 5]"
PROBLEM = Problem("solve", GRIDS, GRID, "map(color_succ, rot90(g))", 3)


class Stub:
    """A chat-completions endpoint answering from a script; it records every request."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append((self.path, body))
                answer = stub.answers[min(len(stub.requests), len(stub.answers)) - 1]
                reply = {
                    "id": "stub",
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}],
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    made: list[Stub] = []

    def make(answers: list[str]) -> Stub:
        made.append(Stub(answers))
        return made[-1]

    yield make
    for s in made:
        s.close()


def proposer(endpoint: ChatEndpoint):
    return lambda spec, components, accept: propose(spec, components, accept, endpoint)


def fenced(code: str) -> str:
    return f"Here is the function:\n```circ\n{code}\n```\n"


def test_the_llm_path_feeds_diagnostics_back_once_and_its_program_is_judged(stub, make_spec, catalog) -> None:
    server = stub(
        [
            fenced("fn solve(g: Grid[5, 5]) -> Grid[5, 5] { map(color_succ, rot91(g)) }"),
            fenced("fn solve(g: Grid[5, 5]) -> Grid[5, 5] {\n  let t = rot90(g);\n  map(color_succ, t)\n}"),
        ]
    )
    endpoint = ChatEndpoint.from_env({"CIRC_LLM_URL": server.url, "CIRC_LLM_MODEL": "stub-model"})
    result = synthesize(make_spec(PROBLEM), catalog, Budget(6, 60), proposer=proposer(endpoint))
    assert result.found and result.source == "llm", result.notes
    assert "let t = rot90(g);" in result.program and result.verdict.verdict == "certified"
    assert [path for path, _ in server.requests] == ["/v1/chat/completions"] * 2
    first, second = (body for _, body in server.requests)
    assert first["model"] == "stub-model" and [m["role"] for m in first["messages"]] == ["system", "user"]
    prompt = first["messages"][1]["content"]
    assert "circuit rot90(g: Grid[5, 5]) -> Grid[5, 5]" in prompt and "solve([[" in prompt
    feedback = second["messages"][-1]["content"]
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert "unknown function `rot91`" in feedback and "did you mean `rot90`?" in feedback


def test_a_wrong_llm_falls_back_to_enumeration_after_one_round_of_feedback(stub, make_spec, catalog) -> None:
    wrong = fenced("fn solve(g: Grid[5, 5]) -> Grid[5, 5] { rot90(g) }")  # checks, but breaks the examples
    server = stub([wrong, wrong])
    endpoint = ChatEndpoint(server.url)
    result = synthesize(make_spec(PROBLEM), catalog, Budget(6, 60), proposer=proposer(endpoint), verify=False)
    assert result.found and result.source == "enumeration"
    assert len(server.requests) == 2
    assert "example 1: solve(" in server.requests[1][1]["messages"][-1]["content"]
    assert result.notes[-1] == "LLM: no accepted proposal; enumerating instead"


def test_an_unreachable_endpoint_is_a_note_not_a_failure(make_spec, catalog) -> None:
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = ChatEndpoint(f"http://127.0.0.1:{port}", timeout=5)
    result = synthesize(make_spec(PROBLEM), catalog, Budget(6, 60), proposer=proposer(endpoint), verify=False)
    assert result.found and result.source == "enumeration"
    assert any(note.startswith("LLM: CIRC_LLM_URL (http://127.0.0.1:") for note in result.notes)


def test_nothing_is_configured_without_the_variable() -> None:
    assert ChatEndpoint.from_env({}) is None
    assert ChatEndpoint.from_env({"CIRC_LLM_URL": "http://x/v1/chat/completions"}).completions_url == (
        "http://x/v1/chat/completions"
    )


def test_replies_are_read_from_code_blocks_with_the_specs_own_signature(make_spec) -> None:
    spec = make_spec(PROBLEM)
    assert code_blocks("```\nfn a() -> Bool { true }\n```\ntext\n```circ\nfn b() -> Bool { false }\n```") == [
        "fn a() -> Bool { true }\n",
        "fn b() -> Bool { false }\n",
    ]
    program, problem = as_program(spec, "fn solve(x: Grid[5, 5]) -> Grid[5, 5] { x }")
    assert program is None and problem == "`solve` must take exactly (g)"
    program, problem = as_program(spec, "fn solve(g: Grid[5, 5]) -> Grid[5, 5] {")
    assert program is None and "error: expected" in problem
