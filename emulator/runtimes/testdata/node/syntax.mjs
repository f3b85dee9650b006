// A test function that does not parse: starting it is an init error.
export async function handler(event {
  return {};
}
