'use strict';

// REST-hook (instant) triggers: subscribing creates an outgoing webhook subscription for one event at
// Zapier's target URL, unsubscribing deletes it (and a 410 from Zapier ends it on the server's side too).
// `perform` returns the delivered event; `performList` shapes recent rows like deliveries (the `data` of
// each event type as connectors/ emits it), for samples.
const { list, send } = require('../client');
const samples = require('../samples');

const event = (type, row, shape) => ({
  id: `evt_sample_${row.id}`,
  type,
  created_at: row.updated_at || row.created_at,
  data: shape(row),
});

const synced = (invoice) => ({
  invoice_id: invoice.id,
  invoice_number: invoice.invoice_number,
  quickbooks_id: null,
  outcome: 'created',
  total: invoice.total,
});

const failed = (log) => ({
  invoice_id: log.entity_id,
  invoice_number: null,
  error_code: log.error_code,
  message: log.error_message,
});

const paid = (invoice) => ({
  payment_id: null,
  invoice_id: invoice.id,
  amount: invoice.total,
  currency: invoice.currency,
  method: 'card',
  stripe_payment_intent_id: null,
});

const hook = ({ key, noun, label, description, type, path, params, shape, sample }) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    type: 'hook',
    performSubscribe: async (z, bundle) =>
      send(z, bundle, 'POST', '/webhooks', { url: bundle.targetUrl, events: [type] }),
    performUnsubscribe: async (z, bundle) =>
      send(z, bundle, 'DELETE', `/webhooks/${encodeURIComponent(bundle.subscribeData.id)}`),
    perform: (z, bundle) => {
      const delivered = bundle.cleanedRequest || {};
      return delivered.type === type ? [delivered] : [];
    },
    performList: async (z, bundle) => {
      const rows = await list(z, bundle, path, { ...params, limit: '3' });
      return rows.map((row) => event(type, row, shape));
    },
    sample: event(type, sample, shape),
  },
});

module.exports = {
  triggers: [
    hook({
      key: 'invoice_synced',
      noun: 'Invoice',
      label: 'Invoice Synced (Instant)',
      description: 'Triggers when an invoice reaches QuickBooks.',
      type: 'invoice.synced',
      path: '/invoices',
      params: {},
      shape: synced,
      sample: samples.invoice,
    }),
    hook({
      key: 'invoice_sync_failed',
      noun: 'Sync Failure',
      label: 'Invoice Sync Failed (Instant)',
      description: 'Triggers when an invoice cannot be synced.',
      type: 'invoice.sync_failed',
      path: '/sync-logs',
      params: { status: 'failed', entity_type: 'invoice' },
      shape: failed,
      sample: samples.syncFailure,
    }),
    hook({
      key: 'payment_received',
      noun: 'Payment',
      label: 'Payment Received (Instant)',
      description: 'Triggers when a payment is recorded against an invoice.',
      type: 'payment.received',
      path: '/invoices',
      params: { status: 'paid' },
      shape: paid,
      sample: { ...samples.invoice, status: 'paid', balance: '0.00' },
    }),
  ],
};
