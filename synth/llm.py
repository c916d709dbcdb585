"""An LLM as a proposer (optional): asked for the function, given the components' declarations and
contracts and the spec's examples; its answer is parsed, type-checked, run and judged exactly like an
enumerated candidate, and what went wrong is sent back once before enumeration takes over.

Configured only by the environment, and never contacted otherwise:

    CIRC_LLM_URL      an OpenAI-compatible endpoint: `{url}/chat/completions`, or that URL itself
    CIRC_LLM_MODEL    the `model` field of the request (default: "default")
    CIRC_LLM_KEY      sent as `Authorization: Bearer …` when set
    CIRC_LLM_TIMEOUT  seconds per request (default 60)

The client is the standard library's `urllib` (one POST of a JSON body per round; no dependency).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from circ.lang import ast
from circ.lang.diagnostics import CircError, render
from circ.lang.errors import UserError
from circ.lang.layout import format_value
from circ.lang.parser import parse
from circ.synth.accept import Verdict
from circ.synth.space import Component
from circ.synth.spec import Spec, source_text

ROUNDS = 2  # the first answer, then one more after the diagnostics are fed back

SYSTEM = """You write programs in circ, a small typed language whose primitives are learned neural \
circuits. A function body is `{ let x = e; ... e }`: expressions are calls of the declared circuits \
and functions, `if c then a else b`, tuples `(a, b)` and projections `t.0`, indexing with numbers \
written in the program (`xs[2]`, `g[1, 3]`), and the combinators map(f, xs), zip_with(f, xs, ys), \
fold(f, init, xs) (over a Seq, or a Grid cell by cell, f(accumulator, element)) and compose(f, g) \
(x -> f(g(x))). Functions are passed by name; there are no lambdas. Operators (+, ==, and, ...) are \
allowed only in contracts: a body computes with circuits. Grid[h, w] is indexed g[row, column]. \
Answer with one ```circ code block holding the requested fn (helper fns may follow it)."""


class LLMError(UserError):
    """The configured endpoint could not be used; synthesis goes on without it."""


@dataclass(frozen=True)
class ChatEndpoint:
    url: str
    model: str = "default"
    key: str | None = None
    timeout: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChatEndpoint | None:
        """The endpoint `CIRC_LLM_URL` names, or None when it is unset (nothing is ever contacted)."""
        env = os.environ if environ is None else environ
        url = env.get("CIRC_LLM_URL", "").strip()
        if not url:
            return None
        try:
            timeout = float(env.get("CIRC_LLM_TIMEOUT", "60"))
        except ValueError:
            raise LLMError(f"CIRC_LLM_TIMEOUT: expected seconds, got {env['CIRC_LLM_TIMEOUT']!r}") from None
        return cls(url, env.get("CIRC_LLM_MODEL") or "default", env.get("CIRC_LLM_KEY") or None, timeout)

    @property
    def completions_url(self) -> str:
        url = self.url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/chat/completions"

    def complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion: the first choice's message text."""
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.completions_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise LLMError(f"CIRC_LLM_URL ({self.completions_url}): {exc}") from None
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise LLMError("CIRC_LLM_URL: the reply has no choices[0].message.content") from None
        if not isinstance(content, str):
            raise LLMError("CIRC_LLM_URL: choices[0].message.content is not text")
        return content


def prompt(spec: Spec, components: list[Component]) -> list[dict[str, str]]:
    lines = [
        "Declarations in scope (circuits are learned networks that meet their contracts):",
        "```circ",
        spec.declarations([c.name for c in components]),
        "```",
        "",
        f"Write `{spec.head}` such that:",
    ]
    for example in spec.examples:
        inputs = ", ".join(map(format_value, example.inputs))
        lines.append(f"- {spec.name}({inputs}) == {format_value(example.output)}")
    for contract in spec.decl.contracts:
        lines.append(f"- {source_text(spec.text, contract.span)}")
    lines.append("Reply with the function in one ```circ code block.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def code_blocks(reply: str) -> list[str]:
    """The fenced code blocks of a reply (any language tag), else the whole reply."""
    blocks = re.findall(r"```[A-Za-z0-9_-]*\n(.*?)```", reply, flags=re.DOTALL)
    return blocks or [reply]


def as_program(spec: Spec, code: str) -> tuple[str | None, str]:
    """The spec file with the proposed function's body (helper functions after it), or why not."""
    try:
        module = parse(code, "<llm>")
    except CircError as exc:
        return None, "\n".join(render(d, {"<llm>": code}) for d in exc.diagnostics)
    fns = [item for item in module.items if isinstance(item, ast.FnDecl)]
    main = next((f for f in fns if f.name == spec.name), fns[0] if len(fns) == 1 else None)
    if main is None:
        return None, f"the reply has no `fn {spec.name}`"
    helpers = "\n\n".join(source_text(code, f.span) for f in fns if f is not main)
    params = [p.name for p in main.params]
    if params != [name for name, _ in spec.params]:
        return None, f"`{spec.name}` must take exactly ({', '.join(n for n, _ in spec.params)})"
    return spec.with_body(source_text(code, main.body.span), helpers + "\n" if helpers else ""), ""


def propose(
    spec: Spec,
    components: list[Component],
    accept: Callable[[str], Verdict],
    endpoint: ChatEndpoint,
    rounds: int = ROUNDS,
) -> tuple[str | None, list[str]]:
    """An accepted program from the LLM, or None; and notes on what happened, for the report."""
    messages = prompt(spec, components)
    notes: list[str] = []
    for round_ in range(1, rounds + 1):
        try:
            reply = endpoint.complete(messages)
        except LLMError as exc:
            notes.append(f"LLM: {exc}; enumerating instead")
            return None, notes
        problems = []
        for code in code_blocks(reply):
            program, problem = as_program(spec, code)
            if program is None:
                problems.append(problem)
                continue
            verdict = accept(program)
            if verdict.accepted:
                notes.append(f"LLM: round {round_}'s proposal accepted")
                return program, notes
            problems.append(f"{verdict.verdict}:\n" + "\n".join(verdict.checks))
        notes.append(f"LLM: round {round_}'s proposal rejected ({problems[0].splitlines()[0]})")
        feedback = "That does not work:\n\n" + "\n\n".join(problems) + "\n\nReply with a corrected function."
        messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": feedback}]
    notes.append("LLM: no accepted proposal; enumerating instead")
    return None, notes
