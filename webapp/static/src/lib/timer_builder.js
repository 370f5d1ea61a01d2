// The side panel's timer builder: a timer's expression (timeDate) put together from a calendar function,
// the moment it counts from, a number (plus, optionally, a number from the case data) and, for a warning,
// the working days before the deadline. The server reads an expression back into these fields and
// evaluates it with the check's sample data (POST …/timer); an expression of any other shape stays
// editable as text below.

const FUNCTIONS = [
  ['deadline_days', '自然日（末日遇休息日顺延）'],
  ['deadline_working_days', '工作日'],
  ['deadline_months', '月'],
];

// the server's answers by expression, and the fields of each expression the builder wrote: selecting a
// timer again, or the panel drawn again after an edit, shows its fields at once
const answers = new Map();
const built = new Map();

function compose({ function: name, anchor, count, term, lead }) {
  const number = term ? `${count} + ${term}` : String(count);
  const deadline = `${name}(${anchor}, ${number})`;
  return lead === null ? deadline : `warning_time(${deadline}, ${lead})`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function row(label, ...inputs) {
  return el('div', { class: 'field' }, el('label', { for: inputs[0].id, text: label }), ...inputs);
}

function options(list, terms) {
  list.replaceChildren(...terms.map((t) => el('option', { value: t.path, label: `${t.label}（示例：${t.sample}）` })));
}

/**
 * The builder's fields above `area` (the expression as text). `write(expression)` stores an expression in
 * the model; `preview(expression)` asks the server ({ok, payload}).
 */
export function timerBuilder(area, write, preview) {
  const fn = el('select', { id: 'timer-function' }, ...FUNCTIONS.map(([value, text]) => el('option', { value, text })));
  const anchor = el('input', { id: 'timer-anchor', type: 'text', list: 'timer-anchors', spellcheck: 'false', placeholder: '如 acceptance["accepted_at"]' });
  const count = el('input', { id: 'timer-count', type: 'number', min: '0', step: '1', inputmode: 'numeric' });
  const term = el('input', { id: 'timer-term', type: 'text', list: 'timer-numbers', spellcheck: 'false', placeholder: '可不填，如 acceptance["extension_days"]' });
  const warning = el('input', { id: 'timer-warning', type: 'checkbox' });
  const lead = el('input', { id: 'timer-lead', type: 'number', min: '0', step: '1', inputmode: 'numeric', value: '1' });
  const anchors = el('datalist', { id: 'timer-anchors' });
  const numbers = el('datalist', { id: 'timer-numbers' });
  const note = el('p', { id: 'timer-note', class: 'hint' });
  const result = el('p', { id: 'timer-result', class: 'muted small', 'aria-live': 'polite' });
  const inputs = [fn, anchor, count, term, warning, lead];
  const box = el(
    'fieldset',
    { id: 'timer-builder', class: 'timer-builder' },
    el('legend', { text: '期限构建器' }),
    // the date first: the panel scrolls, and it is what each change is made for
    result,
    row('计算方式', fn),
    row('起算时间（案件数据）', anchor, anchors),
    row('期限数量', count),
    row('另加案件数据中的数量', term, numbers),
    el('div', { class: 'field' }, el('label', { class: 'inline', for: warning.id }, warning, ' 改为期限届满前的提醒（warning_time）')),
    row('提前工作日数', lead),
    note,
  );

  const mine = built.get(area.value.trim());

  function fill(parts) {
    fn.value = parts.function;
    anchor.value = parts.anchor;
    count.value = String(parts.count);
    term.value = parts.term || '';
    warning.checked = parts.lead !== null;
    lead.value = String(parts.lead ?? 1);
  }

  function enable(on) {
    for (const input of inputs) input.disabled = !on;
    lead.disabled = !on || !warning.checked;
  }

  function show({ ok, payload }) {
    if (payload.anchors) options(anchors, payload.anchors);
    if (payload.numbers) options(numbers, payload.numbers);
    const expression = area.value.trim();
    if (payload.parts) {
      // fields the builder itself filled may already be edited again: they are not overwritten
      if (!mine) fill(payload.parts);
      enable(true);
      note.textContent = '修改构建器的任一项，表达式随之改写。';
    } else {
      enable(!expression);
      note.textContent = expression ? '这个表达式不是构建器能表示的形式，请直接编辑下方的表达式文本。' : '';
    }
    const good = ok && !payload.error;
    result.className = good ? 'flash flash-success small' : 'alert small';
    result.textContent = good ? `按示例数据：${payload.display}` : payload.error;
  }

  async function ask(expression) {
    let answer = answers.get(expression);
    if (!answer) {
      answer = await preview(expression);
      if (answer.ok) answers.set(expression, answer); // a refused request is asked again next time
      if (!area.isConnected) return; // the panel was drawn again meanwhile
    }
    show(answer);
  }

  function build() {
    const number = Number.parseInt(count.value, 10);
    const ahead = Number.parseInt(lead.value, 10);
    if (!anchor.value.trim() || !(number >= 0) || (warning.checked && !(ahead >= 0))) {
      result.className = 'alert small';
      result.textContent = '请填写起算时间、期限数量和提前工作日数（不小于 0 的整数）。';
      return;
    }
    const parts = {
      function: fn.value,
      anchor: anchor.value.trim(),
      count: number,
      term: term.value.trim() || null,
      lead: warning.checked ? ahead : null,
    };
    built.set(compose(parts), parts);
    write(compose(parts));
  }

  for (const input of inputs) input.addEventListener('change', build);
  warning.addEventListener('change', () => {
    lead.disabled = !warning.checked;
  });
  if (mine) fill(mine);
  enable(Boolean(mine));
  result.textContent = '正在按示例数据计算…';
  ask(area.value.trim()).catch((error) => {
    result.className = 'alert small';
    result.textContent = `无法计算：${error.message}`;
  });
  return box;
}
