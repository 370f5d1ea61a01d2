// The modeler's side panel, in Chinese: the properties a policy officer changes here — an element's name,
// a user task's form and lane, a service task's operation, a timer's expression (built in
// lib/timer_builder.js, or written), an exclusive gateway's conditions and default flow. Every change goes
// through bpmn-js's modeling commands (undo works, the draft is marked changed).
import { timerBuilder } from './timer_builder';

const KINDS = {
  'bpmn:UserTask': '人工环节',
  'bpmn:ServiceTask': '自动环节（服务）',
  'bpmn:BusinessRuleTask': '规则环节',
  'bpmn:ExclusiveGateway': '排他网关',
  'bpmn:ParallelGateway': '并行网关',
  'bpmn:SequenceFlow': '连线',
  'bpmn:BoundaryEvent': '边界事件',
  'bpmn:IntermediateCatchEvent': '中间事件',
  'bpmn:StartEvent': '开始事件',
  'bpmn:EndEvent': '结束事件',
  'bpmn:Lane': '泳道',
};

const TIMER_HELP =
  '期限函数：deadline_days(起点, 日数)（自然日，末日遇休息日顺延）、deadline_working_days(起点, 工作日数)、' +
  'deadline_months(起点, 月数)、warning_time(期限, 提前工作日数)。起点如 acceptance["accepted_at"]。';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function field(label, input, help) {
  const id = input.id;
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), input, ...(help ? [el('small', { class: 'hint', text: help })] : []));
}

function extension(bo, type) {
  return ((bo.extensionElements && bo.extensionElements.values) || []).find((v) => v.$type === type);
}

function lanes(modeler) {
  return modeler.get('elementRegistry').filter((e) => e.type === 'bpmn:Lane');
}

function laneOf(modeler, element) {
  const middle = element.y + element.height / 2;
  const center = element.x + element.width / 2;
  return lanes(modeler).find((l) => l.y <= middle && middle <= l.y + l.height && l.x <= center && center <= l.x + l.width);
}

function formSection(modeler, element, forms) {
  const modeling = modeler.get('modeling');
  const bo = element.businessObject;
  const properties = extension(bo, 'spiffworkflow:Properties');
  const property = properties && properties.values.find((p) => p.name === 'formName');
  const select = el('select', { id: 'prop-form' });
  const current = property ? property.value : '';
  for (const name of ['', ...forms]) {
    const option = el('option', { value: name, text: name || '（未指定）' });
    if (name === current) option.selected = true;
    select.append(option);
  }
  if (current && !forms.includes(current)) select.append(el('option', { value: current, text: `${current}（不存在）`, selected: '' }));
  select.addEventListener('change', () => {
    const moddle = modeler.get('moddle');
    if (property) {
      modeling.updateModdleProperties(element, property, { value: select.value });
      return;
    }
    const created = moddle.create('spiffworkflow:Property', { name: 'formName', value: select.value });
    const list = moddle.create('spiffworkflow:Properties', { values: [created] });
    const ext = bo.extensionElements || moddle.create('bpmn:ExtensionElements', { values: [] });
    modeling.updateModdleProperties(element, ext, { values: [...ext.values, list] });
    if (!bo.extensionElements) modeling.updateProperties(element, { extensionElements: ext });
  });

  const laneSelect = el('select', { id: 'prop-lane' });
  const here = laneOf(modeler, element);
  for (const lane of lanes(modeler)) {
    const option = el('option', { value: lane.id, text: lane.businessObject.name || lane.id });
    if (here && lane.id === here.id) option.selected = true;
    laneSelect.append(option);
  }
  laneSelect.addEventListener('change', () => {
    const target = modeler.get('elementRegistry').get(laneSelect.value);
    // moving the task into the lane's band: bpmn-js rewrites the lanes' flowNodeRefs from the position
    const dy = target.y + target.height / 2 - (element.y + element.height / 2);
    modeling.moveElements([element], { x: 0, y: dy });
  });
  return [
    field('表单', select, '办理该环节时填写的表单（见“表单”页）。'),
    field('泳道（办理角色）', laneSelect, '环节所在的泳道决定由哪个角色办理。'),
  ];
}

function operationSection(modeler, element) {
  const operator = extension(element.businessObject, 'spiffworkflow:ServiceTaskOperator');
  if (!operator) return [el('p', { class: 'muted', text: '该环节未指定服务操作。' })];
  const input = el('input', { id: 'prop-operation', value: operator.id || '' });
  input.addEventListener('change', () => {
    modeler.get('modeling').updateModdleProperties(element, operator, { id: input.value.trim() });
  });
  const result = el('input', { id: 'prop-result', value: operator.resultVariable || '' });
  result.addEventListener('change', () => {
    modeler.get('modeling').updateModdleProperties(element, operator, { resultVariable: result.value.trim() });
  });
  const parameters = ((operator.parameterList && operator.parameterList.parameters) || []).map((p) => {
    const param = el('input', { id: `prop-param-${p.id}`, value: p.value || '' });
    param.addEventListener('change', () => {
      modeler.get('modeling').updateModdleProperties(element, p, { value: param.value });
    });
    return field(`参数 ${p.id}`, param);
  });
  return [
    field('服务操作', input, '形如 fangtiao/操作名，须是处理程序提供的操作（检查时核对）。'),
    field('结果存入', result),
    ...parameters,
  ];
}

function timerSection(modeler, element, preview) {
  const definition = (element.businessObject.eventDefinitions || []).find((d) => d.$type === 'bpmn:TimerEventDefinition');
  if (!definition) return [];
  const expression = definition.timeDate || definition.timeDuration || definition.timeCycle;
  const kind = definition.timeDate ? '到期时间' : definition.timeDuration ? '持续时间' : '周期';
  const area = el('textarea', { id: 'prop-timer', rows: '4', spellcheck: 'false' });
  area.value = expression ? expression.body || '' : '';
  const write = (body) => {
    const modeling = modeler.get('modeling');
    if (expression) {
      modeling.updateModdleProperties(element, expression, { body });
    } else {
      const created = modeler.get('moddle').create('bpmn:FormalExpression', { body });
      modeling.updateModdleProperties(element, definition, { timeDate: created });
    }
  };
  area.addEventListener('change', () => write(area.value.trim()));
  const text = field(`定时（${kind}表达式）`, area, TIMER_HELP);
  // the builder writes deadlines, which are moments: durations and cycles stay text
  if (definition.timeDuration || definition.timeCycle) return [text];
  return [timerBuilder(area, write, preview), text];
}

function gatewaySection(modeler, element) {
  const modeling = modeler.get('modeling');
  const bo = element.businessObject;
  const rows = element.outgoing.map((flow) => {
    const flowBo = flow.businessObject;
    const target = flow.target.businessObject.name || flow.target.id;
    const input = el('input', { id: `prop-condition-${flow.id}`, value: flowBo.conditionExpression ? flowBo.conditionExpression.body || '' : '' });
    const isDefault = bo.default && bo.default.id === flowBo.id;
    if (isDefault) input.disabled = true;
    input.addEventListener('change', () => {
      const body = input.value.trim();
      if (flowBo.conditionExpression) {
        modeling.updateModdleProperties(flow, flowBo.conditionExpression, { body });
      } else {
        modeling.updateProperties(flow, { conditionExpression: modeler.get('moddle').create('bpmn:FormalExpression', { body }) });
      }
    });
    const radio = el('input', { type: 'radio', name: 'prop-default', id: `prop-default-${flow.id}` });
    radio.checked = Boolean(isDefault);
    radio.addEventListener('change', () => {
      modeling.updateProperties(element, { default: flowBo });
      if (flowBo.conditionExpression) modeling.updateProperties(flow, { conditionExpression: undefined });
    });
    return el(
      'div',
      { class: 'field condition' },
      el('label', { for: input.id, text: `→ ${target}${flowBo.name ? `（${flowBo.name}）` : ''}` }),
      input,
      el('label', { class: 'inline', for: radio.id }, radio, ' 默认路径'),
    );
  });
  return [
    el('h4', { text: '出口条件' }),
    el('p', { class: 'hint', text: '每条出口写一个条件，如 consent == "agree"；没有条件满足时走默认路径。' }),
    ...rows,
  ];
}

// `preview(expression)` evaluates a timer's expression on the server for the builder
export function renderPanel(panel, modeler, element, forms, preview) {
  panel.replaceChildren();
  if (!element || element.labelTarget) {
    panel.append(el('p', { class: 'muted', text: '选择一个环节、网关、定时事件或连线，在此编辑其属性。' }));
    return;
  }
  const bo = element.businessObject;
  panel.dataset.element = element.id;
  panel.append(el('h3', { text: KINDS[element.type] || element.type.replace('bpmn:', '') }), el('p', { class: 'muted small', text: `编号 ${element.id}` }));
  if (!['bpmn:Process', 'bpmn:Collaboration'].includes(element.type)) {
    const name = el('input', { id: 'prop-name', value: bo.name || '' });
    name.addEventListener('change', () => modeler.get('modeling').updateLabel(element, name.value));
    panel.append(field('名称', name));
  }
  const sections = [];
  if (element.type === 'bpmn:UserTask') sections.push(...formSection(modeler, element, forms));
  if (element.type === 'bpmn:ServiceTask') sections.push(...operationSection(modeler, element));
  if (element.type === 'bpmn:ExclusiveGateway') sections.push(...gatewaySection(modeler, element));
  sections.push(...timerSection(modeler, element, preview));
  panel.append(...sections);
}
