// A test function that requires a module that is not there.
const missing = require('./no-such-module');

exports.handler = async () => missing();
