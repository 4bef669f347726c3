'use strict';

// `npm test`: start a seeded `sierra-sync api serve` on a free port (sierra_sync.web.api.sample_server),
// run the app's tests against it with node's test runner, stop the server. Nothing goes to Zapier: the
// app tester runs the app in this process, and its log shipping is pointed at a closed local port.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const repo = path.resolve(__dirname, '..', '..', '..');
const venvPython = path.join(repo, '.venv', 'bin', 'python');
const python = process.env.SIERRA_PYTHON || (fs.existsSync(venvPython) ? venvPython : 'python3');

const startServer = () =>
  new Promise((resolve, reject) => {
    const server = spawn(python, ['-m', 'sierra_sync.web.api.sample_server'], {
      cwd: repo,
      env: { ...process.env, PYTHONPATH: repo },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    server.on('error', reject);
    server.on('exit', (code) => reject(new Error(`the sample API server exited with ${code} before it served`)));
    readline.createInterface({ input: server.stdout }).once('line', (line) => resolve({ server, api: JSON.parse(line) }));
  });

const main = async () => {
  const { server, api } = await startServer();
  server.removeAllListeners('exit');
  const stop = () => {
    server.stdin.end(); // the server stops when its input closes (or on SIGTERM)
    server.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const env = {
    ...process.env,
    SIERRA_API_URL: api.baseUrl,
    SIERRA_API_KEY: api.apiKey,
    SIERRA_API_IDS: JSON.stringify(api.ids),
    LOGGING_ENDPOINT: 'http://127.0.0.1:9/no-log-shipping',
    NODE_ENV: 'test', // zapier-platform-core prints its memory checks otherwise
  };
  delete env.LOGGING_TOKEN;
  const tests = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => path.join(__dirname, name));
  const runner = spawn(process.execPath, ['--test', '--test-reporter=tap', ...tests], { env, stdio: 'inherit' });
  const code = await new Promise((resolve) => runner.on('exit', (c) => resolve(c === null ? 1 : c)));
  stop();
  if (server.exitCode === null && server.signalCode === null) {
    await new Promise((resolve) => server.on('exit', resolve));
  }
  process.exit(code);
};

main().catch((error) => {
  console.error(`npm test: ${error.message}`);
  process.exit(1);
});
