"""The procedure as an inline SVG, drawn on the server from the BPMN diagram interchange (BPMN DI).

The case page shows where a case stands without shipping a JavaScript modeler: the shapes and
routes come from the ``bpmndi:BPMNDiagram`` of the deployed file, the state of the case only
decides which CSS class (and which ``<title>`` wording) each element gets.

Because the page asks for the diagram on every request, everything that does not depend on the
case is done once per file: :func:`_geometry` parses the XML and pre-renders every element in each
of its possible states, and is cached on a digest of the text.  A request then only picks one
pre-rendered string per element and joins them.

Classes a page may restyle (all prefixed ``ftd-`` because CSS inside an inline SVG is not
scoped to the SVG): ``ftd-el`` on every element group, ``ftd-active`` (open task, also
``aria-current="step"``), ``ftd-done`` (completed), ``ftd-taken`` on flows of the path taken.
Every group carries ``data-element-id`` with the BPMN id.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape

from lxml import etree

from orchestration.domain.bpmn import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, TASK_TAGS

# The namespaces and the shapes drawn as tasks are the layout tool's: one definition for both.
GATEWAY_TAGS = frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
)
EVENT_TAGS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)

KIND_NAMES = {
    "userTask": "人工任务",
    "serviceTask": "自动任务",
    "businessRuleTask": "规则任务",
    "scriptTask": "脚本任务",
    "sendTask": "发送任务",
    "receiveTask": "接收任务",
    "manualTask": "手工任务",
    "callActivity": "调用子流程",
    "subProcess": "子流程",
    "transaction": "事务子流程",
    "adHocSubProcess": "子流程",
    "task": "任务",
    "exclusiveGateway": "排他网关",
    "inclusiveGateway": "包容网关",
    "parallelGateway": "并行网关",
    "eventBasedGateway": "事件网关",
    "complexGateway": "复杂网关",
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "intermediateCatchEvent": "中间事件",
    "intermediateThrowEvent": "中间事件",
    "boundaryEvent": "边界事件",
}
TRIGGER_NAMES = {
    "timer": "定时",
    "signal": "信号",
    "message": "消息",
    "error": "错误",
    "escalation": "升级",
    "conditional": "条件",
    "terminate": "终止",
}
STATE_NAMES = {"": "", "done": "（已完成）", "active": "（当前办理）"}

FONT_FAMILY = (
    "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif"
)
TASK_FONT = 12.0
TASK_LINE = 15.0
LABEL_FONT = 11.0  # the size bpmn_layout sized the DI label boxes for
LABEL_LINE = 14.0
POOL_FONT = 14.0
LANE_FONT = 13.0
HEADER_W = 30.0  # width of the name strip of a pool or lane, as bpmn-js draws it
CORNER = 6.0  # radius of the rounded bends of sequence flows
PAD = 12.0  # around the DI bounds, so strokes and halos at the edge are not clipped

# Fixed colours rather than currentColor: the SVG must look the same on any page and in print.
STYLE = f"""
.ftd{{font-family:{FONT_FAMILY};background:#fff}}
.ftd text{{fill:#1f2328;font-size:{TASK_FONT}px}}
.ftd .ftd-hdr text{{font-size:{LANE_FONT}px;font-weight:600;fill:#24292f}}
.ftd .ftd-pool>rect{{fill:#fff;stroke:#3d444d;stroke-width:1.6}}
.ftd .ftd-lane>rect{{fill:none;stroke:#8c959f;stroke-width:1}}
.ftd .ftd-hdr rect{{fill:#f2f4f7;stroke:#8c959f;stroke-width:1}}
.ftd .ftd-pool>.ftd-hdr rect{{fill:#e7ebf0;stroke:#3d444d;stroke-width:1.6}}
.ftd .ftd-shape{{fill:#fff;stroke:#3d444d;stroke-width:1.5}}
.ftd .ftd-mark{{fill:none;stroke:#3d444d;stroke-width:1.4;stroke-linecap:round;stroke-linejoin:round}}
.ftd .ftd-fill{{fill:#3d444d;stroke:none}}
.ftd .ftd-gw .ftd-mark{{stroke-width:3.2}}
.ftd .ftd-end .ftd-shape{{stroke-width:3.6}}
.ftd .ftd-flow path{{fill:none;stroke:#57606a;stroke-width:1.4;stroke-linejoin:round}}
.ftd .ftd-flow.ftd-message path{{stroke-dasharray:6 4}}
.ftd .ftd-flow.ftd-taken path{{stroke:#1a7f37;stroke-width:2.6}}
.ftd .ftd-done .ftd-shape{{fill:#e6f4ea;stroke:#1a7f37;stroke-width:2}}
.ftd .ftd-done .ftd-mark{{stroke:#1a7f37}}
.ftd .ftd-done .ftd-fill{{fill:#1a7f37}}
.ftd .ftd-active .ftd-shape{{fill:#dbeafe;stroke:#1d4ed8;stroke-width:3.2}}
.ftd .ftd-active .ftd-mark{{stroke:#1d4ed8}}
.ftd .ftd-active .ftd-fill{{fill:#1d4ed8}}
.ftd .ftd-active text{{fill:#0b2e80;font-weight:600}}
.ftd .ftd-end.ftd-done .ftd-shape,.ftd .ftd-end.ftd-active .ftd-shape{{stroke-width:3.6}}
.ftd .ftd-label text{{font-size:{LABEL_FONT}px;fill:#3d444d;paint-order:stroke;stroke:#fff;stroke-width:3px;
stroke-linejoin:round}}
"""

ARROW = "ftd-arrow"
ARROW_TAKEN = "ftd-arrow-taken"


def _defs() -> str:
    def arrow(marker_id: str, colour: str) -> str:
        return (
            f'<marker id="{marker_id}" viewBox="0 0 12 12" refX="11" refY="6" markerWidth="11" '
            f'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M1 1.5 L11 6 L1 10.5 Z" fill="{colour}"/></marker>'
        )

    def slash(marker_id: str, colour: str) -> str:
        # BPMN marks the default flow of a gateway with a slash near its source.
        return (
            f'<marker id="{marker_id}" viewBox="0 0 20 20" refX="-4" refY="10" markerWidth="20" '
            f'markerHeight="20" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M2 15 L8 5" stroke="{colour}" stroke-width="1.6" fill="none"/></marker>'
        )

    return (
        "<defs>"
        + arrow(ARROW, "#57606a")
        + arrow(ARROW_TAKEN, "#1a7f37")
        + slash("ftd-default", "#57606a")
        + slash("ftd-default-taken", "#1a7f37")
        + '<marker id="ftd-msg-start" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="10" '
        'markerHeight="10" markerUnits="userSpaceOnUse"><circle cx="5" cy="5" r="3.5" fill="#fff" '
        'stroke="#57606a" stroke-width="1.2"/></marker>'
        + '<marker id="ftd-msg-end" viewBox="0 0 12 12" refX="11" refY="6" markerWidth="11" '
        'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto"><path d="M1 1.5 L11 6 L1 10.5 Z" '
        'fill="#fff" stroke="#57606a" stroke-width="1.2"/></marker>'
        "</defs>"
    )


class DiagramError(ValueError):
    """The file has no diagram for the process and none could be generated; the message is Chinese."""


# --------------------------------------------------------------------------- text


def _is_wide(ch: str) -> bool:
    # "A" (ambiguous) covers “”…—, which CJK fonts draw full width.
    return unicodedata.east_asian_width(ch) in ("W", "F", "A")


def _char_width(ch: str, size: float) -> float:
    if _is_wide(ch):
        return size
    if ch == " ":
        return size * 0.3
    return size * (0.62 if ch.isupper() or ch.isdigit() else 0.52)


def _width(text: str, size: float) -> float:
    return sum(_char_width(ch, size) for ch in text)


# Line-breaking rules of Chinese typesetting (禁则): no line starts with closing punctuation,
# none ends with opening punctuation.
_NO_START = frozenset("，。、；：！？）》」』】〕〉”’…·,.;:!?)]}%")
_NO_END = frozenset("（《「『【〔〈“‘([{")


def _tokens(text: str) -> list[str]:
    """CJK characters one by one, runs of other letters as words (they are not split mid-word)."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if _is_wide(ch) or ch == " ":
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def wrap(text: str, max_width: float, size: float) -> list[str]:
    """Wrap into lines no wider than ``max_width``, balanced so a name does not end in one character."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        total = _width(paragraph, size)
        count = max(1, math.ceil(total / max_width))
        # Aim at an even share per line; the slack of one character keeps the count from growing.
        target = min(max_width, total / count + size * 0.99)
        current = ""
        for token in _tokens(paragraph):
            if current and _width(current + token, size) > target and token[0] not in _NO_START:
                if current[-1] in _NO_END:
                    lines.append(current[:-1].rstrip())
                    current = current[-1]
                else:
                    lines.append(current.rstrip())
                    current = ""
                token = token.lstrip()
            while _width(token, size) > max_width and len(token) > 1:
                # A word longer than the line: cut it where it fills the line.
                cut = 1
                while cut < len(token) and _width(token[: cut + 1], size) <= max_width:
                    cut += 1
                if current:
                    lines.append(current.rstrip())
                    current = ""
                lines.append(token[:cut])
                token = token[cut:]
            current += token
        lines.append(current.rstrip())
    return lines


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _text_lines(lines: Sequence[str], cx: float, first_baseline: float, line_height: float) -> str:
    if len(lines) == 1:
        return (
            f'<text x="{_num(cx)}" y="{_num(first_baseline)}" text-anchor="middle">{escape(lines[0])}</text>'
        )
    spans = "".join(
        f'<tspan x="{_num(cx)}" y="{_num(first_baseline + i * line_height)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text text-anchor="middle">{spans}</text>'


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class _Extent:
    x1: float = math.inf
    y1: float = math.inf
    x2: float = -math.inf
    y2: float = -math.inf

    def add(self, x: float, y: float, w: float = 0.0, h: float = 0.0) -> None:
        self.x1 = min(self.x1, x)
        self.y1 = min(self.y1, y)
        self.x2 = max(self.x2, x + w)
        self.y2 = max(self.y2, y + h)


@dataclass(frozen=True)
class _ShapePiece:
    element_id: str
    name: str
    plain: str
    done: str
    active: str


@dataclass(frozen=True)
class _FlowPiece:
    source: str
    target: str
    plain: str
    taken: str


@dataclass(frozen=True)
class _Geometry:
    view_box: str
    title: str
    background: str  # pools and lanes
    flows: tuple[_FlowPiece, ...]
    shapes: tuple[_ShapePiece, ...]  # boundary events last, so they sit on their host's border
    labels: str
    names: dict[str, str] = field(default_factory=dict)


def _bounds(shape: etree._Element) -> _Box | None:
    node = shape.find(f"{{{DC_NS}}}Bounds")
    if node is None:
        return None
    return _Box(*(float(node.get(k, "0")) for k in ("x", "y", "width", "height")))


def _label_bounds(di: etree._Element) -> _Box | None:
    label = di.find(f"{{{BPMNDI_NS}}}BPMNLabel")
    return _bounds(label) if label is not None else None


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _trigger(element: etree._Element) -> str | None:
    for child in element:
        if isinstance(child.tag, str) and child.tag.startswith(f"{{{BPMN_NS}}}"):
            local = _local(child)
            if local.endswith("EventDefinition"):
                return local.removesuffix("EventDefinition")
    return None


def _find_plane(root: etree._Element, process_id: str) -> etree._Element | None:
    """The plane drawing the process itself or a collaboration with a pool for it."""
    owners = {process_id}
    for participant in root.iter(f"{{{BPMN_NS}}}participant"):
        if participant.get("processRef") == process_id:
            parent = participant.getparent()
            if parent is not None and parent.get("id"):
                owners.add(parent.get("id", ""))
    for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
        if plane.get("bpmnElement") in owners:
            return plane
    return None


def _title(kind: str, name: str, state: str) -> str:
    return f"<title>{escape(f'{kind}：{name}' if name else kind)}{STATE_NAMES[state]}</title>"


def _group(classes: str, element_id: str, state: str, inner: str) -> str:
    state_class = {"": "", "done": " ftd-done", "active": " ftd-active"}[state]
    current = ' aria-current="step"' if state == "active" else ""
    return (
        f'<g class="ftd-el {classes}{state_class}" data-element-id="{_attr(element_id)}"{current}>{inner}</g>'
    )


def _vertical_name(name: str, box: _Box, size: float) -> str:
    """The name of a pool or lane in its header strip: CJK stacked upright, other text rotated."""
    cx = box.x + HEADER_W / 2
    if name and all(_is_wide(ch) or ch == " " for ch in name):
        chars = [ch for ch in name if ch != " "]
        pitch = size * 1.2
        # Shrink rather than overflow a short lane.
        while len(chars) * pitch > box.h - 12 and size > 8:
            size -= 1
            pitch = size * 1.2
        top = box.cy - len(chars) * pitch / 2 + size * 0.88
        spans = "".join(
            f'<tspan x="{_num(cx)}" y="{_num(top + i * pitch)}">{escape(ch)}</tspan>'
            for i, ch in enumerate(chars)
        )
        return f'<text text-anchor="middle" style="font-size:{_num(size)}px">{spans}</text>'
    return (
        f'<text x="{_num(cx)}" y="{_num(box.cy)}" text-anchor="middle" dominant-baseline="central" '
        f'transform="rotate(-90 {_num(cx)} {_num(box.cy)})">{escape(name)}</text>'
    )


def _container(kind: str, element_id: str, name: str, box: _Box) -> str:
    size = POOL_FONT if kind == "pool" else LANE_FONT
    label = "泳池" if kind == "pool" else "泳道"
    return (
        f'<g class="ftd-{kind}" data-element-id="{_attr(element_id)}">'
        f"<title>{escape(f'{label}：{name}')}</title>"
        f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" height="{_num(box.h)}"/>'
        f'<g class="ftd-hdr"><rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(HEADER_W)}" '
        f'height="{_num(box.h)}"/>{_vertical_name(name, box, size)}</g></g>'
    )


def _task_icon(tag: str, x: float, y: float) -> str:
    """A small type marker in the top-left corner, as BPMN tools draw it."""
    if tag == "userTask":
        return (
            f'<circle class="ftd-mark" cx="{_num(x + 11)}" cy="{_num(y + 10)}" r="3.6"/>'
            f'<path class="ftd-mark" d="M{_num(x + 4.5)} {_num(y + 21)} q0 -6.5 6.5 -6.5 '
            f'q6.5 0 6.5 6.5 z"/>'
        )
    if tag == "serviceTask":
        return _gear(x + 12, y + 13)
    if tag == "businessRuleTask":
        return (
            f'<rect class="ftd-mark" x="{_num(x + 5)}" y="{_num(y + 7)}" width="15" height="11"/>'
            f'<path class="ftd-mark" d="M{_num(x + 5)} {_num(y + 10.5)} h15 '
            f'M{_num(x + 5)} {_num(y + 14)} h15 M{_num(x + 9.5)} {_num(y + 10.5)} v7.5"/>'
        )
    if tag in ("sendTask", "receiveTask"):
        return (
            f'<rect class="ftd-mark" x="{_num(x + 5)}" y="{_num(y + 8)}" width="15" height="10"/>'
            f'<path class="ftd-mark" d="M{_num(x + 5)} {_num(y + 8)} l7.5 5.5 l7.5 -5.5"/>'
        )
    if tag == "scriptTask":
        return (
            f'<path class="ftd-mark" d="M{_num(x + 7)} {_num(y + 6)} h10 q-3 6 0 12 h-10 q3 -6 0 -12 '
            f'M{_num(x + 8.5)} {_num(y + 10)} h6 M{_num(x + 9)} {_num(y + 14)} h6"/>'
        )
    return ""


def _gear(cx: float, cy: float) -> str:
    """A cog of eight teeth: the BPMN marker of a service task."""
    points = []
    for tooth in range(8):
        base = tooth * math.pi / 4
        for offset, radius in ((-0.2, 7.0), (0.2, 7.0), (0.3, 5.0), (0.585, 5.0)):
            angle = base + offset
            points.append(f"{_num(cx + radius * math.sin(angle))},{_num(cy - radius * math.cos(angle))}")
    return (
        f'<polygon class="ftd-mark" style="stroke-width:1.1" points="{" ".join(points)}"/>'
        f'<circle class="ftd-mark" style="stroke-width:1.1" cx="{_num(cx)}" cy="{_num(cy)}" r="2.2"/>'
    )


def _task(tag: str, name: str, box: _Box) -> str:
    rx = 10.0
    sub = tag in ("subProcess", "transaction", "adHocSubProcess", "callActivity")
    shape = (
        f'<rect class="ftd-shape" x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" '
        f'height="{_num(box.h)}" rx="{_num(rx)}"'
        + (' style="stroke-width:3"' if tag == "callActivity" else "")
        + "/>"
    )
    lines = wrap(name, box.w - 12, TASK_FONT)
    room = max(1, int((box.h - 10) // TASK_LINE))
    if len(lines) > room:
        # The full name is still in <title>.
        lines = [*lines[: room - 1], lines[room - 1][:-1] + "…"]
    top = box.cy - len(lines) * TASK_LINE / 2 + TASK_FONT * 0.85
    marker = ""
    if sub:
        mx, my = box.cx - 7, box.y + box.h - 17
        marker = (
            f'<rect class="ftd-mark" x="{_num(mx)}" y="{_num(my)}" width="14" height="14"/>'
            f'<path class="ftd-mark" d="M{_num(mx + 3)} {_num(my + 7)} h8 '
            f'M{_num(mx + 7)} {_num(my + 3)} v8"/>'
        )
    return shape + _task_icon(tag, box.x, box.y) + marker + _text_lines(lines, box.cx, top, TASK_LINE)


def _gateway(tag: str, box: _Box) -> str:
    cx, cy = box.cx, box.cy
    shape = (
        f'<path class="ftd-shape" d="M{_num(cx)} {_num(box.y)} L{_num(box.x + box.w)} {_num(cy)} '
        f'L{_num(cx)} {_num(box.y + box.h)} L{_num(box.x)} {_num(cy)} Z"/>'
    )
    d = box.w * 0.2
    if tag == "parallelGateway":
        mark = (
            f'<path class="ftd-mark" d="M{_num(cx)} {_num(cy - d * 1.2)} v{_num(d * 2.4)} '
            f'M{_num(cx - d * 1.2)} {_num(cy)} h{_num(d * 2.4)}"/>'
        )
    elif tag == "inclusiveGateway":
        mark = f'<circle class="ftd-mark" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(d * 1.15)}"/>'
    elif tag == "eventBasedGateway":
        mark = (
            f'<circle class="ftd-mark" style="stroke-width:1.2" cx="{_num(cx)}" cy="{_num(cy)}" '
            f'r="{_num(d * 1.3)}"/>' + _polygon(cx, cy, d * 0.8, 5, "ftd-mark", "stroke-width:1.2")
        )
    else:
        # Exclusive (and anything unknown) gets the X: it is the gateway this project uses.
        mark = (
            f'<path class="ftd-mark" d="M{_num(cx - d)} {_num(cy - d)} L{_num(cx + d)} {_num(cy + d)} '
            f'M{_num(cx + d)} {_num(cy - d)} L{_num(cx - d)} {_num(cy + d)}"/>'
        )
    kind = tag.removesuffix("Gateway") if tag in GATEWAY_TAGS else "exclusive"
    return f'{shape}<g class="ftd-glyph ftd-glyph-{kind}">{mark}</g>'


def _polygon(cx: float, cy: float, r: float, sides: int, cls: str, style: str = "") -> str:
    angles = [2 * math.pi * i / sides for i in range(sides)]
    points = " ".join(f"{_num(cx + r * math.sin(a))},{_num(cy - r * math.cos(a))}" for a in angles)
    style_attr = f' style="{style}"' if style else ""
    return f'<polygon class="{cls}" points="{points}"{style_attr}/>'


def _clock(cx: float, cy: float, r: float) -> str:
    ticks = []
    for i in range(12):
        angle = 2 * math.pi * i / 12
        inner = r * (0.72 if i % 3 else 0.6)
        ticks.append(
            f"M{_num(cx + inner * math.sin(angle))} {_num(cy - inner * math.cos(angle))} "
            f"L{_num(cx + r * 0.9 * math.sin(angle))} {_num(cy - r * 0.9 * math.cos(angle))}"
        )
    return (
        f'<circle class="ftd-mark" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" style="fill:#fff"/>'
        f'<path class="ftd-mark" style="stroke-width:1" d="{" ".join(ticks)}"/>'
        f'<path class="ftd-mark" d="M{_num(cx)} {_num(cy)} L{_num(cx)} {_num(cy - r * 0.62)} '
        f'M{_num(cx)} {_num(cy)} L{_num(cx + r * 0.45)} {_num(cy + r * 0.1)}"/>'
    )


def _event(element: etree._Element, tag: str, box: _Box) -> str:
    cx, cy, r = box.cx, box.cy, box.w / 2
    interrupting = (
        element.get("cancelActivity", "true") != "false" and element.get("isInterrupting", "true") != "false"
    )
    dash = "" if interrupting else ' style="stroke-dasharray:5 3"'
    parts = [f'<circle class="ftd-shape" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}"{dash}/>']
    if tag in ("boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent"):
        parts.append(
            f'<circle class="ftd-mark" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r - 3)}" '
            f'style="stroke-width:1.2{";stroke-dasharray:5 3" if not interrupting else ""}"/>'
        )
    trigger = _trigger(element)
    glyph = _event_glyph(trigger, tag in ("endEvent", "intermediateThrowEvent"), cx, cy, r)
    if glyph:
        parts.append(f'<g class="ftd-glyph ftd-glyph-{trigger}">{glyph}</g>')
    return "".join(parts)


def _event_glyph(trigger: str | None, throwing: bool, cx: float, cy: float, r: float) -> str:
    """The trigger symbol inside an event; throwing events get it filled, as BPMN prescribes."""
    cls = "ftd-fill" if throwing else "ftd-mark"
    if trigger == "timer":
        return _clock(cx, cy, r * 0.58)
    if trigger == "signal":
        return _polygon(cx, cy + r * 0.08, r * 0.5, 3, cls, "stroke-width:1.4")
    if trigger == "message":
        w, h = r * 0.95, r * 0.66
        flap = ' style="stroke:#fff"' if throwing else ""
        return (
            f'<rect class="{cls}" x="{_num(cx - w / 2)}" y="{_num(cy - h / 2)}" width="{_num(w)}" '
            f'height="{_num(h)}"/><path class="ftd-mark"{flap} d="M{_num(cx - w / 2)} {_num(cy - h / 2)} '
            f'L{_num(cx)} {_num(cy + h * 0.08)} L{_num(cx + w / 2)} {_num(cy - h / 2)}"/>'
        )
    if trigger == "terminate":
        return f'<circle class="ftd-fill" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r * 0.6)}"/>'
    if trigger == "error":
        s = r * 0.5
        return (
            f'<path class="{cls}" d="M{_num(cx - s)} {_num(cy + s)} '
            f"L{_num(cx - s * 0.4)} {_num(cy - s)} L{_num(cx + s * 0.2)} {_num(cy + s * 0.2)} "
            f"L{_num(cx + s)} {_num(cy - s)} L{_num(cx + s * 0.4)} {_num(cy + s)} L{_num(cx - s * 0.2)} "
            f'{_num(cy - s * 0.2)} Z"/>'
        )
    return ""


def _rounded_path(points: Sequence[tuple[float, float]]) -> str:
    """The polyline through the waypoints with small rounded bends, as bpmn-js draws flows."""
    d = [f"M{_num(points[0][0])} {_num(points[0][1])}"]
    for i in range(1, len(points) - 1):
        (x0, y0), (x1, y1), (x2, y2) = points[i - 1], points[i], points[i + 1]
        len_in = math.hypot(x1 - x0, y1 - y0)
        len_out = math.hypot(x2 - x1, y2 - y1)
        r = min(CORNER, len_in / 2, len_out / 2)
        if r < 0.5:
            d.append(f"L{_num(x1)} {_num(y1)}")
            continue
        ax, ay = x1 - (x1 - x0) / len_in * r, y1 - (y1 - y0) / len_in * r
        bx, by = x1 + (x2 - x1) / len_out * r, y1 + (y2 - y1) / len_out * r
        d.append(f"L{_num(ax)} {_num(ay)} Q{_num(x1)} {_num(y1)} {_num(bx)} {_num(by)}")
    d.append(f"L{_num(points[-1][0])} {_num(points[-1][1])}")
    return " ".join(d)


def _flow_label_spot(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Where to put a flow name that has no DI label: beside the middle of the longest segment."""
    best = max(range(len(points) - 1), key=lambda i: math.dist(points[i], points[i + 1]))
    (x0, y0), (x1, y1) = points[best], points[best + 1]
    return (x0 + x1) / 2, (y0 + y1) / 2 - 6


def _label(name: str, box: _Box | None, fallback: tuple[float, float]) -> str:
    if box is not None:
        # The DI box was sized for 11px text; allow a little slack so rounding does not add a line.
        lines = wrap(name, max(box.w + 4, LABEL_FONT * 2), LABEL_FONT)
        top = box.y + LABEL_FONT * 0.95
        if len(lines) * LABEL_LINE < box.h:
            top += (box.h - len(lines) * LABEL_LINE) / 2
        return _text_lines(lines, box.cx, top, LABEL_LINE)
    lines = wrap(name, 90, LABEL_FONT)
    return _text_lines(lines, fallback[0], fallback[1], LABEL_LINE)


def _build(bpmn_xml: str, process_id: str) -> _Geometry:
    # resolve_entities/no_network: the XML comes from a deployed file, but a parser should never fetch.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(bpmn_xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise DiagramError(f"流程文件不是有效的XML：{exc}") from exc
    plane = _find_plane(root, process_id)
    if plane is None:
        raise DiagramError(f"流程文件中没有流程“{process_id}”的图形布局（BPMN DI）")

    elements: dict[str, etree._Element] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(f"{{{BPMN_NS}}}") and element.get("id"):
            elements[element.get("id", "")] = element
    default_flows = {element.get("default", "") for element in elements.values() if element.get("default")}
    process = elements.get(process_id)
    title = (process.get("name") if process is not None else None) or process_id

    extent = _Extent()
    pools: list[str] = []
    lanes: list[str] = []
    flows: list[_FlowPiece] = []
    shapes: list[_ShapePiece] = []
    boundary: list[_ShapePiece] = []
    labels: list[str] = []
    names: dict[str, str] = {}

    for di in plane:
        if not isinstance(di.tag, str):
            continue
        element = elements.get(di.get("bpmnElement", ""))
        if element is None:
            continue
        tag = _local(element)
        element_id = element.get("id", "")
        raw = (element.get("name") or "").strip()
        # Line breaks typed into a task name are kept; a pool or lane header has no room for them.
        name = " ".join(raw.split()) if tag in ("participant", "lane") else raw
        names[element_id] = name
        if _local(di) == "BPMNShape":
            box = _bounds(di)
            if box is None:
                continue
            extent.add(box.x, box.y, box.w, box.h)
            label_box = _label_bounds(di)
            if label_box is not None:
                extent.add(label_box.x, label_box.y, label_box.w, label_box.h)
            if tag == "participant":
                pools.append(_container("pool", element_id, name or title, box))
                continue
            if tag == "lane":
                lanes.append(_container("lane", element_id, name, box))
                continue
            if tag in TASK_TAGS:
                inner, classes = _task(tag, name, box), "ftd-task"
            elif tag in GATEWAY_TAGS:
                inner, classes = _gateway(tag, box), "ftd-gw"
                if name:
                    labels.append(_label(name, label_box, (box.cx, box.y + box.h + LABEL_FONT + 2)))
            elif tag in EVENT_TAGS:
                inner, classes = (
                    _event(element, tag, box),
                    "ftd-event" + (" ftd-end" if tag == "endEvent" else ""),
                )
                if name:
                    labels.append(_label(name, label_box, (box.cx, box.y + box.h + LABEL_FONT + 2)))
            else:
                continue  # data objects, annotations: not part of the route a case takes
            kind = KIND_NAMES.get(tag, tag)
            trigger = _trigger(element)
            if trigger in TRIGGER_NAMES:
                kind = TRIGGER_NAMES[trigger] + kind
            plain, done, active = (
                _group(classes, element_id, s, _title(kind, name, s) + inner) for s in ("", "done", "active")
            )
            piece = _ShapePiece(element_id, name, plain, done, active)
            (boundary if tag == "boundaryEvent" else shapes).append(piece)
        elif _local(di) == "BPMNEdge" and tag in ("sequenceFlow", "messageFlow"):
            points = [
                (float(wp.get("x", "0")), float(wp.get("y", "0"))) for wp in di.iter(f"{{{DI_NS}}}waypoint")
            ]
            if len(points) < 2:
                continue
            for x, y in points:
                extent.add(x, y)
            label_box = _label_bounds(di)
            if label_box is not None:
                extent.add(label_box.x, label_box.y, label_box.w, label_box.h)
            source, target = element.get("sourceRef", ""), element.get("targetRef", "")
            d = _rounded_path(points)
            source_name = elements[source].get("name", source) if source in elements else source
            target_name = elements[target].get("name", target) if target in elements else target
            what = f"{'消息流' if tag == 'messageFlow' else '顺序流'}{('“' + name + '”') if name else ''}："
            description = f"{what}{source_name} → {target_name}"
            if tag == "messageFlow":
                plain = (
                    f'<g class="ftd-el ftd-flow ftd-message" data-element-id="{_attr(element_id)}">'
                    f"<title>{escape(description)}</title>"
                    f'<path d="{d}" marker-start="url(#ftd-msg-start)" marker-end="url(#ftd-msg-end)"/></g>'
                )
                taken = plain
            else:
                default = element_id in default_flows
                variants = []
                for state in ("", "taken"):
                    arrow = ARROW_TAKEN if state else ARROW
                    start = f' marker-start="url(#ftd-default{"-taken" if state else ""})"' if default else ""
                    variants.append(
                        f'<g class="ftd-el ftd-flow{" ftd-taken" if state else ""}" '
                        f'data-element-id="{_attr(element_id)}"><title>{escape(description)}'
                        f"{'（已走过）' if state else ''}</title>"
                        f'<path d="{d}"{start} marker-end="url(#{arrow})"/></g>'
                    )
                plain, taken = variants
            flows.append(_FlowPiece(source, target, plain, taken))
            if name:
                labels.append(_label(name, label_box, _flow_label_spot(points)))

    if extent.x1 == math.inf:
        raise DiagramError(f"流程“{process_id}”的图形布局是空的")
    width, height = extent.x2 - extent.x1 + 2 * PAD, extent.y2 - extent.y1 + 2 * PAD
    view_box = " ".join(_num(v) for v in (extent.x1 - PAD, extent.y1 - PAD, width, height))
    return _Geometry(
        view_box=view_box,
        title=title,
        background="".join(pools) + "".join(lanes),
        flows=tuple(flows),
        shapes=tuple(shapes + boundary),
        labels='<g class="ftd-label" aria-hidden="true">' + "".join(labels) + "</g>",
        names=names,
    )


@dataclass(frozen=True)
class _Source:
    """The cache key: the digest and process id; the text rides along without being compared."""

    digest: str
    process_id: str
    xml: str = field(compare=False, hash=False, repr=False)


@lru_cache(maxsize=32)
def _geometry(source: _Source) -> _Geometry:
    if "BPMNDiagram" not in source.xml:
        raise DiagramError(
            f"流程“{source.process_id}”的文件没有图形布局（BPMN DI），请用 fangtiao layout 生成后重新部署"
        )
    return _build(source.xml, source.process_id)


def _key(bpmn_xml: str, process_id: str) -> _Source:
    digest = hashlib.blake2b(bpmn_xml.encode("utf-8"), digest_size=16).hexdigest()
    return _Source(digest, process_id, bpmn_xml)


def render_svg(
    bpmn_xml: str, process_id: str, active: Collection[str] = (), completed: Collection[str] = ()
) -> str:
    """The procedure as an inline ``<svg>``; ``active`` (open tasks) and ``completed`` ids are marked.

    A flow counts as taken when both of its ends are completed or active.  Raises
    :class:`DiagramError` when the XML is broken or has no diagram for ``process_id``.
    """
    geometry = _geometry(_key(bpmn_xml, process_id))
    active_set = set(active)
    reached = active_set | set(completed)
    current = [geometry.names.get(i) or i for i in sorted(active_set) if i in geometry.names]
    aria = f"{geometry.title}流程图" + (f"，当前办理：{'、'.join(current)}" if current else "")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ftd" viewBox="{geometry.view_box}" width="100%" '
        f'preserveAspectRatio="xMidYMin meet" role="img" aria-label="{_attr(aria)}">',
        f"<title>{escape(aria)}</title><style>{STYLE}</style>",
        _DEFS,
        geometry.background,
    ]
    parts.extend(f.taken if f.source in reached and f.target in reached else f.plain for f in geometry.flows)
    parts.extend(
        s.active if s.element_id in active_set else s.done if s.element_id in reached else s.plain
        for s in geometry.shapes
    )
    parts.append(geometry.labels)
    parts.append("</svg>")
    return "".join(parts)


def element_names(bpmn_xml: str, process_id: str) -> dict[str, str]:
    """Id → name of every drawn element (for legends and tests), from the same cached parse."""
    return dict(_geometry(_key(bpmn_xml, process_id)).names)


_DEFS = _defs()
