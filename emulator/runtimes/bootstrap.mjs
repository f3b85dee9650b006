// inquir's bootstrap for the node runtime: an AWS Lambda Runtime API client
// that imports the function's module and calls its exported handler, so a
// handler written for Lambda runs unmodified. inquir writes this file to its
// cache folder and runs it as `node bootstrap.mjs` with:
//
//   AWS_LAMBDA_RUNTIME_API  host:port of the Runtime API (a path after it,
//                           host:port/prefix, is kept in front of every call)
//   INQUIR_HANDLER_MODULE   absolute path of the function's module
//   INQUIR_HANDLER_EXPORT   name of the exported handler (default "handler")
//   INQUIR_CHECK            if set: load the module, find the handler, and
//                           exit (0 if both worked, 1 if not) without
//                           calling the Runtime API; a rebuild checks this
//                           way that new code loads before it serves
//
// It behaves as AWS's own client for node does
// (aws-lambda-nodejs-runtime-interface-client, "the RIC"): the same context
// object, the same rules for when an invocation is done (an async handler's
// promise; a callback, after the event loop empties unless
// context.callbackWaitsForEmptyEventLoop is false; context.succeed, fail and
// done at once; a synchronous handler's return value ignored, null sent once
// the event loop empties), the same error reports and init error types, and
// console lines tagged with the time, request id and level. Where it differs:
// warnings and errors go to stderr, not stdout, so a worker that fails to
// start has them in its stderr tail; a message's newlines are kept, not
// turned into \r; and timers left pending when a response is sent run while
// the worker waits for its next invocation, where Lambda freezes them.
//
// Run by inquir (with --inquir-channel), it takes invocations over one
// connection to its Runtime API address, upgraded to inquir's frames (see
// openChannel): one frame each way per invocation, where HTTP long-polling
// costs two requests. Without the flag it speaks the Runtime API. Errors
// outside an invocation's outcome (init errors, uncaught exceptions) go over
// HTTP in both cases.
//
// It talks HTTP with node:http, not fetch: fetch (undici) gives up on a
// response whose headers take longer than 300 s, and GET /next rightly waits
// for as long as the worker stays idle.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const modulePath = process.env.INQUIR_HANDLER_MODULE ?? '';
const exportName = process.env.INQUIR_HANDLER_EXPORT || 'handler';

// The Runtime API's address: host:port as Lambda documents it, or
// host:port/prefix, whose path goes in front of every call.
const slash = api.indexOf('/');
const hostPort = slash < 0 ? api : api.slice(0, slash);
const base = (slash < 0 ? '' : api.slice(slash)) + '/2018-06-01/runtime';
const colon = hostPort.lastIndexOf(':');
const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
const port = Number(hostPort.slice(colon + 1));
// One connection for the invocation loop; a fatal error report takes a
// connection of its own, since the loop's may be held by a GET /next.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// call makes one Runtime API request and resolves with its status, headers
// and body.
function call(method, path, body, { headers = {}, via = agent } = {}) {
  return new Promise((resolve, reject) => {
    if (body !== undefined) {
      headers = { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    }
    const req = http.request({ host, port, method, path: base + path, headers, agent: via }, (res) => {
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

// requestId is what log lines carry: the id of the invocation in progress,
// or of the last one between invocations; undefined before the first (the
// line then says "undefined", as the RIC's do).
let requestId;

const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

// patchConsole makes console.trace, debug, info, log, warn, error and fatal
// write `TIME\tREQUEST_ID\tLEVEL\tMESSAGE` lines, skipping the levels below
// AWS_LAMBDA_LOG_LEVEL, as the RIC's text log format does.
function patchConsole() {
  const min = Math.max(0, levels.indexOf(String(process.env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase()));
  const writer = (level) => {
    const out = levels.indexOf(level) >= levels.indexOf('WARN') ? process.stderr : process.stdout;
    const write = (message, ...params) =>
      out.write(`${new Date().toISOString()}\t${requestId}\t${level}\t${util.format(message, ...params)}\n`);
    return level === 'FATAL' || levels.indexOf(level) >= min ? write : () => {};
  };
  console.trace = writer('TRACE');
  console.debug = writer('DEBUG');
  console.info = writer('INFO');
  console.log = console.info;
  console.warn = writer('WARN');
  console.error = writer('ERROR');
  console.fatal = writer('FATAL');
}

// runtimeError makes the errors the RIC names Runtime.*.
function runtimeError(name, message) {
  const err = new Error(message);
  // Not an own enumerable property, so a logged error shows it once.
  Object.defineProperty(err, 'name', { value: `Runtime.${name}`, writable: true, configurable: true });
  err.stack = `${err.name}: ${message}`;
  return err;
}

// isError says whether err reports as an error (name, message and stack)
// rather than as a value of its type.
function isError(err) {
  if (util.types.isNativeError(err)) {
    return true;
  }
  return Boolean(
    err &&
      typeof err.name === 'string' && err.name &&
      typeof err.message === 'string' && err.message &&
      typeof err.stack === 'string' && err.stack,
  );
}

// report is the Runtime API's error body for err, whatever was thrown, as
// the RIC builds it. The RIC names the stack "trace"; stackTrace carries it
// too, for inquir's log.
function report(err) {
  let r;
  try {
    r = isError(err)
      ? { errorType: err.name, errorMessage: err.message, trace: err.stack.split('\n') }
      : { errorType: typeof err, errorMessage: err.toString(), trace: [] };
  } catch {
    r = {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
  return { ...r, stackTrace: r.trace };
}

// logError writes the RIC's line for an error: `what \t{json}` at ERROR.
function logError(what, err) {
  const e = err instanceof Error ? err : new Error(err);
  let json;
  try {
    json = JSON.stringify(e, (_key, v) => {
      if (!(v instanceof Error)) {
        return v;
      }
      const out = { errorType: v.name, errorMessage: v.message, code: v.code, ...v };
      if (typeof v.stack === 'string') {
        out.stack = v.stack.split('\n');
      }
      return out;
    });
  } catch {
    json = JSON.stringify(report(e));
  }
  console.error(what, `\t${json}`);
}

// handlerName is the handler as Lambda spells it: module.export.
function handlerName() {
  return `${path.basename(modulePath, path.extname(modulePath))}.${exportName}`;
}

// load imports the module and finds its handler: an ES module's named
// export, or a CommonJS module's exports property, which import() exposes
// under default when it cannot detect it as a named export. It fails as the
// RIC does: Runtime.UserCodeSyntaxError for a SyntaxError,
// Runtime.ImportModuleError for a module that is not found, the module's
// own error for anything else it throws, Runtime.HandlerNotFound for a
// missing handler.
async function load() {
  if (!modulePath) {
    throw runtimeError('ImportModuleError', 'INQUIR_HANDLER_MODULE is not set');
  }
  if (!fs.existsSync(modulePath)) {
    throw runtimeError('ImportModuleError', `Error: Cannot find module '${modulePath}'`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(modulePath).href);
  } catch (err) {
    let wrapped;
    if (err instanceof SyntaxError) {
      wrapped = runtimeError('UserCodeSyntaxError', String(err));
    } else if (err?.code === 'MODULE_NOT_FOUND') {
      wrapped = runtimeError('ImportModuleError', String(err));
    } else {
      throw err;
    }
    // The RIC's trace is its own; the module's says where the fault is.
    if (typeof err.stack === 'string') {
      wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${err.stack}`;
    }
    throw wrapped;
  }
  const resolve = (obj) => exportName.split('.').reduce((v, key) => v?.[key], obj);
  let handler = resolve(mod);
  if (handler === undefined && mod.default !== undefined) {
    handler = resolve(mod.default);
  }
  const hint = `${modulePath} does not export a function named ${exportName}`;
  if (!handler) {
    throw runtimeError('HandlerNotFound', `${handlerName()} is undefined or not exported: ${hint}`);
  }
  if (typeof handler !== 'function') {
    throw runtimeError('HandlerNotFound', `${handlerName()} is not a function: ${hint}`);
  }
  return handler;
}

// onBeforeExit is what happens when the event loop empties during an
// invocation: how a callback handler's response waits for the loop, and how
// a handler that never answers is answered for.
let onBeforeExit = null;
process.on('beforeExit', () => {
  const f = onBeforeExit;
  onBeforeExit = null;
  f?.();
});

// A Lambda log group and stream, for a worker not given them: one stream per
// worker, as one per execution environment.
const defaultLogStream = (() => {
  const d = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const version = process.env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST';
  return `${d}/[${version}]${randomBytes(16).toString('hex')}`;
})();

// parseHeader parses a JSON header (client context, Cognito identity), or
// is undefined without one.
function parseHeader(value, name) {
  if (value === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err}`);
  }
}

// invoke runs the handler for one invocation, as the RIC does, and
// resolves with the outcome to post: {ok, body}.
function invoke(handler, isAsync, body, headers) {
  return new Promise((resolve) => {
    let reported = false;
    const settle = (outcome) => {
      onBeforeExit = null;
      if (!reported) {
        reported = true;
        resolve(outcome);
      }
    };
    const respond = (result) => {
      let json;
      try {
        json = JSON.stringify(result === undefined ? null : result);
      } catch {
        // As the RIC: a circular or BigInt result fails the invocation.
      }
      if (json === undefined) {
        return fail(new Error('Unable to stringify response body'));
      }
      settle({ ok: true, body: json });
    };
    const fail = (err) => {
      logError('Invoke Error', err);
      settle({ ok: false, body: JSON.stringify(report(err)) });
    };

    // Only the first of callback, succeed, fail and done counts.
    let finished = false;
    const once =
      (f) =>
      (...args) => {
        if (!finished) {
          finished = true;
          f(...args);
        }
      };
    const complete = (err, result) => {
      onBeforeExit = null;
      if (err !== undefined && err !== null) {
        fail(err);
      } else {
        respond(result);
      }
    };
    let waits = true;
    const callback = once((err, result) => {
      onBeforeExit = null;
      if (err !== undefined && err !== null) {
        fail(err);
      } else if (!waits) {
        respond(result);
      } else {
        onBeforeExit = () => setImmediate(() => respond(result));
      }
    });
    const succeed = once((result) => complete(null, result));
    const failed = once((err) => complete(err ?? 'handled', null));
    const done = once(complete);

    const env = process.env;
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
    try {
      const context = {
        get callbackWaitsForEmptyEventLoop() {
          return waits;
        },
        set callbackWaitsForEmptyEventLoop(value) {
          waits = value;
        },
        succeed,
        fail: failed,
        done,
        functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName,
        memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME || `/aws/lambda/${functionName}`,
        logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME || defaultLogStream,
        clientContext: parseHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
        identity: parseHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
        invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: headers['lambda-runtime-aws-request-id'],
        tenantId: headers['lambda-runtime-aws-tenant-id'],
        getRemainingTimeInMillis: () => deadline - Date.now(),
      };
      // A handler that neither returns a promise nor calls back is done when
      // the event loop empties: with null, or, for an async function whose
      // promise never settled, with the RIC's error.
      onBeforeExit = () => {
        finished = true;
        if (isAsync) {
          fail(
            runtimeError(
              'NodeJsExit',
              'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
            ),
          );
        } else {
          respond(null);
        }
      };
      const result = handler(JSON.parse(body), context, callback);
      if (result && typeof result.then === 'function') {
        result.then(succeed, failed);
      }
    } catch (err) {
      callback(err);
    }
  });
}

// invocationId is the invocation an uncaught error is reported against:
// the one in progress or the last one, as the RIC does; undefined during
// init, when it is an init error.
let invocationId;

// errorTypeHeader is the Lambda-Runtime-Function-Error-Type header the RIC
// sends with an error, left out when the type (a handler's own error name)
// could not be sent as a header.
function errorTypeHeader(type) {
  return typeof type === 'string' && /^[\x20-\x7e]+$/.test(type) ? { 'Lambda-Runtime-Function-Error-Type': type } : {};
}

// fatal reports an error nothing caught, and exits.
async function fatal(err, code) {
  const r = report(err);
  const path = invocationId === undefined ? '/init/error' : `/invocation/${encodeURIComponent(invocationId)}/error`;
  try {
    await call('POST', path, JSON.stringify(r), { headers: errorTypeHeader(r.errorType), via: false });
  } catch {
    // Exiting says enough if the Runtime API is gone too.
  }
  process.exit(code);
}

async function main() {
  patchConsole();
  const check = Boolean(process.env.INQUIR_CHECK);
  if (!check) {
    process.on('uncaughtException', (err) => {
      logError('Uncaught Exception', err);
      fatal(err, 129);
    });
    process.on('unhandledRejection', (reason) => {
      const err = runtimeError('UnhandledPromiseRejection', undefined);
      err.message = reason === undefined ? '' : String(reason);
      err.stack = isError(reason) ? reason.stack : `${err.name}: ${err.message}`;
      logError('Unhandled Promise Rejection', err);
      fatal(err, 128);
    });
  }

  let handler;
  try {
    handler = await load();
  } catch (err) {
    if (check) {
      process.stderr.write(`inquir: ${err?.name ?? 'Error'}: ${err?.message ?? err}\n`);
      process.exit(1);
    }
    logError('Uncaught Exception', err);
    await fatal(err, 129);
  }
  if (check) {
    process.exit(0);
  }
  const isAsync = handler.constructor?.name === 'AsyncFunction';
  const transport = process.argv.includes('--inquir-channel') ? await openChannel() : runtimeAPI;

  for (;;) {
    const next = await transport.next();
    const id = next.headers['lambda-runtime-aws-request-id'];
    invocationId = id;
    requestId = id;
    const trace = next.headers['lambda-runtime-trace-id'];
    if (trace) {
      process.env._X_AMZN_TRACE_ID = trace;
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }

    const { ok, body } = await invoke(handler, isAsync, next.body, next.headers);
    await transport.send(id, ok, body);
  }
}

// runtimeAPI takes invocations as the Lambda Runtime API hands them: a
// GET /invocation/next for each, a POST of its outcome.
const runtimeAPI = {
  async next() {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) {
      throw new Error(`GET /invocation/next answered ${next.status}: ${next.body}`);
    }
    return next;
  },
  async send(id, ok, body) {
    const path = `/invocation/${encodeURIComponent(id)}/${ok ? 'response' : 'error'}`;
    const res = await call('POST', path, body, { headers: ok ? {} : errorTypeHeader(JSON.parse(body).errorType) });
    if (res.status !== 202) {
      process.stderr.write(`inquir: POST ${path} answered ${res.status}: ${res.body}\n`);
    }
  },
};

// openChannel opens inquir's invocation channel (run with --inquir-channel,
// as inquir runs it): GET /invocation/next upgraded to one connection that
// carries, for each invocation, a frame from inquir (uint32 header length,
// uint32 event length, the Runtime API's headers as JSON, the event) and one
// back (uint32 length, 'R' or 'E', a byte of id length, the id, the body
// POST /response or /error would send). The handler sees the same event and
// context either way. See channel.go in inquir.
function openChannel() {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host,
      port,
      method: 'GET',
      path: `${base}/invocation/next`,
      headers: { connection: 'Upgrade', upgrade: 'inquir-frames' },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`opening the invocation channel: GET /invocation/next answered ${res.statusCode}`));
    });
    req.on('upgrade', (_res, socket, head) => {
      socket.setNoDelay(true);
      let buf = head;
      // The resolve of the next() that waits for a frame.
      let waiting = null;
      const closed = () => {
        process.stderr.write('inquir: the invocation channel closed\n');
        process.exit(1);
      };
      const parse = () => {
        if (buf.length < 8) {
          return;
        }
        const headerLen = buf.readUInt32BE(0);
        const end = 8 + headerLen + buf.readUInt32BE(4);
        if (buf.length < end) {
          return;
        }
        if (!waiting) {
          return;
        }
        const w = waiting;
        waiting = null;
        const headers = JSON.parse(buf.toString('utf8', 8, 8 + headerLen));
        const body = buf.toString('utf8', 8 + headerLen, end);
        buf = buf.subarray(end);
        w({ headers, body });
      };
      socket.on('data', (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        parse();
      });
      socket.on('error', closed);
      socket.on('close', closed);
      resolve({
        // The socket keeps node alive only while it waits for an
        // invocation, as the agent's idle socket does in Runtime API mode:
        // during one, an emptied event loop is how a handler that never
        // answers is done.
        next() {
          socket.ref();
          return new Promise((res) => {
            waiting = res;
            parse();
          }).then((r) => {
            socket.unref();
            return r;
          });
        },
        send(id, ok, body) {
          const idBytes = Buffer.from(id, 'utf8');
          const bodyLen = Buffer.byteLength(body);
          const frame = Buffer.allocUnsafe(4 + 2 + idBytes.length + bodyLen);
          frame.writeUInt32BE(2 + idBytes.length + bodyLen, 0);
          frame[4] = ok ? 0x52 : 0x45;
          frame[5] = idBytes.length;
          idBytes.copy(frame, 6);
          frame.write(body, 6 + idBytes.length, 'utf8');
          socket.write(frame);
        },
      });
    });
    req.end();
  });
}

main().catch((err) => {
  process.stderr.write(`inquir: lambda runtime API: ${err?.message ?? err}\n`);
  process.exit(1);
});
