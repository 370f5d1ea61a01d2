"""The DI block as XML text, in the namespace prefixes and the indentation of its document."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from lxml import etree

from orchestration.domain.bpmn import BPMNDI_NS, DC_NS, DI_NS
from orchestration.tools.layout.diagrams import DiagramOut
from orchestration.tools.layout.geometry import Rect

# Preferred prefixes are the ones bpmn-js and Camunda Modeler write.
_DEFAULT_PREFIXES = {BPMNDI_NS: "bpmndi", DC_NS: "dc", DI_NS: "di"}


def render(
    diagrams: Sequence[DiagramOut],
    root: etree._Element,
    indent: str,
    unit: str,
    newline: str,
) -> str:
    """The DI of ``diagrams`` as XML lines indented for a child of ``root``, joined by ``newline``.

    The prefixes are those ``root`` declares for the DI namespaces; a namespace it does not
    declare is declared on each diagram element.
    """
    declared = {uri: prefix for prefix, uri in root.nsmap.items() if prefix}
    prefixes: dict[str, str] = {}
    missing: list[tuple[str, str]] = []
    for uri in (BPMNDI_NS, DC_NS, DI_NS):
        if uri in declared:
            prefixes[uri] = declared[uri]
            continue
        prefix, n = _DEFAULT_PREFIXES[uri], 1
        while prefix in root.nsmap or prefix in prefixes.values():
            n += 1
            prefix = f"{_DEFAULT_PREFIXES[uri]}{n}"
        prefixes[uri] = prefix
        missing.append((prefix, uri))
    bpmndi, dc, di = prefixes[BPMNDI_NS], prefixes[DC_NS], prefixes[DI_NS]
    ids = _IdPool(root)
    lines: list[str] = []

    def add(level: int, text: str) -> None:
        lines.append(indent + unit * level + text)

    def bounds(level: int, r: Rect) -> None:
        add(level, f'<{dc}:Bounds x="{r.x}" y="{r.y}" width="{r.w}" height="{r.h}" />')

    def label(level: int, r: Rect | None) -> None:
        if r is None:
            return
        add(level, f"<{bpmndi}:BPMNLabel>")
        bounds(level + 1, r)
        add(level, f"</{bpmndi}:BPMNLabel>")

    decls = "".join(f' xmlns:{p}="{xml_attr(uri)}"' for p, uri in missing)
    for diagram in diagrams:
        element = xml_attr(diagram.element)
        add(0, f'<{bpmndi}:BPMNDiagram id="{xml_attr(ids.take("BPMNDiagram_" + diagram.element))}"{decls}>')
        add(
            1,
            f'<{bpmndi}:BPMNPlane id="{xml_attr(ids.take("BPMNPlane_" + diagram.element))}"'
            f' bpmnElement="{element}">',
        )
        for shape in diagram.shapes:
            extra = "".join(f' {k}="{v}"' for k, v in shape.attrs)
            add(
                2,
                f'<{bpmndi}:BPMNShape id="{xml_attr(ids.take(shape.element + "_di"))}"'
                f' bpmnElement="{xml_attr(shape.element)}"{extra}>',
            )
            bounds(3, shape.rect)
            label(3, shape.label)
            add(2, f"</{bpmndi}:BPMNShape>")
        for edge in diagram.edges:
            add(
                2,
                f'<{bpmndi}:BPMNEdge id="{xml_attr(ids.take(edge.element + "_di"))}"'
                f' bpmnElement="{xml_attr(edge.element)}">',
            )
            for x, y in edge.points:
                add(3, f'<{di}:waypoint x="{x}" y="{y}" />')
            label(3, edge.label)
            add(2, f"</{bpmndi}:BPMNEdge>")
        add(1, f"</{bpmndi}:BPMNPlane>")
        add(0, f"</{bpmndi}:BPMNDiagram>")
    return newline.join(lines)


def xml_attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


class _IdPool:
    """Hands out DI ids that clash with no id of the model (ids share one XML namespace)."""

    def __init__(self, root: etree._Element) -> None:
        self.used = {
            el.get("id")
            for el in root.iter()
            if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace != BPMNDI_NS
        }

    def take(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.used:
            n += 1
            candidate = f"{wanted}_{n}"
        self.used.add(candidate)
        return candidate
