'use strict';

// The app against a live local API (started by test/run.js), through zapier-platform-core's app tester.
const assert = require('node:assert/strict');
const { describe, it, before } = require('node:test');
const zapier = require('zapier-platform-core');
const { compileApp, validateApp } = require('zapier-platform-core/src/tools/schema');

const App = require('../index');

const appTester = zapier.createAppTester(App);
const authData = { apiUrl: process.env.SIERRA_API_URL, apiKey: process.env.SIERRA_API_KEY };
const ids = JSON.parse(process.env.SIERRA_API_IDS || '{}');

// Straight to the API (not through the app), to check what the app did.
const api = async (path, options = {}) => {
  const response = await fetch(`${authData.apiUrl}${path}`, {
    ...options,
    headers: { Authorization: `Bearer ${authData.apiKey}`, 'Content-Type': 'application/json' },
  });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
};

const newestFirst = (items, field) => {
  const times = items.map((item) => item[field]);
  assert.deepEqual(times, [...times].sort().reverse());
};

describe('definition', () => {
  it('is valid against the Zapier schema', () => {
    assert.deepEqual(validateApp(compileApp(App)), []);
  });
});

describe('authentication', () => {
  it('accepts a valid key with the test call', async () => {
    const result = await appTester(App.authentication.test, { authData });
    assert.ok(Array.isArray(result.data));
  });

  it('refuses an unknown key with the API message', async () => {
    await assert.rejects(
      appTester(App.authentication.test, { authData: { ...authData, apiKey: 'sk_test_nope' } }),
      /API key is not valid/,
    );
  });
});

describe('actions and search', () => {
  let contact;
  let project;

  before(async () => {
    [contact] = await appTester(App.searches.find_contact.operation.perform, {
      authData,
      inputData: { email: 'AMY@example.com' },
    });
  });

  it('finds a contact by e-mail or by name', async () => {
    assert.equal(contact.id, ids.contact);
    const byName = await appTester(App.searches.find_contact.operation.perform, {
      authData,
      inputData: { name: 'bird' },
    });
    assert.deepEqual(
      byName.map((c) => c.id),
      [ids.contact],
    );
    await assert.rejects(
      appTester(App.searches.find_contact.operation.perform, { authData, inputData: {} }),
      /e-mail or a name/,
    );
  });

  it('creates a project with the brief fields', async () => {
    project = await appTester(App.creates.project.operation.perform, {
      authData,
      inputData: {
        name: 'Zapier annex',
        description: 'From a Zap',
        client_id: contact.id,
        project_type: 'commercial',
        estimated_budget: 125000,
        start_date: '2027-01-04',
        target_completion: '2027-05-28',
        status: 'lead',
        code: '',
      },
    });
    assert.equal(project.name, 'Zapier annex');
    assert.equal(project.estimated_budget, '125000.00');
    assert.equal(project.client_id, contact.id);
    assert.equal(project.status, 'lead');
    assert.equal(project.code, null); // an empty field is not sent
  });

  it('names the field the API refused', async () => {
    await assert.rejects(
      appTester(App.creates.project.operation.perform, {
        authData,
        inputData: { name: 'Bad', estimated_budget: -1 },
      }),
      /estimated_budget/,
    );
  });

  it('creates a task in the project', async () => {
    const task = await appTester(App.creates.task.operation.perform, {
      authData,
      inputData: { project_id: project.id, title: 'Order steel', priority: 'urgent' },
    });
    assert.equal(task.project_id, project.id);
    assert.equal(task.priority, 'urgent');
    const listed = await api(`/tasks?project_id=${project.id}`);
    assert.deepEqual(
      listed.body.data.map((t) => t.id),
      [task.id],
    );
  });

  it('new project polling returns it first, with ids', async () => {
    const items = await appTester(App.triggers.new_project.operation.perform, { authData });
    assert.equal(items[0].id, project.id);
    assert.ok(items.every((item) => typeof item.id === 'string'));
    newestFirst(items, 'created_at');
  });
});

describe('polling triggers', () => {
  it('new invoice lists invoices with ids, newest issue date first', async () => {
    const items = await appTester(App.triggers.new_invoice.operation.perform, { authData });
    assert.ok(items.length >= 2);
    assert.ok(items.every((item) => typeof item.id === 'string'));
    newestFirst(items, 'issue_date');
  });

  it('invoice paid lists paid invoices only', async () => {
    const items = await appTester(App.triggers.invoice_paid.operation.perform, { authData });
    assert.deepEqual(
      items.map((item) => [item.id, item.status]),
      [[ids.paid_invoice, 'paid']],
    );
  });

  it('sync failed lists failed attempts, newest first', async () => {
    const items = await appTester(App.triggers.sync_failed.operation.perform, { authData });
    assert.equal(items[0].id, ids.sync_log);
    assert.ok(items.every((item) => item.status === 'failed'));
    newestFirst(items, 'started_at');
  });
});

describe('instant triggers (REST hooks)', () => {
  const targetUrl = 'http://127.0.0.1:9/zapier-hook'; // never called: no event is emitted in these tests

  for (const [key, type] of [
    ['invoice_synced', 'invoice.synced'],
    ['invoice_sync_failed', 'invoice.sync_failed'],
    ['payment_received', 'payment.received'],
  ]) {
    it(`${key}: subscribes, receives, lists samples and unsubscribes`, async () => {
      const operation = App.triggers[key].operation;
      const subscribeData = await appTester(operation.performSubscribe, { authData, targetUrl });
      const stored = await api(`/webhooks/${subscribeData.id}`);
      assert.equal(stored.status, 200);
      assert.equal(stored.body.data.url, targetUrl);
      assert.deepEqual(stored.body.data.events, [type]);

      const delivered = { id: 'evt_1', type, created_at: '2026-12-06T22:30:31Z', data: { invoice_id: 'x' } };
      const received = await appTester(operation.perform, { authData, cleanedRequest: delivered });
      assert.deepEqual(received, [delivered]);
      const other = await appTester(operation.perform, {
        authData,
        cleanedRequest: { ...delivered, type: 'integration.expired' },
      });
      assert.deepEqual(other, []);

      const listed = await appTester(operation.performList, { authData });
      assert.ok(listed.length >= 1);
      for (const item of listed) {
        assert.equal(item.type, type);
        assert.ok(item.id.startsWith('evt_'));
        assert.deepEqual(Object.keys(item.data).sort(), Object.keys(operation.sample.data).sort());
      }

      await appTester(operation.performUnsubscribe, { authData, subscribeData });
      assert.equal((await api(`/webhooks/${subscribeData.id}`)).status, 404);
    });
  }
});
