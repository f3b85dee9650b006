// A test function for the node runtime: a CommonJS module. Its exports are
// built so that node cannot detect them as named exports, and the handler
// is only reachable as import(...).default.handler.
function build() {
  const exported = {};
  exported['hand' + 'ler'] = async (event) => {
    switch (event.path) {
      case '/pid':
        return { statusCode: 200, body: String(process.pid) };
      case '/env':
        return { statusCode: 200, body: process.env[event.queryStringParameters.name] ?? '' };
      case '/crash':
        process.exit(3);
      case '/throw':
        throw new Error('deliberate failure');
    }
    return { statusCode: 200, body: `hello from node cjs ${event.path}` };
  };
  return exported;
}
module.exports = build();
