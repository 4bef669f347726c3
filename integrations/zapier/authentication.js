'use strict';

// API-key auth: the API root of the company's sierra-sync server and a key made with
// `sierra-sync api-keys create`. The test call lists one project (any key with projects:r passes).
module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'apiUrl',
      label: 'API root',
      required: true,
      type: 'string',
      helpText: 'The /api/v1 root of your sierra-sync server, e.g. `https://sync.example.com/api/v1`.',
    },
    {
      key: 'apiKey',
      label: 'API key',
      required: true,
      type: 'password',
      helpText:
        'A key from `sierra-sync api-keys create` with projects:rw, tasks:rw, contacts:r, invoices:r, ' +
        'sync_logs:r and webhooks:rw.',
    },
  ],
  test: {
    url: '{{bundle.authData.apiUrl}}/projects',
    params: { limit: '1' },
  },
  connectionLabel: '{{bundle.authData.apiUrl}}',
};
