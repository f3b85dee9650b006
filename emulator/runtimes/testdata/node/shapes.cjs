// Test functions for the node runtime, one handler shape per export,
// written as handlers on AWS Lambda are (CommonJS, callback style, context
// methods). Each function in a test picks one export.
'use strict';

console.log('shapes loaded');

const ok = (body) => ({ statusCode: 200, body });

// The context as the handler sees it.
exports.context = async (event, context) =>
  ok(
    JSON.stringify({
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remaining: context.getRemainingTimeInMillis(),
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
      methods: [typeof context.succeed, typeof context.fail, typeof context.done],
      hasClientContext: 'clientContext' in context,
      clientContext: String(context.clientContext),
      identity: String(context.identity),
    }),
  );

// Callback style, answering later.
exports.callbackLater = (event, context, callback) => {
  setTimeout(() => callback(null, ok('called back')), 10);
};

// Callback style, with work left on the event loop: the response is sent
// once it is done, so what the timer changes is in it.
exports.callbackWaits = (event, context, callback) => {
  const res = ok('as called back');
  callback(null, res);
  setTimeout(() => {
    res.body = 'changed after the callback';
  }, 20);
};

// The same with callbackWaitsForEmptyEventLoop = false: the response is sent
// at once, though a timer is pending far past the function's timeout.
exports.callbackNoWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  const res = ok('as called back');
  callback(null, res);
  setTimeout(() => {
    res.body = 'changed after the callback';
  }, 120_000);
};

// A synchronous handler's return value is ignored: Lambda answers null.
exports.syncReturn = () => ok('returned, not called back');

// A non-async function returning a promise is awaited like an async one.
exports.promiseReturn = () => Promise.resolve(ok('from a promise'));

exports.succeed = (event, context) => {
  context.succeed(ok('via context.succeed'));
};
exports.done = (event, context) => {
  setTimeout(() => context.done(null, ok('via context.done')), 10);
};
exports.fail = (event, context) => {
  context.fail(new Error('failed via context.fail'));
};
exports.callbackError = (event, context, callback) => {
  callback(new Error('failed via callback'));
};
exports.callbackString = (event, context, callback) => {
  callback('a plain string');
};
exports.throws = () => {
  throw new RangeError('thrown synchronously');
};
exports.rejects = async () => {
  throw new TypeError('rejected');
};

// Only the first answer counts.
exports.twice = (event, context, callback) => {
  context.succeed(ok('first'));
  callback(null, ok('second'));
  context.fail(new Error('third'));
};

// A response JSON cannot hold.
exports.circular = async () => {
  const res = ok('circular');
  res.self = res;
  return res;
};

// An async handler whose promise never settles, with nothing left to do.
exports.neverSettles = async () => {
  await new Promise(() => {});
};

// An error nothing catches, after the handler returned.
exports.uncaught = (event, context, callback) => {
  setTimeout(() => {
    throw new Error('thrown from a timer');
  }, 0);
};

// A rejection nothing handles, after the handler returned.
exports.unhandled = (event, context, callback) => {
  Promise.reject(new Error('nobody caught this'));
};

// Lines at each level, and the request id they should carry.
exports.logs = async (event, context) => {
  console.log('log %s', 'formatted');
  console.info('info', { a: 1 });
  console.debug('debug');
  console.warn('warn');
  console.error('error');
  return ok(context.awsRequestId);
};

exports.notAFunction = 42;
