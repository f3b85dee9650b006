// The example internal function: a search over a small in-memory index.
// Only keys in the "internal" group reach it; the gateway made sure of that
// before this module was even loaded.

const documents = [
  { id: "doc-1", title: "Rotating API keys without downtime" },
  { id: "doc-2", title: "Scoping partner keys to route groups" },
  { id: "doc-3", title: "Why the gateway, not the handler, checks keys" },
];

export async function handler(event) {
  let query;
  try {
    query = JSON.parse(event.body || "{}").query;
  } catch {
    return reply(400, { error: "the body must be JSON, as in {\"query\": \"keys\"}" });
  }
  if (typeof query !== "string" || query.trim() === "") {
    return reply(400, { error: "query must be a non-empty string" });
  }
  const q = query.toLowerCase();
  const results = documents.filter((d) => d.title.toLowerCase().includes(q));
  return reply(200, { query, results, calledBy: event.requestContext.identity.apiKeyId });
}

function reply(statusCode, body) {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
