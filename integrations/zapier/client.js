'use strict';

// What every request of the app shares: the bearer key, the API root, and errors as Zapier shows them.

const root = (bundle) => String(bundle.authData.apiUrl || '').replace(/\/+$/, '');

const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.apiKey) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${bundle.authData.apiKey}`;
  }
  return request;
};

// The API's errors look alike: {"error": {"code", "message", "details": [{"field", "message"}]}}.
const handleErrors = (response, z) => {
  if (response.status < 400) {
    return response;
  }
  let error = {};
  try {
    error = JSON.parse(response.content).error || {};
  } catch (parseError) {
    error = {};
  }
  const details = (error.details || []).map((d) => `${d.field}: ${d.message}`).join('; ');
  const message = [error.message || `HTTP ${response.status}`, details].filter(Boolean).join(' - ');
  if (response.status === 401) {
    throw new z.errors.ExpiredAuthError(message);
  }
  if (response.status === 429) {
    throw new z.errors.ThrottledError(message, Number(response.getHeader('retry-after')) || 60);
  }
  throw new z.errors.Error(message, error.code || 'api_error', response.status);
};

// GET a list endpoint: its rows, in the API's order (newest first for the ones the triggers use).
const list = async (z, bundle, path, params) => {
  const response = await z.request({ url: `${root(bundle)}${path}`, params: { limit: '100', ...params } });
  return response.data.data;
};

const send = async (z, bundle, method, path, body) => {
  const response = await z.request({ method, url: `${root(bundle)}${path}`, body });
  return response.status === 204 ? {} : response.data.data;
};

// The fields of `inputData` that were filled in (Zapier sends empty strings for the others).
const pick = (inputData, fields) => {
  const body = {};
  for (const field of fields) {
    const value = inputData[field];
    if (value !== undefined && value !== null && value !== '') {
      body[field] = value;
    }
  }
  return body;
};

module.exports = { addApiKey, handleErrors, list, pick, root, send };
