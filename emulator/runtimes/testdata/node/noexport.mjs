// A test function that exports no handler: starting it is an init error.
export const notAHandler = 1;
