'use strict';

// Polling triggers: each lists newest first and every item has an `id`, which Zapier deduplicates on.
const { list } = require('../client');
const samples = require('../samples');

const polling = ({ key, noun, label, description, path, params, sample }) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    perform: (z, bundle) => list(z, bundle, path, params),
    sample,
  },
});

module.exports = {
  triggers: [
    polling({
      key: 'new_project',
      noun: 'Project',
      label: 'New Project',
      description: 'Triggers when a project is created.',
      path: '/projects',
      params: {},
      sample: samples.project,
    }),
    polling({
      key: 'new_invoice',
      noun: 'Invoice',
      label: 'New Invoice',
      description: 'Triggers when an invoice is added (newest issue date first).',
      path: '/invoices',
      params: {},
      sample: samples.invoice,
    }),
    polling({
      key: 'invoice_paid',
      noun: 'Invoice',
      label: 'Invoice Paid',
      description: 'Triggers when an invoice is paid in full.',
      path: '/invoices',
      params: { status: 'paid' },
      sample: { ...samples.invoice, status: 'paid', balance: '0.00' },
    }),
    polling({
      key: 'sync_failed',
      noun: 'Sync Failure',
      label: 'Sync Failed',
      description: 'Triggers when a sync with QuickBooks or Stripe fails.',
      path: '/sync-logs',
      params: { status: 'failed' },
      sample: samples.syncFailure,
    }),
  ],
};
