// A test function that exits while it loads, before it can report anything.
console.error('giving up during init');
process.exit(2);
