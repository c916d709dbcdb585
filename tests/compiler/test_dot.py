"""DOT output: well formed, and rendered by Graphviz when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from circ.compiler.dot import to_dot
from circ.compiler.lower import lower
from circ.lang.check import check
from circ.lang.modules import load

from support import example_files


def test_dot_lists_every_node_and_edge(in_examples) -> None:
    graph = lower(check(load("affine.circ")))
    text = to_dot(graph)
    assert text.startswith('digraph "main" {') and text.rstrip().endswith("}")
    assert len(re.findall(r"^  n\d+ \[label=", text, flags=re.MULTILINE)) == len(graph)
    assert text.count("->") == graph.number_of_edges()
    assert 'label="mul [mod97.mul]\\nMod[97]"' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_graphviz_renders_every_example(path, in_examples) -> None:
    text = to_dot(lower(check(load(path.name))))
    rendered = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=False)
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.lstrip().startswith("<?xml") and "<svg" in rendered.stdout
