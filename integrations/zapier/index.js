'use strict';

// The sierra-sync Zapier app: API-key auth, polling and instant (REST-hook) triggers, two actions and a
// search, all against the public REST API (/api/v1). Tested offline: see test/ and README.md.
const { version } = require('./package.json');
const { version: platformVersion } = require('zapier-platform-core');

const authentication = require('./authentication');
const { addApiKey, handleErrors } = require('./client');
const polling = require('./triggers/polling');
const hooks = require('./triggers/hooks');
const contactList = require('./triggers/contacts');
const createProject = require('./creates/project');
const createTask = require('./creates/task');
const findContact = require('./searches/contact');

const byKey = (items) => Object.fromEntries(items.map((item) => [item.key, item]));

module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [handleErrors],
  triggers: byKey([...polling.triggers, ...hooks.triggers, contactList]),
  creates: byKey([createProject, createTask]),
  searches: byKey([findContact]),
};
