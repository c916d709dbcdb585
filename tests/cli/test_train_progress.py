"""The live training bars: a bar whose members all stopped early ends where they stopped (full),
not at the step cap they never reached."""

from __future__ import annotations

import io

from rich.console import Console

from circ.cli.train_progress import training_progress
from circ.learn.adapt import FitEvent


def _shown(events: list[FitEvent]) -> str:
    out = io.StringIO()
    with training_progress(Console(file=out, width=120)) as on_eval:
        for event in events:
            on_eval(event)
    return out.getvalue()


def test_a_bar_ends_at_the_step_every_member_stopped_at() -> None:
    names = ("seed 0", "seed 1")
    shown = _shown(
        [
            FitEvent(0, 0, 3000, names, (0.01, 0.01), (False, False)),
            FitEvent(0, 425, 3000, names, (1.0, 0.98), (True, False)),
            FitEvent(0, 450, 3000, names, (1.0, 1.0), (True, True)),
        ]
    )
    assert "450/450" in shown and "3000" not in shown.splitlines()[-1]
    assert "2 done" in shown


def test_a_bar_that_runs_to_the_cap_ends_there() -> None:
    shown = _shown([FitEvent(0, 3000, 3000, ("seed 0",), (0.5,), (False,))])
    assert "3000/3000" in shown
