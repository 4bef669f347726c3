'use strict';

// Create Project: the product brief's createProjectSchema, field for field.
const { pick, send } = require('../client');

const STATUSES = ['lead', 'planning', 'active', 'on_hold', 'completed', 'cancelled'];
const FIELDS = [
  'name',
  'description',
  'client_id',
  'project_type',
  'estimated_budget',
  'start_date',
  'target_completion',
  'status',
  'code',
  'site_address',
];

const perform = (z, bundle) => send(z, bundle, 'POST', '/projects', pick(bundle.inputData, FIELDS));

module.exports = {
  key: 'project',
  noun: 'Project',
  display: { label: 'Create Project', description: 'Creates a project.' },
  operation: {
    inputFields: [
      { key: 'name', label: 'Name', required: true, helpText: '1 to 255 characters.' },
      { key: 'description', label: 'Description', type: 'text' },
      {
        key: 'client_id',
        label: 'Client',
        dynamic: 'contact_list.id.display_name',
        search: 'find_contact.id',
        helpText: 'A contact of your company.',
      },
      { key: 'project_type', label: 'Project type', helpText: 'e.g. residential, commercial, remodel' },
      { key: 'estimated_budget', label: 'Estimated budget', type: 'number' },
      { key: 'start_date', label: 'Start date', type: 'string', helpText: 'YYYY-MM-DD' },
      { key: 'target_completion', label: 'Target completion', type: 'string', helpText: 'YYYY-MM-DD' },
      { key: 'status', label: 'Status', choices: STATUSES, default: 'active' },
      { key: 'code', label: 'Code', helpText: 'Your own reference, unique among live projects.' },
      { key: 'site_address', label: 'Site address' },
    ],
    perform,
    sample: require('../samples').project,
  },
};
