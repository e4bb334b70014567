// A small web app for AWS Lambda behind lambda-adapter, Node.js standard library only.
//
// It knows nothing about Lambda: it serves HTTP on 127.0.0.1:$AWS_LWA_PORT (or $PORT, default
// 8080), and lambda-adapter turns Lambda events into requests to it.
//
// Routes:
//   GET  /          200 text/plain "ok"
//   GET  /stream    server-sent events: ?chunks=N (default 5, at most 1000) events
//                   ?interval_ms=M (default 100, at most 60000) apart, each written at once
//   GET  /context   the request id and path from the x-amzn-request-context header that
//                   lambda-adapter sets (400 if it is missing: not behind the adapter)
//   GET  /cookies   two set-cookie headers
//   POST /events    the pass-through route for non-HTTP events (SQS, ...): {"ok":true}, or
//                   500 {"ok":false} when the event contains the text "fail" (the invocation
//                   fails, so Lambda retries the batch)
'use strict';

const http = require('node:http');

const MAX_CHUNKS = 1000;
const MAX_INTERVAL_MS = 60000;
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** The port lambda-adapter forwards to: AWS_LWA_PORT, then PORT, then 8080. */
function listenPort() {
  const raw = process.env.AWS_LWA_PORT || process.env.PORT || '8080';
  const port = /^\d+$/.test(raw) ? Number(raw) : -1;
  if (!(port > 0 && port < 65536)) {
    console.error(`app.js: invalid port ${JSON.stringify(raw)} in AWS_LWA_PORT/PORT (expected 1-65535)`);
    process.exit(1);
  }
  return port;
}

class BadRequest extends Error {}

function intParam(query, name, fallback, limit) {
  const values = query.getAll(name);
  if (values.length === 0) return fallback;
  const raw = values[values.length - 1];
  if (!/^\d+$/.test(raw)) throw new BadRequest(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value > limit) throw new BadRequest(`${name} must be at most ${limit}, got ${value}`);
  return value;
}

function sendText(res, status, body, headers = {}) {
  const data = Buffer.from(body);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': data.length,
    ...headers,
  });
  res.end(data);
}

function sendJson(res, status, value) {
  const data = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

function stream(req, res, query) {
  const chunks = intParam(query, 'chunks', 5, MAX_CHUNKS);
  const interval = intParam(query, 'interval_ms', 100, MAX_INTERVAL_MS);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let sent = 0;
  let timer = null;
  const next = () => {
    // Each write goes out at once as its own HTTP chunk.
    res.write(`data: ${sent}\n\n`);
    sent += 1;
    if (sent < chunks) {
      timer = setTimeout(next, interval);
    } else {
      res.end();
    }
  };
  res.on('close', () => clearTimeout(timer));
  if (chunks === 0) res.end();
  else next();
}

function context(req, res) {
  const raw = req.headers['x-amzn-request-context'];
  if (raw === undefined) {
    throw new BadRequest('no x-amzn-request-context header: call this app through lambda-adapter');
  }
  let ctx;
  try {
    ctx = JSON.parse(raw);
  } catch {
    throw new BadRequest('x-amzn-request-context is not JSON');
  }
  if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) {
    throw new BadRequest('x-amzn-request-context is not a JSON object');
  }
  let lambdaContext = {};
  try {
    lambdaContext = JSON.parse(req.headers['x-amzn-lambda-context'] || '{}') || {};
  } catch {
    // Not behind lambda-adapter's context header: leave it out.
  }
  sendJson(res, 200, {
    // Function URL / HTTP API events carry http.path; REST API events carry path.
    requestId: ctx.requestId ?? null,
    path: (ctx.http && ctx.http.path) ?? ctx.path ?? null,
    lambdaRequestId: lambdaContext.request_id ?? null,
  });
}

function events(req, res) {
  const parts = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_EVENT_BYTES && !refused) {
      refused = true;
      sendText(res, 413, 'event too large\n', { connection: 'close' });
      req.destroy();
    } else if (!refused) {
      parts.push(chunk);
    }
  });
  req.on('end', () => {
    if (refused) return;
    const body = Buffer.concat(parts);
    try {
      JSON.parse(body.length ? body.toString('utf8') : 'null');
    } catch {
      sendJson(res, 400, { ok: false, error: 'the event is not JSON' });
      return;
    }
    if (body.includes('fail')) sendJson(res, 500, { ok: false });
    else sendJson(res, 200, { ok: true });
  });
}

function route(req, res) {
  const url = new URL(req.url, 'http://app');
  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case 'GET /':
      return sendText(res, 200, 'ok');
    case 'GET /stream':
      return stream(req, res, url.searchParams);
    case 'GET /context':
      return context(req, res);
    case 'GET /cookies':
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      return sendText(res, 200, 'two cookies set');
    case 'POST /events':
      return events(req, res);
    default:
      req.resume();
      return sendText(res, 404, `no route for ${key}`);
  }
}

const server = http.createServer((req, res) => {
  try {
    route(req, res);
  } catch (error) {
    if (!(error instanceof BadRequest)) {
      console.error('app.js: request failed', error);
    }
    if (!res.headersSent) {
      sendText(res, error instanceof BadRequest ? 400 : 500, `${error.message}\n`);
    } else {
      res.destroy(error);
    }
  }
});

const port = listenPort();
server.listen(port, '127.0.0.1', () => {
  console.error(`app.js: listening on 127.0.0.1:${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.error(`app.js: ${signal}, stopping`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 500).unref();
  });
}
