"""One live progress display for training, shared by `circ train` and `circ stdlib build`: a bar per
vmap group with its step, the worst and best validation accuracy so far, and how many runs are done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:  # circ.learn.train pulls in torch
    from circ.learn.train import EvalEvent


@contextmanager
def training_progress(console: Console) -> Iterator[Callable[[EvalEvent], None]]:
    """Yields the `on_eval` callback to pass to `circ.learn.train.train`."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[acc]}"),
        TimeElapsedColumn(),
    )
    bars: dict[int, int] = {}  # group → progress task id
    with Progress(*columns, console=console) as progress:

        def on_eval(event: EvalEvent) -> None:
            if event.group not in bars:
                first = event.names[0]
                label = first if len(event.names) == 1 else f"{first} +{len(event.names) - 1}"
                bars[event.group] = progress.add_task(label, total=event.steps, acc="")
            accs = event.val_acc
            done = sum(event.done)
            text = f"val acc min {min(accs):.3f} max {max(accs):.3f}" + (f" · {done} done" if done else "")
            if all(event.done):  # every member stopped early: the bar ends where they did, full
                progress.update(bars[event.group], total=event.step, completed=event.step, acc=text)
            else:
                progress.update(bars[event.group], completed=event.step, acc=text)

        yield on_eval
