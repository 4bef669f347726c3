'use strict';

// Create Task: a task in a project (POST /tasks, which names the project in the body).
const { pick, send } = require('../client');

const FIELDS = ['project_id', 'title', 'description', 'status', 'priority', 'assignee', 'due_date', 'estimated_hours'];

module.exports = {
  key: 'task',
  noun: 'Task',
  display: { label: 'Create Task', description: 'Adds a task to a project.' },
  operation: {
    inputFields: [
      { key: 'project_id', label: 'Project', required: true, dynamic: 'new_project.id.name' },
      { key: 'title', label: 'Title', required: true },
      { key: 'description', label: 'Description', type: 'text' },
      { key: 'status', label: 'Status', choices: ['todo', 'in_progress', 'blocked', 'done', 'cancelled'] },
      { key: 'priority', label: 'Priority', choices: ['low', 'normal', 'high', 'urgent'] },
      { key: 'assignee', label: 'Assignee' },
      { key: 'due_date', label: 'Due date', helpText: 'YYYY-MM-DD' },
      { key: 'estimated_hours', label: 'Estimated hours', type: 'number' },
    ],
    perform: (z, bundle) => send(z, bundle, 'POST', '/tasks', pick(bundle.inputData, FIELDS)),
    sample: require('../samples').task,
  },
};
