// inquir's bootstrap for the node runtime: an AWS Lambda Runtime API client
// that imports the function's module and calls its exported handler, so a
// handler written for Lambda (export async function handler(event)) runs
// unmodified. inquir writes this file to its cache folder and runs it as
// `node bootstrap.mjs` with:
//
//   AWS_LAMBDA_RUNTIME_API  host:port/path-prefix of the Runtime API
//   INQUIR_HANDLER_MODULE   absolute path of the function's module
//   INQUIR_HANDLER_EXPORT   name of the exported handler (default "handler")
//   INQUIR_CHECK            if set: load the module, find the handler, and
//                           exit (0 if both worked, 1 if not) without
//                           calling the Runtime API; a rebuild checks this
//                           way that new code loads before it serves
//
// It talks HTTP with node:http, not fetch: fetch (undici) gives up on a
// response whose headers take longer than 300 s, and GET /next rightly waits
// for as long as the worker stays idle.

import http from 'node:http';
import { pathToFileURL } from 'node:url';

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const modulePath = process.env.INQUIR_HANDLER_MODULE ?? '';
const exportName = process.env.INQUIR_HANDLER_EXPORT || 'handler';

// inquir gives each worker its own address: host:port, then a path prefix.
const slash = api.indexOf('/');
const hostPort = slash < 0 ? api : api.slice(0, slash);
const base = (slash < 0 ? '' : api.slice(slash)) + '/2018-06-01/runtime';
const colon = hostPort.lastIndexOf(':');
const host = hostPort.slice(0, colon);
const port = Number(hostPort.slice(colon + 1));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// call makes one Runtime API request and resolves with its status, headers
// and body.
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host, port, method, path: base + path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

// report is the Runtime API's error body for err, whatever was thrown.
function report(err, type) {
  const isError = err !== null && typeof err === 'object' && 'message' in err;
  return JSON.stringify({
    errorType: type ?? (isError ? String(err.name || 'Error') : typeof err),
    errorMessage: isError ? String(err.message) : String(err),
    stackTrace: isError && typeof err.stack === 'string' ? err.stack.split('\n') : [],
  });
}

// load imports the module and finds its handler: an ES module's named
// export, or a CommonJS module's exports property, which import() exposes
// under default when it cannot detect it as a named export.
async function load() {
  if (!modulePath) {
    throw Object.assign(new Error('INQUIR_HANDLER_MODULE is not set'), { name: 'Runtime.ImportModuleError' });
  }
  let mod;
  try {
    mod = await import(pathToFileURL(modulePath).href);
  } catch (err) {
    console.error(err);
    const message = `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
    throw Object.assign(new Error(`importing ${modulePath}: ${message}`), { name: 'Runtime.ImportModuleError' });
  }
  let handler = mod[exportName];
  if (typeof handler !== 'function') {
    handler = mod.default?.[exportName];
  }
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${modulePath} does not export a function named ${exportName}`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler;
}

// invoke calls the handler, async or callback style, and resolves with its
// result.
function invoke(handler, event, context) {
  if (handler.length < 3) {
    return Promise.resolve(handler(event, context));
  }
  return new Promise((resolve, reject) => {
    const done = (err, result) => (err ? reject(err) : resolve(result));
    const ret = handler(event, context, done);
    if (ret && typeof ret.then === 'function') {
      ret.then(resolve, reject);
    }
  });
}

async function main() {
  const check = Boolean(process.env.INQUIR_CHECK);
  let handler;
  try {
    handler = await load();
  } catch (err) {
    console.error(`inquir: ${err.message}`);
    if (check) {
      process.exit(1);
    }
    try {
      await call('POST', '/init/error', report(err));
    } catch {
      // Exiting says enough if the Runtime API is gone too.
    }
    process.exit(1);
  }
  if (check) {
    process.exit(0);
  }

  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) {
      throw new Error(`GET /invocation/next answered ${next.status}: ${next.body}`);
    }
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] ?? '';
    const context = {
      awsRequestId: requestId,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };

    let path, body;
    try {
      const result = await invoke(handler, JSON.parse(next.body), context);
      body = JSON.stringify(result === undefined ? null : result);
      path = `/invocation/${requestId}/response`;
    } catch (err) {
      body = report(err);
      path = `/invocation/${requestId}/error`;
    }
    const res = await call('POST', path, body);
    if (res.status !== 202) {
      console.error(`inquir: POST ${path} answered ${res.status}: ${res.body}`);
    }
  }
}

main().catch((err) => {
  console.error(`inquir: lambda runtime API: ${err?.message ?? err}`);
  process.exit(1);
});
