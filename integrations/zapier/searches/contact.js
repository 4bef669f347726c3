'use strict';

// Find Contact: by e-mail (any letter case) or by a part of the display name.
const { list } = require('../client');
const { contact: sample } = require('../samples');

module.exports = {
  key: 'find_contact',
  noun: 'Contact',
  display: { label: 'Find Contact', description: 'Finds a customer or vendor by e-mail or name.' },
  operation: {
    inputFields: [
      { key: 'email', label: 'E-mail', helpText: 'Exact e-mail address (any letter case).' },
      { key: 'name', label: 'Name', helpText: 'A part of the display name.' },
    ],
    perform: async (z, bundle) => {
      const { email, name } = bundle.inputData;
      if (!email && !name) {
        throw new z.errors.Error('Give an e-mail or a name to search for.', 'invalid_input', 400);
      }
      const params = {};
      if (email) params.email = email;
      if (name) params.name = name;
      return list(z, bundle, '/contacts', params);
    },
    sample,
  },
};
