"""Putting the DI block into a BPMN document, every byte outside it kept as it was.

The new block replaces the old ones in the source text, so that the diff of a re-layout only
ever touches the diagram; when that patch cannot be trusted, the document is re-serialised.
"""

from __future__ import annotations

import re

from lxml import etree

from orchestration.domain.bpmn import BPMNDI_NS
from orchestration.tools.layout.diagrams import layout_diagrams
from orchestration.tools.layout.graph import bpmn
from orchestration.tools.layout.render import render, xml_attr


def add_layout(xml: bytes) -> bytes:
    """Return ``xml`` with a freshly computed ``bpmndi:BPMNDiagram`` (old ones are replaced).

    Everything outside the diagram block is kept byte for byte.
    """
    tree = _parse(xml)
    root = tree.getroot()
    if root.tag != bpmn("definitions"):
        raise ValueError("not a BPMN document: the root element is not bpmn:definitions")
    encoding = tree.docinfo.encoding or "UTF-8"
    text = xml.decode(encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    indent = _child_indent(root)
    unit = indent or "  "
    diagrams = layout_diagrams(root)
    fragment = render(diagrams, root, indent, unit, newline)

    result = _splice(text, root, fragment, newline)
    if result is not None:
        out = result.encode(encoding)
        check = _parse(out).getroot()
        # The text patch is only trusted if the model itself came through untouched.
        if _signature(check) == _signature(root) and len(_old_diagrams(check)) == len(diagrams):
            return out
    return _rebuild(tree, fragment)


def _signature(root: etree._Element) -> list[tuple[object, ...]]:
    """Document content without DI and without formatting whitespace, for sanity checks."""
    out: list[tuple[object, ...]] = []
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).namespace == BPMNDI_NS:
            continue
        if any(isinstance(a.tag, str) and etree.QName(a).namespace == BPMNDI_NS for a in el.iterancestors()):
            continue
        out.append((el.tag, sorted(el.attrib.items()), (el.text or "").strip(), (el.tail or "").strip()))
    return out


def _parse(xml: bytes) -> etree._ElementTree:
    # Whitespace is kept because the output must reproduce the input outside the diagram.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.ElementTree(etree.fromstring(xml, parser))


def _old_diagrams(root: etree._Element) -> list[etree._Element]:
    return root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram")


def _child_indent(root: etree._Element) -> str:
    text = root.text or ""
    return text.rsplit("\n", 1)[1] if "\n" in text and not text.rsplit("\n", 1)[1].strip() else ""


def _splice(text: str, root: etree._Element, fragment: str, newline: str) -> str | None:
    """Swap the diagram block in the source text, leaving every other character alone."""
    if root.find(bpmn("relationship")) is not None:
        return None  # DI must precede relationships; leave that rare case to the rebuild path
    # The prefix may be declared on the diagram element itself, so ask each old diagram.
    names = sorted(
        {f"{re.escape(el.prefix)}:BPMNDiagram" if el.prefix else "BPMNDiagram" for el in _old_diagrams(root)}
    )
    if names:
        diagram_re = re.compile(
            rf"[ \t]*<(?P<tag>{'|'.join(names)})\b(?:[^>]*?/>|.*?</(?P=tag)\s*>)[ \t]*(?:\r?\n)?",
            re.DOTALL,
        )
        text = diagram_re.sub("", text)
    root_name = f"{root.prefix}:definitions" if root.prefix else "definitions"
    closing = list(re.finditer(rf"</{re.escape(root_name)}\s*>", text))
    if not closing:
        return None
    at = closing[-1].start()
    line_start = text.rfind("\n", 0, at) + 1
    if text[line_start:at].strip():
        return text[:at] + newline + fragment + newline + text[at:]
    return text[:line_start] + fragment + newline + text[line_start:]


def _rebuild(tree: etree._ElementTree, fragment: str) -> bytes:
    """Fallback when the source text cannot be patched: re-serialise the whole tree."""
    root = tree.getroot()
    for old in _old_diagrams(root):
        previous = old.getprevious()
        # The removed element's tail is the whitespace in front of whatever followed it.
        if previous is not None:
            previous.tail = old.tail
        else:
            root.text = old.tail
        root.remove(old)
    nsdecl = "".join(f' xmlns:{p}="{xml_attr(uri)}"' for p, uri in root.nsmap.items() if p)
    wrapper = etree.fromstring(f"<wrapper{nsdecl}>{fragment}</wrapper>".encode())
    relationship = root.find(bpmn("relationship"))
    position = list(root).index(relationship) if relationship is not None else len(root)
    separator = "\n" + _child_indent(root)
    for i, el in enumerate(list(wrapper)):
        previous = root[position + i - 1] if position + i > 0 else None
        if previous is not None:
            el.tail, previous.tail = previous.tail, separator
        else:
            el.tail, root.text = root.text, separator
        root.insert(position + i, el)
    out = etree.tostring(tree, xml_declaration=True, encoding=tree.docinfo.encoding or "UTF-8")
    assert isinstance(out, bytes)
    return out
