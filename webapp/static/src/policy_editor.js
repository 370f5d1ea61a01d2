// 流程管理's draft editor: bpmn-js's Modeler with a side panel in Chinese for the properties that matter
// here, dmn-js for the scope rules, the forms as JSON with a live preview (rendered by the server with the
// task pages' own template), and save / check / scenarios / deploy over the draft's JSON routes. The
// check's findings are marked where they are (lib/findings.js): in the diagram, the table or the form.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import DmnModeler from 'dmn-js/lib/Modeler';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';
import spiffworkflow from './lib/spiffworkflow';
import { renderPanel } from './lib/properties_panel';
import { editorOf, fieldLine, tableNode, tableStyle } from './lib/findings';

const root = document.getElementById('editor');
const state = { files: {}, revision: 0, dirty: false, forms: {}, findings: [] };
const $ = (id) => document.getElementById(id);

function message(text, kind = 'error') {
  const box = $('editor-message');
  box.replaceChildren();
  if (!text) return;
  const p = document.createElement('p');
  p.className = kind === 'error' ? 'alert' : kind === 'conflict' ? 'alert conflict' : 'flash flash-success';
  p.textContent = text;
  box.append(p);
}

function setDirty(dirty) {
  state.dirty = dirty;
  $('dirty').hidden = !dirty;
}

async function call(url, body) {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': root.dataset.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let payload = {};
  try {
    payload = await response.json();
  } catch (error) {
    payload = { error: `服务器返回了无法识别的答复（HTTP ${response.status}）` };
  }
  return { ok: response.ok, status: response.status, payload };
}

// ---- tabs ---------------------------------------------------------------------------------------------

function showTab(id) {
  document.querySelectorAll('.tab').forEach((tab) => tab.classList.toggle('current', tab.dataset.tab === id));
  document.querySelectorAll('.tab-panel').forEach((panel) => {
    panel.hidden = panel.id !== id;
  });
  if (id === 'tab-rules') openTable();
}
document.querySelectorAll('.tab').forEach((tab) => tab.addEventListener('click', () => showTab(tab.dataset.tab)));

// ---- the diagram --------------------------------------------------------------------------------------

const modeler = new BpmnModeler({
  container: $('modeler'),
  moddleExtensions: { spiffworkflow },
});
const diagramFile = () => $('diagram-file').value;

// the timer builder's evaluation with the check's sample data of the saved draft
const evaluateTimer = (expression) => call(root.dataset.timerUrl, { expression });

modeler.on('selection.changed', ({ newSelection }) => {
  renderPanel($('properties'), modeler, newSelection[0], formNames(), evaluateTimer);
});
modeler.on('commandStack.changed', () => {
  setDirty(true);
  const selected = modeler.get('selection').get()[0];
  renderPanel($('properties'), modeler, selected, formNames(), evaluateTimer);
});

async function openDiagram() {
  const name = diagramFile();
  if (!name) return;
  const { warnings } = await modeler.importXML(state.files[name]);
  root.dataset.importWarnings = String(warnings.length);
  modeler.get('canvas').zoom('fit-viewport');
}

// ---- the scope rules ----------------------------------------------------------------------------------

// every keystroke in a cell reaches the model at once: a save right after typing keeps it
const dmn = new DmnModeler({
  container: $('dmn-editor'),
  common: { debounceInput: false },
});
let dmnLoaded = false;
// the table as dmn-js writes it before any edit: only a table that differs from it is saved, so opening
// the rules does not rewrite the file
let dmnPristine = null;
// opened once, whoever asks first (the tab, or a finding shown in it)
let tableOpened = null;

function openTable() {
  if (!tableOpened) tableOpened = importTable();
  return tableOpened;
}

async function importTable() {
  const name = $('rules-file').value;
  if (!name) return;
  await dmn.importXML(state.files[name]);
  const table = dmn.getViews().find((view) => view.type === 'decisionTable');
  if (table) await dmn.open(table);
  dmnLoaded = true;
  dmnPristine = (await dmn.saveXML({ format: true })).xml;
  const active = dmn.getActiveViewer();
  if (active) active.on('elements.changed', () => setDirty(true));
}

// ---- the forms ----------------------------------------------------------------------------------------

function formNames() {
  return Object.keys(state.files)
    .filter((name) => name.startsWith('forms/'))
    .map((name) => name.slice(6, -5));
}

let previewTimer = null;
async function preview() {
  const name = $('form-select').value;
  const response = await fetch(root.dataset.previewUrl, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': root.dataset.csrf },
    body: JSON.stringify({ name: name.slice(6, -5), text: $('form-text').value }),
  });
  $('form-preview').innerHTML = await response.text();
}

function openForm() {
  const name = $('form-select').value;
  if (!name) return;
  $('form-text').value = state.forms[name] ?? state.files[name];
  preview();
  formFindings(name);
}

// the line of a form's JSON defining the field, selected and scrolled to
function selectField(field) {
  const area = $('form-text');
  const line = fieldLine(area.value, field);
  if (!line) return;
  area.focus();
  area.setSelectionRange(...line);
  const above = area.value.slice(0, line[0]).split('\n').length - 1;
  const height = Number.parseFloat(getComputedStyle(area).lineHeight) || 18;
  area.scrollTop = Math.max(0, above * height - area.clientHeight / 3);
}

// the last check's findings about the form shown, each able to select its field's line
function formFindings(name) {
  const list = $('form-findings');
  list.replaceChildren();
  for (const finding of state.findings.filter((f) => f.file === name)) {
    const item = document.createElement('li');
    item.className = `finding finding-${finding.severity}`;
    item.dataset.field = finding.element_id || '';
    item.textContent = finding.message;
    if (finding.element_id && fieldLine($('form-text').value, finding.element_id)) {
      const show = document.createElement('button');
      show.type = 'button';
      show.className = 'linklike small';
      show.textContent = '选中该字段';
      show.addEventListener('click', () => selectField(finding.element_id));
      item.append(' ', show);
    }
    list.append(item);
  }
}
$('form-select').addEventListener('change', openForm);
$('form-text').addEventListener('input', () => {
  state.forms[$('form-select').value] = $('form-text').value;
  setDirty(true);
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, 300);
});

// ---- saving, checking, deploying ----------------------------------------------------------------------

async function collect() {
  const files = { ...state.files, ...state.forms };
  const name = diagramFile();
  if (name) files[name] = (await modeler.saveXML({ format: true })).xml;
  if (dmnLoaded) {
    const { xml } = await dmn.saveXML({ format: true });
    if (xml !== dmnPristine) files[$('rules-file').value] = xml;
  }
  return files;
}

async function save() {
  const files = await collect();
  const { ok, status, payload } = await call(root.dataset.filesUrl, { files, expected_revision: state.revision });
  if (!ok) {
    message(status === 409 ? `保存冲突：${payload.error}` : `未保存：${payload.error}`, status === 409 ? 'conflict' : 'error');
    return false;
  }
  state.files = payload.files;
  state.forms = {};
  state.revision = payload.revision;
  if (dmnLoaded) dmnPristine = (await dmn.saveXML({ format: true })).xml;
  $('draft-revision').textContent = String(payload.revision);
  setDirty(false);
  message(`草稿已保存（修订 ${payload.revision}）。`, 'success');
  return true;
}

// the rules file's decisions and tables: a finding naming one outlines the table's name
function decisionIds(file) {
  if (!state.files[file]) return [];
  const xml = new DOMParser().parseFromString(state.files[file], 'application/xml');
  return [...xml.querySelectorAll('decision, decisionTable')].map((node) => node.getAttribute('id')).filter(Boolean);
}

const tableFindings = document.createElement('style');
document.head.append(tableFindings);

function highlight(findings) {
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  for (const old of state.findings) {
    if (old.element_id && registry.get(old.element_id)) {
      canvas.removeMarker(old.element_id, 'finding-error');
      canvas.removeMarker(old.element_id, 'finding-warning');
    }
  }
  state.findings = findings;
  for (const finding of findings) {
    if (editorOf(finding) === 'diagram' && finding.element_id && registry.get(finding.element_id)) {
      canvas.addMarker(finding.element_id, finding.severity === 'error' ? 'finding-error' : 'finding-warning');
    }
  }
  const rules = $('rules-file').value;
  tableFindings.textContent = tableStyle(findings, rules, decisionIds(rules));
  formFindings($('form-select').value);
}

// whether the editor has the file and element a finding names, and how to show it there
const SHOWN_IN = {
  diagram: ['在流程图中查看', (f) => f.element_id && modeler.get('elementRegistry').get(f.element_id)],
  table: ['在决策表中查看', (f) => f.file === $('rules-file').value],
  form: ['在表单中查看', (f) => f.file in state.files],
};

async function showFinding(finding) {
  const editor = editorOf(finding);
  if (editor === 'diagram') {
    showTab('tab-diagram');
    const element = modeler.get('elementRegistry').get(finding.element_id);
    modeler.get('selection').select(element);
    modeler.get('canvas').scrollToElement(element);
  } else if (editor === 'table') {
    showTab('tab-rules');
    await openTable();
    if (!finding.element_id) return;
    const node = tableNode(finding.element_id, decisionIds(finding.file));
    if (node) node.scrollIntoView({ block: 'center' });
    const viewer = dmn.getActiveViewer();
    if (viewer && viewer.get('elementRegistry').get(finding.element_id)) viewer.get('selection').select(finding.element_id);
  } else if (editor === 'form') {
    showTab('tab-forms');
    $('form-select').value = finding.file;
    openForm();
    if (finding.element_id) selectField(finding.element_id);
  }
}

function showFindings(findings) {
  const list = $('findings');
  list.replaceChildren();
  highlight(findings);
  const errors = findings.filter((f) => f.severity === 'error').length;
  $('check-status').textContent = errors
    ? `发现 ${errors} 个错误，${findings.length - errors} 个提示：有错误时不能部署。`
    : `检查通过${findings.length ? `（${findings.length} 个提示）` : ''}。`;
  $('check-status').className = errors ? 'alert' : 'flash flash-success';
  for (const finding of findings) {
    const item = document.createElement('li');
    item.className = `finding finding-${finding.severity}`;
    item.dataset.file = finding.file;
    item.dataset.element = finding.element_id || '';
    item.textContent = finding.line;
    const shown = SHOWN_IN[editorOf(finding)];
    if (shown && shown[1](finding)) {
      const show = document.createElement('button');
      show.type = 'button';
      show.className = 'linklike small';
      show.textContent = shown[0];
      show.addEventListener('click', () => showFinding(finding).catch((error) => message(error.message)));
      item.append(' ', show);
    }
    list.append(item);
  }
}

function yes(passed) {
  const cell = document.createElement('td');
  const tag = document.createElement('span');
  tag.textContent = passed ? '通过' : '未通过';
  tag.className = passed ? 'due due-normal' : 'due due-overdue';
  cell.append(tag);
  return cell;
}

function showScenarios(rows) {
  const table = $('scenario-report');
  const body = table.querySelector('tbody');
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement('tr');
    tr.dataset.file = row.file;
    const name = document.createElement('td');
    name.textContent = row.name;
    const differences = document.createElement('td');
    const list = document.createElement('ul');
    list.className = 'plain';
    for (const text of [row.draft_message && `草稿：${row.draft_message}`, row.deployed_message && `当前版本：${row.deployed_message}`, ...row.differences].filter(Boolean)) {
      const item = document.createElement('li');
      item.textContent = text;
      list.append(item);
    }
    differences.append(row.differences.length || row.draft_message ? list : '无');
    tr.append(name, yes(row.draft_passed), yes(row.deployed_passed), differences);
    body.append(tr);
  }
  table.hidden = false;
  const failed = rows.filter((r) => !r.draft_passed).length;
  const differing = rows.filter((r) => r.differences.length).length;
  $('scenario-status').textContent = `共 ${rows.length} 个场景：草稿上 ${failed} 个未通过，${differing} 个与当前版本结果不同。`;
  $('scenario-status').className = failed ? 'alert' : 'flash flash-success';
}

async function check() {
  if (state.dirty && root.dataset.mine && !(await save())) return;
  showTab('tab-results');
  $('check-status').textContent = '正在检查…';
  $('scenario-status').textContent = '等待检查完成…';
  const checked = await call(root.dataset.checkUrl, {});
  if (!checked.ok) {
    $('check-status').textContent = checked.payload.error;
    return;
  }
  showFindings(checked.payload.findings);
  $('scenario-status').textContent = '正在草稿和当前版本上分别运行全部场景（约需一两分钟）…';
  $('scenario-status').className = 'muted';
  const ran = await call(root.dataset.scenariosUrl, {});
  if (!ran.ok) {
    $('scenario-status').textContent = ran.payload.error;
    return;
  }
  showScenarios(ran.payload.rows);
  root.dataset.checked = String(state.revision);
}

async function deploy() {
  if (state.dirty && !(await save())) return;
  if (!window.confirm('部署后，新登记的案件将使用新版本；进行中的案件仍在原版本上，需另行迁移。确定部署吗？')) return;
  message('正在检查并部署…', 'success');
  const { ok, payload } = await call(root.dataset.deployUrl, {});
  if (!ok) {
    message(`未部署：${payload.error}`);
    if (payload.findings && payload.findings.length) {
      showTab('tab-results');
      showFindings(payload.findings);
    }
    return;
  }
  window.location.assign(payload.url);
}

const BLANK_SCENARIO = {
  name: '新场景：',
  clock: '2026-11-02T09:00:00+08:00',
  steps: [{ do: 'start', as: 'clerk', data: {} }],
};

$('scenario-base').addEventListener('change', () => {
  const name = $('scenario-base').value;
  $('scenario-text').value = name ? state.files[name] : JSON.stringify(BLANK_SCENARIO, null, 2);
});

async function recordScenario() {
  const box = $('scenario-message');
  let scenario;
  try {
    scenario = JSON.parse($('scenario-text').value);
  } catch (error) {
    box.textContent = `场景不是有效的 JSON：${error.message}`;
    box.className = 'alert';
    return;
  }
  if (state.dirty && !(await save())) return;
  const { ok, payload } = await call(root.dataset.recordUrl, { scenario, expected_revision: state.revision });
  if (!ok) {
    box.textContent = payload.error;
    box.className = 'alert';
    return;
  }
  state.files = payload.files;
  state.revision = payload.revision;
  $('draft-revision').textContent = String(payload.revision);
  box.textContent = `已保存为 ${payload.file}（草稿修订 ${payload.revision}）；“检查并运行场景”将一并运行它。`;
  box.className = 'flash flash-success';
}

$('record-scenario').addEventListener('click', recordScenario);
$('save-draft').addEventListener('click', save);
$('check-draft').addEventListener('click', check);
$('deploy-draft').addEventListener('click', deploy);
window.addEventListener('beforeunload', (event) => {
  if (state.dirty) event.preventDefault();
});

async function load() {
  const { ok, payload } = await call(root.dataset.filesUrl);
  if (!ok) {
    message(payload.error);
    return;
  }
  state.files = payload.files;
  state.revision = payload.revision;
  await openDiagram();
  openForm();
  $('scenario-text').value = JSON.stringify(BLANK_SCENARIO, null, 2);
  setDirty(false);
  root.dataset.state = 'ready';
}

window.fangtiaoEditor = { modeler, dmn, state, save };
load().catch((error) => message(`编辑器无法加载：${error.message}`));
