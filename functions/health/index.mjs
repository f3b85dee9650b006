// A public health check: the one route of the example that needs no key,
// and inquir.toml says why (reason = ...), so a reviewer sees it vouched for.
export async function handler() {
  return { statusCode: 200, headers: { "content-type": "application/json" }, body: '{"status":"ok"}' };
}
