"""Algorithmic task data: typed reference functions, their domains, and seeded train/val splits."""

from circ.learn.data.compose import compose, random_chain
from circ.learn.data.registry import accepted_params, families, get_task, task_from_key, task_names
from circ.learn.data.split import Split, make_split
from circ.learn.data.task import Family, Task

__all__ = [
    "Family",
    "Split",
    "Task",
    "accepted_params",
    "compose",
    "families",
    "get_task",
    "make_split",
    "random_chain",
    "task_from_key",
    "task_names",
]
