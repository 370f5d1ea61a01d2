// The SpiffWorkflow extension elements the procedure uses, as a moddle descriptor: with it bpmn-js reads,
// edits and writes them back (a user task's form, a service task's operation and parameters, a signal's
// payload variable, a business rule task's decision).
export default {
  name: 'SpiffWorkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  prefix: 'spiffworkflow',
  xml: { tagAlias: 'lowerCase' },
  types: [
    {
      name: 'Properties',
      superClass: ['Element'],
      properties: [{ name: 'values', type: 'Property', isMany: true }],
    },
    {
      name: 'Property',
      superClass: ['Element'],
      properties: [
        { name: 'name', type: 'String', isAttr: true },
        { name: 'value', type: 'String', isAttr: true },
      ],
    },
    {
      name: 'ServiceTaskOperator',
      superClass: ['Element'],
      properties: [
        { name: 'id', type: 'String', isAttr: true },
        { name: 'resultVariable', type: 'String', isAttr: true },
        { name: 'parameterList', type: 'Parameters' },
      ],
    },
    {
      name: 'Parameters',
      superClass: ['Element'],
      properties: [{ name: 'parameters', type: 'Parameter', isMany: true }],
    },
    {
      name: 'Parameter',
      superClass: ['Element'],
      properties: [
        { name: 'id', type: 'String', isAttr: true },
        { name: 'type', type: 'String', isAttr: true },
        { name: 'value', type: 'String', isAttr: true },
      ],
    },
    {
      name: 'VariableName',
      superClass: ['Element'],
      properties: [{ name: 'value', type: 'String', isBody: true }],
    },
    {
      name: 'CalledDecisionId',
      superClass: ['Element'],
      properties: [{ name: 'value', type: 'String', isBody: true }],
    },
  ],
};
