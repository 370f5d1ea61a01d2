// 录制场景: the policy officer works a case on the draft's procedure and the steps become a scenario.
// The page holds the scenario (name, clock, steps); every action posts the steps so far and the proposed
// step to the server, which replays them on a throwaway database running the draft and answers with the
// step as the scenario file holds it and the cases as they are after it — or why the step failed, in
// which case nothing is added unless the officer records the refusal itself, as a step the scenario checks
// is refused just so. Forms are drawn by the server with the task pages' own template; the extension's
// and the correction's (a reason, and rows of field and new value) are drawn here.

const root = document.getElementById('recorder');
const $ = (id) => document.getElementById(id);
const scenario = { name: '', clock: '', steps: [] };
let shown = null; // the last answer: the cases, who may register
// The step being written in the panel: `what` it is ({do, as, task?, case?, kind?}) and `collect`, which
// reads what was written into the rest of the proposal.
let target = null;
let refused = null; // the proposal the runtime last refused, with the error keys that record its refusal

const CHECKS = [
  ['status', '案件状态', true],
  ['outcome', '办理结果', true],
  ['open_tasks', '待办任务及期限', true],
  ['documents', '文书', false],
  ['timers', '定时器', false],
];

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

const userOption = (user) => el('option', { value: user.username, textContent: `${user.name}（${user.username}）` });

function say(box, text, kind = 'error') {
  box.replaceChildren();
  if (text) box.append(el('p', { className: kind === 'error' ? 'alert' : 'flash flash-success', textContent: text }));
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': root.dataset.csrf },
    body: JSON.stringify(body),
  });
  let payload;
  try {
    payload = await response.json();
  } catch (error) {
    payload = { error: `服务器返回了无法识别的答复（HTTP ${response.status}）` };
  }
  return { ok: response.ok, payload };
}

// The scenario so far replayed, with `extra` (a proposed step, a form to draw); the page is busy meanwhile.
async function replay(extra = {}) {
  root.dataset.state = 'busy';
  try {
    return await post(root.dataset.replayUrl, { clock: scenario.clock, steps: scenario.steps, ...extra });
  } finally {
    root.dataset.state = 'ready';
  }
}

const localTime = (date, time) => `${date}T${time || '00:00'}:00+08:00`;

// ---- what the cases look like --------------------------------------------------------------------

function taskRow(task, index) {
  const users = el('select', { className: 'rec-user', ariaLabel: '办理人' });
  users.append(...task.users.map(userOption));
  const button = el('button', { type: 'button', className: 'secondary rec-do', textContent: '办理', disabled: !task.users.length });
  button.addEventListener('click', () =>
    openForm({ do: 'complete', task: task.task, as: users.value, ...caseKey(index) }, `以${users.selectedOptions[0].textContent}的身份办理：${task.title}`),
  );
  const row = el(
    'tr',
    {},
    el('td', {}, task.title, el('br'), el('small', { className: 'muted', textContent: task.task })),
    el('td', { textContent: task.role_name }),
    el('td', { textContent: task.org_name || '—' }),
    el('td', { textContent: task.due_text }),
    el('td', {}, task.users.length ? users : '（演示用户中无人可办理）'),
    el('td', {}, button),
  );
  row.dataset.task = task.task;
  return row;
}

// A step's `case`: omitted for the last case registered, which is what a scenario means without it.
const caseKey = (index) => (index === shown.cases.length - 1 ? {} : { case: index });

function caseSection(item, index) {
  const tasks = el('tbody');
  item.tasks.forEach((task) => tasks.append(taskRow(task, index)));
  const head = el('tr', {}, ...['待办', '办理角色', '办理机构', '期限', '办理人', ''].map((t) => el('th', { textContent: t })));
  const checks = el('div', { className: 'form-actions rec-expect' }, '记为检查：');
  for (const [key, label, on] of CHECKS) {
    const box = el('input', { type: 'checkbox', value: key, checked: on, id: `rec-check-${index}-${key}` });
    checks.append(el('label', { className: 'choice single', htmlFor: box.id }, box, el('span', { textContent: label })));
  }
  const add = el('button', { type: 'button', className: 'secondary', id: `rec-expect-${index}`, textContent: '添加检查' });
  add.addEventListener('click', () => {
    const chosen = [...checks.querySelectorAll('input:checked')].map((box) => box.value);
    if (!chosen.length) {
      say($('rec-message'), '请至少选择一项要检查的内容');
      return;
    }
    const step = { do: 'expect', ...(item.expect.case === undefined ? {} : { case: item.expect.case }) };
    for (const key of chosen) step[key] = item.expect[key];
    propose(step);
  });
  checks.append(add);
  const timers = item.timers.map((t) => `${t.name}（${t.due_text}）`).join('、') || '无';
  const actions = el('div', { className: 'form-actions recorder-controls' });
  if (item.risk_reporters.length) {
    const reporter = el('select', { id: `rec-risk-user-${index}`, ariaLabel: '报告人' });
    reporter.append(...item.risk_reporters.map(userOption));
    const report = el('button', { type: 'button', className: 'secondary', id: `rec-risk-${index}`, textContent: '填写风险报告' });
    report.addEventListener('click', () =>
      openForm({ do: 'report_risk', as: reporter.value, ...caseKey(index) }, `以${reporter.selectedOptions[0].textContent}的身份报告风险：${item.case_no}`),
    );
    actions.append('报告风险：', reporter, report);
  }
  if (item.extenders.length) actions.append(extensionControls(item, index));
  if (item.in_force.length) actions.append(correctionControls(item, index));
  const section = el(
    'section',
    { className: 'recorded-case', id: `rec-case-${index}` },
    el('h3', { textContent: `案件 ${index}：${item.case_no}（${item.status_text}；办理结果：${item.outcome_text}）` }),
    item.tasks.length ? el('table', { className: 'list rec-tasks' }, el('thead', {}, head), tasks) : el('p', { className: 'muted', textContent: '没有待办任务。' }),
    el('p', { textContent: `文书：${item.document_titles.join('、') || '无'}；定时器：${timers}` }),
    actions,
    checks,
  );
  section.dataset.caseNo = item.case_no;
  return section;
}

function extensionControls(item, index) {
  const leader = el('select', { id: `rec-extend-user-${index}`, ariaLabel: '批准人' }, ...item.extenders.map(userOption));
  const open = el('button', { type: 'button', className: 'secondary', id: `rec-extend-${index}`, textContent: '延长信访办理期限' });
  open.addEventListener('click', () => {
    const reason = el('textarea', { id: 'f-extension_reason', rows: 2 });
    const body = el('div', { className: 'field', id: 'field-extension_reason' }, el('label', { htmlFor: reason.id, textContent: '延长理由' }), reason);
    openPanel(
      `以${leader.selectedOptions[0].textContent}的身份批准延长信访办理期限：${item.case_no}`,
      body,
      { do: 'extend_petition', as: leader.value, ...caseKey(index) },
      () => ({ reason: reason.value }),
    );
  });
  return el('span', {}, '延期：', leader, open);
}

// A correction: the document (its kind names it in the scenario), the issuing body's user, the reason, and
// rows of a text field of the document with its new value (prefilled with the value it has now).
function correctionControls(item, index) {
  const kind = el('select', { id: `rec-correct-doc-${index}`, ariaLabel: '要更正的文书' });
  for (const d of item.in_force) kind.append(el('option', { value: d.kind, textContent: `${d.title}（${d.number}）` }));
  const user = el('select', { id: `rec-correct-user-${index}`, ariaLabel: '更正人' });
  const open = el('button', { type: 'button', className: 'secondary', id: `rec-correct-${index}`, textContent: '更正文书' });
  const chosen = () => item.in_force.find((d) => d.kind === kind.value);
  const users = () => {
    user.replaceChildren(...chosen().correctors.map(userOption));
    open.disabled = !chosen().correctors.length;
  };
  kind.addEventListener('change', users);
  users();
  open.addEventListener('click', () => {
    const doc = chosen();
    const reason = el('textarea', { id: 'f-correction_reason', rows: 2 });
    const rows = el('tbody');
    const addRow = () => {
      const field = el('select', { className: 'rec-change-field', ariaLabel: '字段' }, el('option', { value: '', textContent: '（选择字段）' }));
      for (const text of doc.texts) field.append(el('option', { value: text.key, textContent: `${text.label}（${text.key}）` }));
      const value = el('input', { type: 'text', className: 'rec-change-value', ariaLabel: '新值', size: 40 });
      field.addEventListener('change', () => {
        value.value = doc.texts.find((t) => t.key === field.value)?.value ?? '';
      });
      rows.append(el('tr', {}, el('td', {}, field), el('td', {}, value)));
    };
    addRow();
    const more = el('button', { type: 'button', className: 'secondary', id: 'rec-change-add', textContent: '再加一行' });
    more.addEventListener('click', addRow);
    const head = el('tr', {}, el('th', { textContent: '字段' }), el('th', { textContent: '更正为' }));
    const body = el(
      'div',
      {},
      el('div', { className: 'field', id: 'field-correction_reason' }, el('label', { htmlFor: reason.id, textContent: '更正原因' }), reason),
      el('table', { className: 'list', id: 'rec-changes' }, el('thead', {}, head), rows),
      more,
    );
    openPanel(
      `以${user.selectedOptions[0].textContent}的身份更正${doc.title}（${doc.number}）`,
      body,
      { do: 'correct_document', kind: doc.kind, as: user.value, ...caseKey(index) },
      () => ({
        reason: reason.value,
        rows: [...rows.children].map((row) => [row.querySelector('.rec-change-field').value, row.querySelector('.rec-change-value').value]),
      }),
    );
  });
  return el('span', {}, '更正：', kind, user, open);
}

function show(payload) {
  shown = payload;
  $('rec-clock').textContent = payload.now_text;
  $('rec-cases').replaceChildren(...payload.cases.map(caseSection));
  if (!payload.cases.length) $('rec-cases').append(el('p', { className: 'muted', textContent: '尚未登记案件。' }));
  const registrar = $('rec-registrar');
  const chosen = registrar.value;
  registrar.replaceChildren(...payload.registrars.map(userOption));
  if (chosen) registrar.value = chosen;
  $('rec-steps').replaceChildren(...scenario.steps.map((step) => el('li', {}, el('code', { textContent: JSON.stringify(step) }))));
  $('rec-undo').disabled = !scenario.steps.length;
  $('rec-body').hidden = false;
}

// ---- steps ---------------------------------------------------------------------------------------

// The step with `do` first, as scenario files are written (the server's JSON comes with its keys sorted).
const ordered = (step) => ({ do: step.do, ...step });

async function propose(step) {
  const { ok, payload } = await replay({ propose: step });
  if (!ok) {
    say($('rec-message'), `这一步未录入：${payload.error}`);
    return false;
  }
  added(payload);
  return true;
}

function added(payload) {
  scenario.steps.push(ordered(payload.step));
  const refusal = 'error' in payload.step || 'field_errors' in payload.step ? '，应被拒绝' : '';
  say($('rec-message'), `已录入第${scenario.steps.length}步（${payload.step.do}${refusal}）`, 'success');
  show(payload);
}

async function openForm(what, title) {
  const { ok, payload } = await replay({ form: what });
  if (!ok) {
    say($('rec-message'), payload.error);
    return;
  }
  $('rec-form-body').innerHTML = payload.form_html; // drawn by the server's own template, values escaped there
  window.fangtiaoForms.wireGroups($('rec-form-body'));
  openPanel(title, null, what, () => ({ fields: sent($('rec-form')) }));
}

// The panel shows the step being written (a form the server drew is already in its body).
function openPanel(title, body, what, collect) {
  target = { what, collect };
  $('rec-form-title').textContent = title;
  if (body) $('rec-form-body').replaceChildren(body);
  $('rec-form-error').hidden = true;
  $('rec-form-panel').hidden = false;
  forgetRefusal();
  say($('rec-message'), '');
  $('rec-form-panel').scrollIntoView();
}

function closePanel() {
  $('rec-form-panel').hidden = true;
  target = null;
  forgetRefusal();
}

function forgetRefusal() {
  refused = null;
  $('rec-expect-refusal').hidden = true;
}

// What the form sends, as a browser posts it: every value of every field; for a file field, the names of
// the files chosen (a scenario names its files; the server stands a small PDF in for each).
function sent(form) {
  const fields = {};
  for (const input of form.elements) {
    if (!input.name || input.disabled || input.closest('template')) continue;
    let values;
    if (input.type === 'file') values = [...input.files].map((file) => file.name);
    else if (input.type === 'checkbox' || input.type === 'radio') values = input.checked ? [input.value] : [];
    else values = [input.value];
    fields[input.name] = [...(fields[input.name] || []), ...values];
  }
  return fields;
}

function showFieldErrors(errors) {
  const body = $('rec-form-body');
  body.querySelectorAll('.rec-error').forEach((p) => p.remove());
  body.querySelectorAll('.has-error').forEach((div) => div.classList.remove('has-error'));
  for (const [name, text] of Object.entries(errors || {})) {
    const field = body.querySelector(`[id="field-${name}"]`);
    if (!field) continue;
    field.classList.add('has-error');
    field.append(el('p', { className: 'error rec-error', id: `err-${name}`, role: 'alert', textContent: text }));
  }
}

// A refusal by the runtime may itself be recorded: the same proposal with the error keys it gave.
async function submitStep(proposal) {
  const { ok, payload } = await replay({ propose: proposal });
  if (!ok) {
    $('rec-form-error').textContent = `这一步未录入：${payload.error}`;
    $('rec-form-error').hidden = false;
    showFieldErrors(payload.errors);
    refused = payload.refusal ? { ...proposal, ...payload.refusal } : null;
    $('rec-expect-refusal').hidden = !refused;
    return;
  }
  closePanel();
  added(payload);
}

async function moveClock(step) {
  if ((await propose(step)) && $('rec-fire').checked) await propose({ do: 'timers' });
}

async function begin() {
  const clock = localTime($('rec-start-date').value, $('rec-start-time').value);
  if (scenario.steps.length && !window.confirm('重新开始将清除已录制的步骤，确定吗？')) return;
  const previous = { ...scenario, steps: [...scenario.steps] };
  Object.assign(scenario, { clock, steps: [] });
  const { ok, payload } = await replay();
  if (!ok) {
    Object.assign(scenario, previous);
    say($('rec-message'), payload.error);
    return;
  }
  closePanel();
  say($('rec-message'), '已开始录制：请登记案件', 'success');
  show(payload);
}

async function undo() {
  const last = scenario.steps.pop();
  const { ok, payload } = await replay();
  if (!ok) {
    scenario.steps.push(last);
    say($('rec-message'), payload.error);
    return;
  }
  say($('rec-message'), `已撤销第${scenario.steps.length + 1}步`, 'success');
  show(payload);
}

async function save() {
  const name = $('rec-name').value.trim();
  if (!name) {
    say($('rec-save-message'), '请填写场景名称');
    return;
  }
  if (!scenario.steps.length) {
    say($('rec-save-message'), '场景还没有步骤');
    return;
  }
  const body = { scenario: { name, clock: scenario.clock, steps: scenario.steps }, expected_revision: Number(root.dataset.revision) };
  const { ok, payload } = await post(root.dataset.saveUrl, body);
  if (!ok) {
    say($('rec-save-message'), `未保存：${payload.error}`);
    return;
  }
  root.dataset.revision = String(payload.revision);
  say($('rec-save-message'), `已保存为 ${payload.file}（草稿修订 ${payload.revision}）；回到草稿“检查并运行场景”即可运行它。`, 'success');
}

$('rec-begin').addEventListener('click', begin);
$('rec-open-register').addEventListener('click', () => {
  const registrar = $('rec-registrar');
  openForm({ do: 'start', as: registrar.value }, `以${registrar.selectedOptions[0].textContent}的身份登记信访事项`);
});
$('rec-advance').addEventListener('click', () => {
  const by = {};
  for (const [key, id] of [['days', 'rec-days'], ['hours', 'rec-hours']]) {
    const value = Number($(id).value);
    if (value) by[key] = value;
  }
  if (!Object.keys(by).length) {
    say($('rec-message'), '请填写要推进的天数或小时数');
    return;
  }
  moveClock({ do: 'advance', by });
});
$('rec-clock-to').addEventListener('click', () => {
  if (!$('rec-to-date').value) {
    say($('rec-message'), '请选择要拨到的日期');
    return;
  }
  moveClock({ do: 'clock', to: localTime($('rec-to-date').value, $('rec-to-time').value) });
});
$('rec-timers').addEventListener('click', () => propose({ do: 'timers' }));
$('rec-form').addEventListener('submit', (event) => {
  event.preventDefault();
  submitStep({ ...target.what, ...target.collect() });
});
$('rec-expect-refusal').addEventListener('click', () => submitStep(refused));
$('rec-cancel').addEventListener('click', closePanel);
$('rec-undo').addEventListener('click', undo);
$('rec-save').addEventListener('click', save);
root.dataset.state = 'ready';
