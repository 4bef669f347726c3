'use strict';

// Sample rows as the API answers them (what Zapier shows before a real one arrives).

const project = {
  id: '7d5fcbfa-da90-4e8e-a9b9-bc5e5f0e5a09',
  name: 'Hillside duplex',
  description: 'Two units on a sloped lot',
  client_id: 'ceb1d897-8fbb-4c91-ba99-27fffee606d0',
  project_type: 'residential',
  estimated_budget: '480000.00',
  start_date: '2026-12-01',
  target_completion: '2027-06-30',
  status: 'planning',
  code: 'HD-24',
  site_address: null,
  created_at: '2026-12-06T22:30:31Z',
  updated_at: '2026-12-06T22:30:31Z',
};

const invoice = {
  id: '9707911b-c162-45ea-acc5-073fb09d4cc8',
  invoice_number: '1001',
  customer_id: 'ceb1d897-8fbb-4c91-ba99-27fffee606d0',
  project_id: null,
  issue_date: '2026-11-02',
  due_date: null,
  status: 'sent',
  currency: 'USD',
  subtotal: '850.00',
  tax_amount: '0.00',
  total: '850.00',
  balance: '850.00',
  memo: null,
  created_at: '2026-12-06T22:30:31Z',
  updated_at: '2026-12-06T22:30:31Z',
};

const syncFailure = {
  id: '4ec95fac-9ade-4f2c-b366-4fe8af41cc6d',
  integration_id: '0d6c2f7e-5a43-4a1f-9a8e-0c3f4d1b2a10',
  sync_type: 'push',
  direction: 'push',
  trigger: null,
  entity_type: 'invoice',
  entity_id: '9707911b-c162-45ea-acc5-073fb09d4cc8',
  external_entity_id: null,
  status: 'failed',
  attempt_number: 1,
  started_at: '2026-12-06T22:25:31Z',
  completed_at: null,
  duration_ms: null,
  error_code: 'customer_missing',
  error_message: 'QuickBooks refused the invoice: the customer does not exist there',
  next_retry_at: null,
  created_at: '2026-12-06T22:30:31Z',
};

const contact = {
  id: 'ceb1d897-8fbb-4c91-ba99-27fffee606d0',
  contact_type: 'customer',
  display_name: "Amy's Bird Sanctuary",
  company_name: null,
  given_name: null,
  family_name: null,
  email: 'amy@example.com',
  phone: null,
  currency: 'USD',
  is_active: true,
  billing_address: { line1: null, line2: null, city: null, region: null, postal_code: null, country: null },
  created_at: '2026-12-06T22:30:31Z',
  updated_at: '2026-12-06T22:30:31Z',
};


const task = {
  id: 'a6362b49-b962-44d2-96aa-6f496bc7b1c6',
  project_id: '7d5fcbfa-da90-4e8e-a9b9-bc5e5f0e5a09',
  title: 'Pour footings',
  description: null,
  status: 'todo',
  priority: 'high',
  assignee: null,
  due_date: null,
  estimated_hours: null,
  completed_at: null,
  created_at: '2026-12-06T22:30:31Z',
  updated_at: '2026-12-06T22:30:31Z',
};

module.exports = { contact, invoice, project, syncFailure, task };
