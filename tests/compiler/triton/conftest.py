"""Triton kernels here run on the GPU when there is one, else through the interpreter."""

from __future__ import annotations

import pytest

from support import use_triton_interpreter

use_triton_interpreter()  # before triton is first imported
pytest.importorskip("triton")
