"""Rich views of extraction results: what `circ extract …` prints, and the extraction rows that
`circ catalog show` lists under a circuit. Accuracies are rounded down, so nothing short of every
input reads as 100%."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from circ.learn.catalog import ExtractionRecord
    from circ.learn.extract.graph_circuit import GraphReport
    from circ.learn.extract.prune_circuit import PruneReport
    from circ.learn.extract.transcode_circuit import TranscoderReport


def _percent(accuracy: float) -> str:
    return f"{math.floor(accuracy * 10_000) / 100:.2f}%"


def _verdict(accuracy: float, n: int, whole: bool) -> Text:
    style = "green" if accuracy == 1.0 and whole else "red"
    how = "every input" if whole else "a sample"
    return Text(f"{_percent(accuracy)} of {n:,} inputs ({how})", style=style)


def _short(text: str, n: int = 100) -> str:
    """A long label cut for a table; the catalog and the JSON keep it whole."""
    return text if len(text) <= n else text[: n - 1] + "…"


def _files(files) -> Text:
    return Text("\n".join(str(f) for f in files), style="dim")


def prune_view(report: PruneReport) -> Group:
    r = report.result
    table = Table(title=f"prune {report.parent.ref} ({r.by}, {r.ablation} ablation)", header_style="bold")
    for column in ("", "before", "after"):
        table.add_column(column, justify="right" if column else "left")
    b, a = r.before, r.after
    table.add_row(
        "heads",
        " ".join(map(str, b.heads)) + f" of {b.n_heads}",
        " ".join(map(str, a.heads)) + f" of {a.n_heads}",
    )
    table.add_row(
        "neurons",
        " ".join(map(str, b.neurons)) + f" of {b.d_mlp}",
        " ".join(map(str, a.neurons)) + f" of {a.d_mlp}",
    )
    table.add_row(
        "nonzero parameters", f"{b.nonzero:,} of {b.n_params:,}", f"{a.nonzero:,} of {a.n_params:,}"
    )
    table.add_row("sparsity", f"{b.sparsity:.1%}", f"{a.sparsity:.1%}")
    table.add_row("min logit margin", f"{r.base_check.min_margin:.4f}", f"{r.final_check.min_margin:.4f}")
    cert = report.certificate
    lines = [
        table,
        Text.assemble(
            "registered ",
            (report.child.ref, "bold"),
            f" ({len(r.trials)} checked steps); certificate: ",
            _verdict(cert.accuracy, cert.n_checked or cert.domain_size, not cert.sampled),
        ),
        _curves_text(report.curves),
        Text(f"extraction #{report.extraction.id} (prune) on {report.parent.ref}", style="dim"),
        _files(report.files),
    ]
    return Group(*lines)


def _curves_text(curves: dict[str, Any]) -> Text:
    parts = [f"{name} ablation CPR {c.cpr:.3f} CMD {c.cmd:.3f}" for name, c in curves.items()]
    return Text("faithfulness: " + "; ".join(parts))


def transcoder_view(report: TranscoderReport) -> Group:
    cfg = report.transcoders.cfg
    kind = f"{cfg.architecture}{f' k={cfg.k}' if cfg.k else ''}{', cross-layer' if cfg.cross_layer else ''}"
    table = Table(
        title=f"transcoders of {report.parent.ref} ({kind}, {cfg.d_sae} features per layer)",
        header_style="bold",
    )
    for column in ("layer", "FVU", "MSE", "L0", "dead", "max active"):
        table.add_column(column, justify="right")
    for layer in report.layers:
        table.add_row(
            str(layer.layer),
            f"{layer.fvu:.4f}",
            f"{layer.mse:.4g}",
            f"{layer.l0:.1f}",
            str(layer.dead),
            str(layer.max_active),
        )
    hooked = report.replacement
    lines: list[Any] = [
        table,
        Text.assemble(
            "replacement model (every MLP swapped): ",
            _verdict(hooked.accuracy, hooked.n_checked, hooked.complete),
        ),
    ]
    if report.as_circuit is not None:
        lines.append(
            Text.assemble(
                "as a circuit (d_mlp = d_sae): ",
                _verdict(report.as_circuit.accuracy, report.as_circuit.n_checked, report.as_circuit.complete),
            )
        )
    if report.child is not None and report.certificate is not None:
        cert = report.certificate
        lines.append(
            Text.assemble(
                "registered ",
                (report.child.ref, "bold"),
                "; certificate: ",
                _verdict(cert.accuracy, cert.n_checked or cert.domain_size, not cert.sampled),
            )
        )
    else:
        lines.append(Text(f"not registered as a circuit: {report.not_a_circuit}", style="yellow"))
    if report.labels:
        live = [x for x in report.labels if x.fires]
        exact = sum(1 for x in live if x.exact)
        text = f"feature labels: {len(live)} live features, {exact} described exactly on the whole domain"
        lines.append(Text(text))
        lines.append(labels_table(sorted(live, key=lambda x: (not x.exact, -x.fires))[:12]))
    lines.append(Text(f"extraction #{report.extraction.id} (transcoder) on {report.parent.ref}", style="dim"))
    lines.append(_files(report.files))
    return Group(*lines)


def labels_table(labels: list[Any], title: str = "feature labels") -> Table:
    """Rows from `FeatureLabel`s or from their dicts as an extraction summary stores them."""
    rows = [x if isinstance(x, dict) else x.to_dict() for x in labels]
    fourier = [d.get("fourier") for d in rows]
    fourier = [f if isinstance(f, str) or f is None else f["text"] for f in fourier]
    table = Table(title=title, header_style="bold")
    columns = (
        ["feature", "description", "checked", "fires"]
        + (["Fourier"] if any(fourier) else [])
        + ["top inputs"]
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for d, f in zip(rows, fourier, strict=True):
        checked = "exact" if d["exact"] else f"{d['agreement']:.1%} agree"
        top = ", ".join(t["input"] for t in d.get("top", [])[:3])
        cells = [f"L{d['layer']}.f{d['feature']}", Text(_short(d["description"])), checked, f"{d['fires']:,}"]
        table.add_row(*cells, *([Text(f or "")] if any(fourier) else []), Text(top))
    return table


def graph_view(report: GraphReport) -> Group:
    att, pruned = report.attribution, report.pruned
    head = Text.assemble(
        (f"{report.circuit.ref}{report.input_text}", "bold"),
        f": {att.count('cross layer transcoder')} active features; pruned graph "
        f"{len(report.graph['nodes'])} nodes, {len(report.graph['links'])} links; "
        f"replacement score {report.replacement_score:.3f}, "
        f"completeness {report.completeness_score:.3f}",
    )
    nodes = Table(title="most influential nodes", header_style="bold")
    for column in ("node", "type", "activation", "influence", "label"):
        nodes.add_column(column, overflow="fold")
    order = pruned.influence.argsort(descending=True).tolist()
    clerps = {n["node_id"]: n["clerp"] for n in report.graph["nodes"]}
    from circ.learn.extract.graph_json import node_id

    shown = 0
    for i in order:
        node = att.nodes[i]
        if not pruned.node_mask[i] or node.kind == "logit":
            continue
        nid = node_id(node, att.n_layers)
        act = f"{node.activation:.3f}" if node.kind == "cross layer transcoder" else ""
        nodes.add_row(
            nid, node.kind, act, f"{float(pruned.influence[i]):.4f}", Text(_short(clerps.get(nid, "")))
        )
        shown += 1
        if shown == 10:
            break
    qk = Table(
        title="QK: why each head attends where it does (top term of the lead over the runner-up key)",
        header_style="bold",
    )
    for column in ("layer.head", "query", "attends to", "weight", "lead", "largest term of the lead"):
        qk.add_column(column, overflow="fold")
    for h in report.qk[:16]:
        term = h.lead_terms[0] if h.lead_terms else None
        term_text = f"{term.query} · {term.key} = {term.value:+.3f}" if term else "—"
        qk.add_row(
            f"{h.layer}.{h.head}",
            str(h.query_pos),
            str(h.top_key),
            f"{h.pattern[h.top_key]:.3f}",
            f"{h.lead:+.3f}",
            Text(term_text),
        )
    return Group(
        head,
        nodes,
        qk,
        _curves_text(report.curves),
        Text(f"extractions #{report.extraction.id} (graph), #{report.qk_extraction.id} (qk)", style="dim"),
        _files(report.files),
    )


def _headline(row: ExtractionRecord) -> str:
    s = row.summary
    if row.method == "prune":
        after = s["after"]
        return (
            f"→ {s.get('child')}: sparsity {s.get('sparsity', 0):.1%}, {after['nonzero_params']:,} nonzero "
            f"params, heads {after['live_heads']}, neurons {after['live_neurons']}, "
            f"min margin {after['min_margin']:.4f}"
        )
    if row.method == "transcoder":
        rep = s.get("replacement", {})
        circuit = s.get("circuit") or f"not a circuit: {s.get('not_a_circuit')}"
        fvu = ", ".join(f"{layer['fvu']:.4f}" for layer in s.get("layers", []))
        kind = f"{s.get('architecture')} d_sae {s.get('d_sae')}"
        return f"{kind}; FVU {fvu}; replacement {_percent(rep.get('accuracy', 0))}; {circuit}"
    if row.method == "feature_labels":
        live = len(s.get("labels", []))
        return f"{live} live features, {s.get('exact', 0)} exact (transcoder #{s.get('transcoder')})"
    if row.method == "attribution_graph":
        return (
            f"input {s.get('input')}: {s.get('nodes')} nodes, {s.get('links')} links, replacement "
            f"{s.get('replacement_score', 0):.3f}, completeness {s.get('completeness_score', 0):.3f}"
        )
    if row.method == "qk_attribution":
        return f"input {s.get('input')}: {s.get('heads')} head × query rows (graph #{s.get('graph')})"
    return ""


def derived_from(weights: bytes) -> str | None:
    """`mod97.add@1 (prune)` for a circuit extraction registered, from its weights' metadata."""
    import json

    try:
        size = int.from_bytes(weights[:8], "little")
        meta = json.loads(weights[8 : 8 + size]).get("__metadata__") or {}
    except ValueError:
        return None
    if "parent" not in meta:
        return None
    return f"{meta['parent']} ({meta.get('extraction', 'extraction')})"


def extractions_view(rows: list[ExtractionRecord], labels_shown: int = 12) -> Group | None:
    """The table of a circuit's extraction rows, and the newest feature labels."""
    if not rows:
        return None
    table = Table(title="extractions", header_style="bold")
    for column in ("#", "method", "created", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id), row.method, row.created.isoformat(timespec="seconds"), Text(_headline(row))
        )
    parts: list[Any] = [table]
    labels = [r for r in rows if r.method == "feature_labels"]
    if labels:
        live = labels[-1].summary.get("labels", [])
        ordered = sorted(live, key=lambda d: (not d["exact"], -d["fires"]))[:labels_shown]
        parts.append(
            labels_table(ordered, f"feature labels (#{labels[-1].id}, {len(ordered)} of {len(live)})")
        )
    return Group(*parts)
