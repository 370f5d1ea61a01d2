"""Generate the diagram layout (BPMN DI) for the hand-written procedure files.

The BPMN files under ``processes/`` are written by hand as XML, without a
``bpmndi:BPMNDiagram``, and bpmn-js and Camunda Modeler cannot open a file
without one.  :func:`add_layout` computes a layered left-to-right layout and
writes it into the document, leaving every other byte of the file as it was so
that the diff of a re-layout only ever touches the diagram block.  Run it again
(``fangtiao layout FILE...``) after editing a procedure.

Layout outline, one module a step:

* ``graph``: the lanes, flow nodes and sequence flows of each process are read
  from the XML;
* ``ranking``: columns come from longest-path layering over the sequence flows,
  with back edges (found by a DFS from the start events) ignored; every lane of
  the lane set is a horizontal band; a node sits in the band of its lane and
  several nodes of one band in one column are stacked in rows;
* ``placement``: columns and bands get their sizes, shapes their coordinates;
  boundary events sit on the bottom edge of their host;
* ``routing`` and ``router``: sequence flows are routed orthogonally by an A*
  search on a sparse grid whose obstacles are the (inflated) shapes, so no flow
  crosses a shape;
* ``labels``: labels are placed last, each at the candidate spot that collides
  least with what is already drawn (``text`` sizes them);
* ``diagrams`` puts pools and sub-processes together, ``render`` writes the DI
  as XML and ``document`` puts it into the file.
"""

from __future__ import annotations

from orchestration.tools.layout.command import main
from orchestration.tools.layout.document import add_layout
from orchestration.tools.layout.geometry import Rect

__all__ = ["Rect", "add_layout", "main"]
