"""No recursion: every program must unroll to a finite dataflow graph.

The call graph of `fn`s is small and checked on every `circ check`, so its strongly connected
components are found here (Tarjan's algorithm, iteratively, so a long call chain cannot overflow
Python's stack) rather than by importing networkx for one check.
"""

from __future__ import annotations

from collections.abc import Iterator

from circ.lang import ast
from circ.lang.diagnostics import Diagnostic, error
from circ.lang.scope import Symbol


def recursion_errors(symbols: list[Symbol], callees: dict[object, Symbol]) -> list[Diagnostic]:
    """One error per cycle of `fn`s calling each other (itself included), at its first function."""
    calls: dict[int, list[Symbol]] = {}
    for symbol in symbols:
        found: dict[int, Symbol] = {}
        for node in walk(symbol.decl.body):
            callee = callees.get(node)
            if callee is not None and callee.kind == "fn":
                found.setdefault(id(callee), callee)
        calls[id(symbol)] = list(found.values())
    by_id = {id(s): s for s in symbols}
    errors = []
    for component in _components(by_id, calls):
        if len(component) == 1 and component[0] not in {id(c) for c in calls[component[0]]}:
            continue
        cycle = _cycle(component, calls, by_id)
        first = min(cycle, key=lambda s: (s.module, s.decl.span.line))
        start = cycle.index(first)
        names = [s.name for s in cycle[start:] + cycle[:start]] + [first.name]
        errors.append(
            error(
                first.decl.name_span,
                "recursion is not allowed: " + " → ".join(f"`{n}`" for n in names),
                "every circ program must unroll to a finite dataflow graph",
            )
        )
    return errors


def _components(by_id: dict[int, Symbol], calls: dict[int, list[Symbol]]) -> list[list[int]]:
    """Tarjan's strongly connected components, with an explicit stack."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    for root in by_id:
        if root in index:
            continue
        work = [(root, iter(calls[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for callee in edges:
                nxt = id(callee)
                if nxt not in calls:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(calls[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                out.append(component)
    return out


def _cycle(component: list[int], calls: dict[int, list[Symbol]], by_id: dict[int, Symbol]) -> list[Symbol]:
    """One cycle through the component, from its lowest-id member, following calls inside it."""
    members = set(component)
    start = min(component, key=lambda i: (by_id[i].module, by_id[i].decl.span.line))
    path, seen, node = [start], {start}, start
    while True:
        nxt = next(id(c) for c in calls[node] if id(c) in members)
        if nxt in seen:
            return [by_id[i] for i in path[path.index(nxt) :]]
        path.append(nxt)
        seen.add(nxt)
        node = nxt


def walk(node: object) -> Iterator[object]:
    """Every AST node below `node` (expressions, lets, blocks), without recursion."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        children = []
        for name in getattr(current, "__dataclass_fields__", {}):
            value = getattr(current, name)
            for child in value if isinstance(value, tuple) else (value,):
                if hasattr(child, "__dataclass_fields__") and not isinstance(child, ast.Span):
                    children.append(child)
        todo.extend(reversed(children))
