"""Speak to `circ lsp` as an editor does and print what it answers (the README's editor capture):

    python3 editors/lsp_probe.py FILE OLD NEW LINE COLUMN

opens FILE with the text OLD replaced by NEW, prints the diagnostics published for it, then the hover
and the definition at LINE:COLUMN (1-based, as an editor shows them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


class Probe:
    def __init__(self) -> None:
        self.server = subprocess.Popen(["circ", "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.server.stdin is not None
        self.server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.server.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.server.stdout is not None
        length = 0
        while line := self.server.stdout.readline().strip():
            if line.lower().startswith(b"content-length"):
                length = int(line.split(b":")[1])
        return json.loads(self.server.stdout.read(length))

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while (message := self.read()).get("id") != self.next_id:
            pass
        return message["result"]


def main(path: str, old: str, new: str, line: int, column: int) -> None:
    probe = Probe()
    probe.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    probe.send({"method": "initialized", "params": {}})
    uri = Path(path).resolve().as_uri()
    text = Path(path).read_text().replace(old, new)
    document = {"uri": uri, "languageId": "circ", "version": 1, "text": text}
    probe.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
    while (message := probe.read()).get("method") != "textDocument/publishDiagnostics":
        pass
    for d in message["params"]["diagnostics"]:
        start = d["range"]["start"]
        severity = {1: "error", 2: "warning"}.get(d["severity"], "note")
        print(f"diagnostic {start['line'] + 1}:{start['character'] + 1} {severity}: {d['message']}")
    at = {"textDocument": {"uri": uri}, "position": {"line": line - 1, "character": column - 1}}
    hover = probe.request("textDocument/hover", at)
    print(f"hover {line}:{column}")
    print(hover["contents"]["value"] if hover else "(nothing here)")
    found = probe.request("textDocument/definition", at)
    if found:
        where = found["uri"].replace(Path.cwd().as_uri() + "/", "")
        print(f"definition {where}:{found['range']['start']['line'] + 1}")
    probe.server.kill()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
