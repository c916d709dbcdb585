"""The examples of a `synth` spec: each input -> output pair is a value written out, typed by the
signature, and must meet the spec's own contracts, or no program could satisfy both."""

from __future__ import annotations

from circ.lang import ast
from circ.lang.check_body import BodyChecker
from circ.lang.check_expr import DeclState
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import format_value


def is_value(e: ast.Expr) -> bool:
    """A literal value: numbers, `true`/`false`, and lists and tuples of them."""
    if isinstance(e, ast.ListLit | ast.TupleLit):
        return all(map(is_value, e.items))
    return isinstance(e, ast.IntLit | ast.BoolLit)


def example_inputs(decl: ast.SynthDecl, example: ast.Example) -> tuple[ast.Expr, ...]:
    """The argument expressions of one example: the input itself for one parameter, else a tuple's items."""
    if len(decl.params) == 1:
        return (example.inputs,)
    return example.inputs.items if isinstance(example.inputs, ast.TupleLit) else ()


def check_examples(state: DeclState, decl: ast.SynthDecl) -> None:
    body, sig = BodyChecker(state), state.symbol.signature
    contracts = decl.contracts if not any(d.is_error for d in state.diagnostics) else ()
    if not decl.examples and not any(c.kind == "ensures" for c in decl.contracts):
        body.error(decl.name_span, f"`synth fn {decl.name}` needs examples or an `ensures` to search for")
    seen: dict[str, tuple[int, str]] = {}
    for i, example in enumerate(decl.examples, 1):
        inputs = example_inputs(decl, example)
        if len(inputs) != len(sig.params):
            n = len(sig.params)
            body.error(example.inputs.span, f"example {i} should give {n} inputs, as a tuple `(a, b, …)`")
            continue
        typed = [*zip(inputs, sig.params, strict=True), (example.output, ("the output", sig.result))]
        before = len(state.diagnostics)
        for e, (name, type_) in typed:
            if not is_value(e):
                body.error(
                    e.span, f"example {i}: {name} must be a value written out (numbers, lists, tuples)"
                )
            else:
                body.expect_type(type_, body.check(e, type_), e.span, f"example {i}: {name} is {type_}")
        if len(state.diagnostics) > before:
            continue
        env = {name: evaluate(e, {}) for e, (name, _) in typed[:-1]}
        key, output = format_value(list(env.values())), format_value(evaluate(example.output, {}))
        if key in seen and seen[key][1] != output:
            body.error(example.span, f"examples {seen[key][0]} and {i} give one input different outputs")
        seen.setdefault(key, (i, output))
        for contract in contracts:
            scope = {**env, "result": evaluate(example.output, {})} if contract.kind == "ensures" else env
            try:
                holds = bool(evaluate(contract.expr, scope))
            except Undefined as exc:
                holds, why = False, f" ({exc})"
            else:
                why = ""
            if not holds:
                body.error(
                    example.span,
                    f"example {i} breaks the `{contract.kind}` at line {contract.span.line}{why}",
                )
