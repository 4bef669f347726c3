'use strict';

// The contacts of the company, for the Client dropdown of Create Project (hidden from the trigger list).
const { list } = require('../client');
const { contact: sample } = require('../samples');

module.exports = {
  key: 'contact_list',
  noun: 'Contact',
  display: { label: 'List Contacts', description: 'Lists contacts (for dropdowns).', hidden: true },
  operation: { perform: (z, bundle) => list(z, bundle, '/contacts', {}), sample },
};
