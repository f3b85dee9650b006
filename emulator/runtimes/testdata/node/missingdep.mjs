// A test function that imports a package that is not installed.
import missing from 'no-such-package';

export const handler = async () => missing();
