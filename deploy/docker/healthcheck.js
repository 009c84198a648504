'use strict';
// Container health check (the slim image has no curl): exits 0 when GET <url> answers 200
// within 2 s, else 1. Default URL: triage's /healthz on TRIAGE_HTTP_PORT (8000).
//   node deploy/docker/healthcheck.js [url]
const http = require('node:http');

const url = process.argv[2] || `http://127.0.0.1:${process.env.TRIAGE_HTTP_PORT || '8000'}/healthz`;
const request = http.get(url, { timeout: 2000 }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', () => process.exit(1));
