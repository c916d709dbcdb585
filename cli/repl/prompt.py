"""The REPL's line editor (prompt_toolkit): `.circ` highlighting, completion of the names in scope
with their types (and of catalog names inside `learned "…"`), multi-line input, a history file.

Enter submits an input once it is complete — brackets balanced, and a `fn` closed by its `}` or a
`circuit` by its `;` — and otherwise starts a new line; an empty line submits whatever is there (so a
mistake never traps you in continuation lines). Ctrl-C cancels the input, Ctrl-D on an empty line ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output

from circ.highlight import CircLexer

COMMANDS = {
    ":help": "what the REPL understands",
    ":type": ":type EXPR — its type, without running it",
    ":trace": ":trace EXPR — run it and show every circuit call",
    ":graph": ":graph EXPR|FN [--png FILE] — the lowered dataflow graph",
    ":verify": ":verify FN — prove, property-test and check the circuits of FN",
    ":catalog": ":catalog [PATTERN] — catalogued circuits",
    ":example": ":example NAME=VALUE — the running example of parameters called NAME",
    ":load": ":load FILE — bring a file's declarations into scope",
    ":reload": ":reload — read the loaded file again",
    ":quit": ":quit — leave (or Ctrl-D)",
}
_LEARNED = re.compile(r'learned\s+"([\w.\-]*)$')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_PAIRS = {")": "(", "]": "[", "}": "{"}


def complete_input(text: str) -> bool:
    """Whether Enter should submit `text`: brackets balanced outside strings and comments, a `fn`
    ended by `}`, a `circuit` by `;`."""
    stack: list[str] = []
    code = re.sub(r'"[^"\n]*"|#[^\n]*', "", text)
    for char in code:
        if char in "([{":
            stack.append(char)
        elif char in _PAIRS and (not stack or stack.pop() != _PAIRS[char]):
            return True  # unbalanced the other way: submit and let the parser say where
    if stack or '"' in code:
        return False
    words = code.split()
    if not words:
        return True
    end = code.rstrip()[-1]
    if words[0] == "fn":
        return end == "}"
    if words[0] == "circuit":
        return end == ";"
    return True


class CircCompleter(Completer):
    """Names in scope (with what they are) and, inside `learned "…"`, catalog names."""

    def __init__(self, names: Callable[[], dict[str, str]], catalog_names: Callable[[], list[str]]) -> None:
        self.names = names
        self.catalog_names = catalog_names

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        learned = _LEARNED.search(before)
        if learned:
            typed = learned.group(1)
            for name in self.catalog_names():
                if name.startswith(typed):
                    yield Completion(name, -len(typed), display_meta="catalog")
            return
        if before.lstrip().startswith(":") and " " not in before.lstrip():
            typed = before.lstrip()
            for command, meta in COMMANDS.items():
                if command.startswith(typed):
                    yield Completion(command, -len(typed), display_meta=meta)
            return
        word = _WORD.search(before)
        typed = word.group(0) if word else ""
        if not typed:
            return
        for name, meta in sorted(self.names().items()):
            if name.startswith(typed) and not name.startswith("__"):
                yield Completion(name, -len(typed), display_meta=meta)


def _bindings() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        text = buffer.text
        last_line_empty = buffer.document.current_line.strip() == "" and "\n" in text
        if complete_input(text) or last_line_empty:
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    return keys


def history_file(data_dir: Path) -> History:
    """The REPL's history in the per-user data dir (kept in memory when that is not writable)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "repl_history"
        path.touch(exist_ok=True)
        return FileHistory(str(path))
    except OSError:
        return InMemoryHistory()


def make_prompt(
    completer: Completer, history: History, input: Input | None = None, output: Output | None = None
) -> PromptSession:
    return PromptSession(
        message="circ> ",
        multiline=True,
        prompt_continuation=lambda width, line, wrapped: "...   ".rjust(width),
        lexer=PygmentsLexer(CircLexer),
        completer=completer,
        complete_while_typing=False,  # Tab completes; typing never pops a menu over the input
        history=history,
        key_bindings=_bindings(),
        input=input,
        output=output,
    )
