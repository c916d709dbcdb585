"""Specialising catalogued circuits to related tasks with LoRA (peft), DESIGN §8 `adapt`.

`lora` (adapters on a frozen parent as a vmap ensemble), `fit` (train until whole-domain exact),
`specialise` (`adapt(parent, task)`: the entry point), `artefact` (adapter and weights as bytes).
"""

from circ.learn.adapt.fit import Check, FitEvent, FitOptions, Fitted, fit
from circ.learn.adapt.lora import DEFAULT_TARGETS, TARGETS, AdapterEnsemble, LoraOptions
from circ.learn.adapt.specialise import (
    Adaptation,
    AdaptOptions,
    DataPlan,
    adapt,
    domain_accuracy,
    related_task,
)

__all__ = [
    "DEFAULT_TARGETS",
    "TARGETS",
    "AdaptOptions",
    "Adaptation",
    "AdapterEnsemble",
    "Check",
    "DataPlan",
    "FitEvent",
    "FitOptions",
    "Fitted",
    "LoraOptions",
    "adapt",
    "domain_accuracy",
    "fit",
    "related_task",
]
