#!/usr/bin/env bash
# The wheels circ needs that the GPU machine's image lacks (its Python is 3.12; torch, triton,
# networkx, numpy, scipy, rich, typer, safetensors, hypothesis, pytest and matplotlib are there:
# /work/.library/device/KINDS.md), downloaded here into .whl/ (ignored by git) so a device run can
# carry them: `run(carry=[".whl"], command="bash benchmarks/gpu/session.sh")`. Versions: this
# machine's, so both run the same code.
set -euo pipefail
cd "$(dirname "$0")/../.."
platforms=()
for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$tag")
done
version() { python3 -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
mkdir -p .whl
for name in lark z3-solver prompt_toolkit wcwidth pygls lsprotocol cattrs SQLAlchemy; do
  pinned=$(version "$name")
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .whl "$name${pinned:+==$pinned}"
done
ls -l .whl
du -sh .whl
