"""`circ lsp` driven with real LSP messages: the server runs in a thread on a pipe pair, a small client
frames JSON-RPC as an editor does, and the answers come from the real checker and catalog."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from circ.cli.lsp_server import make_server
from circ.settings import Settings

from support import EXAMPLES

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROGRAM = """use stdlib.modular;

type Z = Mod[97];

fn affine(x: Z, a: Z, b: Z) -> Z
  ensures result == (a * x + b) % 97
{
  let ax = mul(a, x);
  add(ax, b)
}

fn main(x: Z) -> Z { affine(x, 3, 5) }
"""


class Client:
    """Content-Length framed JSON-RPC over two pipes, as an editor speaks it."""

    def __init__(self, to_server, from_server) -> None:
        self.to_server, self.from_server = to_server, from_server
        self.next_id = 0
        self.notifications: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.to_server.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.to_server.flush()

    def read(self) -> dict[str, Any]:
        length = 0
        while (line := self.from_server.readline().strip()) != b"":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.from_server.read(length))

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message["result"]
            if "method" in message:
                self.notifications.append(message)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        """The next diagnostics published for `uri` (after any already read)."""
        while True:
            for i, message in enumerate(self.notifications):
                if message["method"] == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                    del self.notifications[: i + 1]
                    return message["params"]["diagnostics"]
            self.notifications.append(self.read())


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    # the shipped stdlib behind an empty database (a file: the server answers from its own thread)
    catalog = Settings.from_env(db=f"sqlite:///{tmp_path / 'catalog.db'}").open_catalog()
    server = make_server(catalog)
    client_in, server_out = os.pipe()
    server_in, client_out = os.pipe()
    reader, writer = os.fdopen(server_in, "rb"), os.fdopen(server_out, "wb")
    thread = threading.Thread(target=server.start_io, args=(reader, writer), daemon=True)
    thread.start()
    c = Client(os.fdopen(client_out, "wb"), os.fdopen(client_in, "rb"))
    result = c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    assert result["serverInfo"]["name"] == "circ"
    c.notify("initialized", {})
    yield c
    c.request("shutdown", None)
    c.notify("exit", None)
    thread.join(timeout=10)
    catalog.close()


def open_document(client: Client, path: Path, text: str) -> str:
    uri = path.resolve().as_uri()
    item = {"uri": uri, "languageId": "circ", "version": 1, "text": text}
    client.notify("textDocument/didOpen", {"textDocument": item})
    return uri


def at(uri: str, line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def test_diagnostics_on_open_and_on_change(client: Client, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "p.circ", PROGRAM)
    assert client.diagnostics(uri) == []
    broken = PROGRAM.replace("affine(x, 3, 5)", "affine(x, 3, true)")
    change = {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]}
    client.notify("textDocument/didChange", change)
    (found,) = client.diagnostics(uri)
    assert found["message"] == "argument 3 of `affine` should be Mod[97], but this is Bool"
    assert found["severity"] == 1 and found["source"] == "circ"
    assert found["range"] == {"start": {"line": 11, "character": 34}, "end": {"line": 11, "character": 38}}
    unused = PROGRAM.replace("fn main(x: Z)", "fn main(x: Z, y: Z)")
    client.notify("textDocument/didChange", {**change, "contentChanges": [{"text": unused}]})
    (warning,) = client.diagnostics(uri)
    assert warning["severity"] == 2 and "`y` is never used" in warning["message"]


def test_hover_shows_type_contract_and_certificate(client: Client, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "p.circ", PROGRAM)
    client.diagnostics(uri)
    add = client.request("textDocument/hover", at(uri, 8, 3))["contents"]["value"]
    assert "circuit add(a: Mod[97], b: Mod[97]) -> Mod[97]" in add
    assert "ensures result == (a + b) % 97" in add
    assert 'learned "mod97.add@2" (stdlib): task mod_add[p=97]' in add
    assert "certified: 100% of all 9,409 inputs (every input run; fp32 on torch)" in add
    affine = client.request("textDocument/hover", at(uri, 11, 22))["contents"]["value"]
    assert "fn affine(x: Mod[97], a: Mod[97], b: Mod[97]) -> Mod[97]" in affine
    assert "ensures result == (a * x + b) % 97" in affine
    local = client.request("textDocument/hover", at(uri, 8, 7))
    assert "ax: Mod[97]" in local["contents"]["value"]
    assert local["range"]["start"] == {"line": 8, "character": 6}
    assert client.request("textDocument/hover", at(uri, 1, 0)) is None  # a blank line


def test_definition_crosses_modules(client: Client, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "p.circ", PROGRAM)
    client.diagnostics(uri)
    mul = client.request("textDocument/definition", at(uri, 7, 12))
    assert mul["uri"].endswith("/stdlib/modular.circ")
    stdlib = Path(mul["uri"].removeprefix("file://")).read_text().splitlines()
    line = mul["range"]["start"]["line"]
    assert stdlib[line].startswith("circuit mul(")
    affine = client.request("textDocument/definition", at(uri, 11, 22))
    assert affine["uri"] == uri and affine["range"]["start"] == {"line": 4, "character": 3}
    alias = client.request("textDocument/definition", at(uri, 11, 11))
    assert alias["range"]["start"]["line"] == 2
    local = client.request("textDocument/definition", at(uri, 8, 7))
    assert local["range"]["start"] == {"line": 7, "character": 2}  # the `let ax`


def test_completion_of_names_in_scope_and_of_catalog_names(client: Client, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "p.circ", PROGRAM)
    client.diagnostics(uri)
    items = {i["label"]: i for i in client.request("textDocument/completion", at(uri, 8, 2))["items"]}
    assert items["ax"]["detail"] == "Mod[97]" and items["x"]["detail"] == "Mod[97]"
    assert items["mul"]["detail"] == "circuit mul(a: Mod[97], b: Mod[97]) -> Mod[97]"
    assert {"map", "fold", "Z", "Seq", "let"} <= set(items)
    text = PROGRAM + 'circuit mine(a: Z) -> Z learned "mod97.'
    change = {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}
    client.notify("textDocument/didChange", change)
    client.diagnostics(uri)
    last = text.splitlines()[-1]
    names = {i["label"] for i in client.request("textDocument/completion", at(uri, 12, len(last)))["items"]}
    assert {"mod97.add", "mod97.mul", "mod97.sum_squares"} <= names and "color.add" not in names


def test_an_example_with_an_import_error_reports_it(client: Client) -> None:
    path = EXAMPLES / "errors" / "missing_module.circ"
    uri = open_document(client, path, path.read_text())
    (found,) = client.diagnostics(uri)
    assert "cannot find module" in found["message"]


def test_hover_still_works_in_a_file_with_a_type_error(client: Client, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "p.circ", PROGRAM.replace("affine(x, 3, 5)", "affine(x, 3, true)"))
    assert len(client.diagnostics(uri)) == 1
    add = client.request("textDocument/hover", at(uri, 8, 3))["contents"]["value"]
    assert "circuit add(a: Mod[97], b: Mod[97]) -> Mod[97]" in add and "62,144 parameters" in add
