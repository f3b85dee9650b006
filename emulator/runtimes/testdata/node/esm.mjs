// A test function for the node runtime: an ES module with an async handler,
// written as for Lambda. The event's path selects what it does.
export async function handler(event, context) {
  switch (event.path) {
    case '/pid':
      return { statusCode: 200, body: String(process.pid) };
    case '/environ':
      return { statusCode: 200, body: JSON.stringify(process.env) };
    case '/cwd':
      return { statusCode: 200, body: process.cwd() };
    case '/env':
      return { statusCode: 200, body: process.env[event.queryStringParameters.name] ?? '' };
    case '/context':
      return {
        statusCode: 200,
        body: JSON.stringify({
          requestId: context.awsRequestId,
          functionName: context.functionName,
          remaining: context.getRemainingTimeInMillis(),
        }),
      };
    case '/crash':
      process.exit(3);
    case '/throw':
      throw new TypeError('deliberate failure');
    case '/sleep':
      await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
  return { statusCode: 200, body: `hello from node esm ${event.path}` };
}

// The same handler under another name, for a function with export = "main".
export const main = handler;
