// Where a check's finding is shown: in the diagram (an element's marker), in the decision table (the
// cell, column or table it names, outlined) or in a form's JSON (the line of the field it names).

export function editorOf(finding) {
  if (finding.file.startsWith('forms/')) return 'form';
  if (finding.file.endsWith('.dmn')) return 'table';
  if (finding.file.endsWith('.bpmn')) return 'diagram';
  return null;
}

const quoted = (id) => `"${CSS.escape(id)}"`;

// dmn-js draws the table again on every edit, so the outline is a style sheet's rule on the ids it writes
// into the table (a rule's cells data-element-id, a column's heading data-col-id), not a class on a node
function selectors(id, decisions) {
  if (decisions.includes(id)) return ['#dmn-editor .decision-table-name'];
  return [`#dmn-editor [data-element-id=${quoted(id)}]`, `#dmn-editor th[data-col-id=${quoted(id)}]`];
}

/** The style sheet outlining the findings' cells in the rules file `file` (decisions: its decisions' and
 * tables' ids). */
export function tableStyle(findings, file, decisions) {
  const rules = [];
  for (const severity of ['warning', 'error']) {
    const chosen = findings.filter((f) => f.file === file && f.element_id && f.severity === severity);
    if (!chosen.length) continue;
    const colour = severity === 'error' ? 'var(--overdue)' : 'var(--near)';
    rules.push(
      `${chosen.flatMap((f) => selectors(f.element_id, decisions)).join(',\n')} ` +
        `{ outline: 3px solid ${colour}; outline-offset: -3px; background: #fff4f2; }`,
    );
  }
  return rules.join('\n');
}

/** The node of the table showing the element (a cell, a column's heading, the table's name). */
export function tableNode(id, decisions) {
  return selectors(id, decisions)
    .map((selector) => document.querySelector(selector))
    .find(Boolean);
}

/** Start and end of the line in a form's JSON where the field (`name`, or `group.name` for a field of a
 * repeated group) is defined: its first key after "properties", within its group's. */
export function fieldLine(text, field) {
  let at = text.indexOf('"properties"');
  if (at < 0) return null;
  for (const name of field.split('.')) {
    const key = new RegExp(`"${name.replace(/[^\w]/g, '\\$&')}"\\s*:`, 'g');
    key.lastIndex = at;
    const found = key.exec(text);
    if (!found) return null;
    at = found.index;
  }
  const end = text.indexOf('\n', at);
  return [text.lastIndexOf('\n', at) + 1, end < 0 ? text.length : end];
}
