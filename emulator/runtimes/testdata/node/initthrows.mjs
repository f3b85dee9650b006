// A test function whose top level throws.
throw new TypeError('bad configuration');
