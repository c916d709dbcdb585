"""Every task family by name; `get_task("mod_add", p=31)` builds one, `compose(f,g)` names compose."""

from __future__ import annotations

from circ.lang.errors import ConfigError
from circ.learn.data import chains, elements, grids, modular, sequences
from circ.learn.data.compose import compose
from circ.learn.data.task import Family, Task
from circ.learn.errors import UnknownTaskError

FAMILIES: dict[str, Family] = {
    f.name: f for module in (modular, elements, sequences, grids, chains) for f in module.FAMILIES
}


def families() -> list[Family]:
    return list(FAMILIES.values())


def _compose_parts(name: str) -> list[str] | None:
    """`compose(a,compose(b,c))` → `["a", "compose(b,c)"]`; None if `name` is not a composition."""
    if not (name.startswith("compose(") and name.endswith(")")):
        return None
    inner, out, depth, start = name[len("compose(") : -1], [], 0, 0
    for i, ch in enumerate(inner):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(inner[start:i].strip())
            start = i + 1
    out.append(inner[start:].strip())
    return out


def accepted_params(name: str) -> set[str]:
    """Parameter names a task (or every part of a composition) takes."""
    parts = _compose_parts(name)
    if parts is not None:
        return set().union(*(accepted_params(p) for p in parts))
    if name not in FAMILIES:
        raise UnknownTaskError(name, FAMILIES)
    return {k for k, _ in FAMILIES[name].defaults}


def get_task(name: str, **params: int) -> Task:
    """Build a task by name. Parameters not given take the family's defaults; unknown ones are errors.

    In a composition each part takes the parameters it accepts (`h`, `w` go to every grid task).
    """
    known = accepted_params(name)
    for key in params:
        if key not in known:
            takes = ", ".join(sorted(known)) or "no parameters"
            raise ConfigError(key, f"task {name} does not take {key!r} (it takes {takes})")
    parts = _compose_parts(name)
    if parts is not None:
        return compose(
            [get_task(p, **{k: v for k, v in params.items() if k in accepted_params(p)}) for p in parts]
        )
    return FAMILIES[name].build(**params)


def task_names() -> list[str]:
    return list(FAMILIES)


def task_from_key(key: str) -> Task:
    """The task a `Task.key` names (`mod_add[p=97]`, `color_add`), as stored in the catalog."""
    name, bracket, rest = key.partition("[")
    if not bracket:
        return get_task(key)
    if not rest.endswith("]"):
        raise ConfigError("task", f"cannot read the task key {key!r}")
    params: dict[str, int] = {}
    for item in rest[:-1].split(","):
        param, eq, value = item.partition("=")
        if not eq or not value.lstrip("-").isdigit():
            raise ConfigError("task", f"cannot read the task key {key!r}")
        params[param] = int(value)
    return get_task(name, **params)
