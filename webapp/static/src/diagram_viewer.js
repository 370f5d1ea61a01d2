// The procedure diagram for everyone (case pages, the administrators' instance pages): bpmn-js's
// NavigatedViewer over the BPMN XML of the case's version. Every element with `data-diagram-viewer` is
// mounted on load (see templates/_diagram_viewer.html); `window.fangtiaoDiagram.mount(element)` mounts
// one added later.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

// the scale at which a step's label is as large as the page's text
const READABLE = 1.0;
const MARKERS = { done: 'step-done', current: 'step-current', overdue: 'step-overdue' };

function focus(canvas, registry, ids) {
  const shapes = ids.map((id) => registry.get(id)).filter(Boolean);
  if (!shapes.length) {
    canvas.zoom('fit-viewport');
    return;
  }
  const left = Math.min(...shapes.map((s) => s.x));
  const top = Math.min(...shapes.map((s) => s.y));
  const right = Math.max(...shapes.map((s) => s.x + s.width));
  const bottom = Math.max(...shapes.map((s) => s.y + s.height));
  const outer = canvas.viewbox().outer;
  // readable, but all current steps in view when several are open at once
  const scale = Math.min(READABLE, (outer.width - 40) / (right - left), (outer.height - 40) / (bottom - top));
  const width = outer.width / scale;
  const height = outer.height / scale;
  canvas.viewbox({ x: (left + right) / 2 - width / 2, y: (top + bottom) / 2 - height / 2, width, height });
}

function showHistory(root, element) {
  const panel = root.querySelector('.diagram-history');
  const template = [...root.querySelectorAll('template[data-step]')].find((t) => t.dataset.step === element.id);
  const name = (element.businessObject && element.businessObject.name) || element.id;
  panel.replaceChildren();
  const heading = document.createElement('h3');
  heading.textContent = `${name}：办理记录`;
  panel.append(heading);
  if (template) {
    panel.append(template.content.cloneNode(true));
  } else {
    const none = document.createElement('p');
    none.className = 'muted';
    none.textContent = '该环节尚无办理记录。';
    panel.append(none);
  }
  panel.dataset.step = element.id;
  panel.hidden = false;
}

export async function mount(root) {
  const status = root.querySelector('.diagram-status');
  const marks = JSON.parse(root.dataset.marks || '{}');
  const viewer = new NavigatedViewer({ container: root.querySelector('.diagram-canvas') });
  let warnings;
  try {
    const response = await fetch(root.dataset.xmlUrl, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    ({ warnings } = await viewer.importXML(await response.text()));
  } catch (error) {
    status.textContent = `流程图无法显示：${error.message}`;
    root.dataset.state = 'error';
    return null;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [kind, marker] of Object.entries(MARKERS)) {
    for (const id of marks[kind] || []) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  }
  const current = [...(marks.current || [])];
  const actions = {
    current: () => focus(canvas, registry, current),
    fit: () => canvas.zoom('fit-viewport', 'auto'),
    'zoom-in': () => canvas.zoom(canvas.zoom() * 1.25),
    'zoom-out': () => canvas.zoom(canvas.zoom() / 1.25),
  };
  root.querySelectorAll('[data-action]').forEach((button) => {
    button.addEventListener('click', () => actions[button.dataset.action]());
  });
  viewer.get('eventBus').on('element.click', ({ element }) => {
    if (element.type !== 'bpmn:Process' && element.type !== 'bpmn:Collaboration' && !element.labelTarget) {
      showHistory(root, element);
    }
  });
  actions.current();
  status.textContent = current.length
    ? '已定位到当前环节。拖动可平移，滚轮（按住 Ctrl）或按钮可缩放；点击环节查看其办理记录。'
    : '拖动可平移，滚轮（按住 Ctrl）或按钮可缩放；点击环节查看其办理记录。';
  root.dataset.warnings = String(warnings.length);
  root.dataset.state = 'ready';
  root.viewer = viewer;
  return viewer;
}

window.fangtiaoDiagram = { mount, focus };
document.querySelectorAll('[data-diagram-viewer]').forEach((root) => {
  mount(root);
});
