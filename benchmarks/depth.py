"""Composed verified circuits vs one monolithic transformer as depth and length grow (issue 18).

A thin wrapper over `circ experiment depth`: runs it with one torch thread on the packaged catalog
(a throwaway catalog database, so nothing is written to yours), writes `result.json`, `depth.md`
and `depth.png` under `--out`, and copies the plot to `benchmarks/figures/depth.png` for the README.

    nice -n 10 python benchmarks/depth.py --quick        # ~30 min on one busy CPU core
    python benchmarks/depth.py --ray --device cuda       # full settings: 8 depths, 4 seeds
    python benchmarks/depth.py --from-result OUT/result.json   # re-render only
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced settings for a CPU")
    parser.add_argument("--ray", action="store_true", help="train the monoliths over Ray")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("experiment-depth"))
    parser.add_argument("--from-result", type=Path, default=None)
    args = parser.parse_args()

    from circ.cli import app

    argv = ["experiment", "depth", "--out", str(args.out), "--device", args.device]
    argv += ["--quick"] * args.quick + ["--ray"] * args.ray
    if args.from_result is not None:
        argv += ["--from-result", str(args.from_result)]
    with tempfile.TemporaryDirectory(prefix="circ-depth-") as tmp:
        argv += ["--db", f"sqlite:///{tmp}/catalog.db"]
        try:
            code = app(argv, standalone_mode=False)  # a user error's exit code comes back here
        except SystemExit as exc:
            code = exc.code
        if code:
            return int(code)
    plot = (args.from_result.parent if args.from_result else args.out) / "depth.png"
    figures = HERE / "figures"
    figures.mkdir(exist_ok=True)
    shutil.copyfile(plot, figures / "depth.png")
    print(f"plot copied to {figures / 'depth.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
