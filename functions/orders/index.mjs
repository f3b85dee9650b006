// A customer's orders: behind a partner key and the tenant authorizer. The
// handler checks nothing itself; the authorizer's context says whose token
// came with the request.
const orders = { "c-1001": [{ id: "o-1", total: 42 }] };

export async function handler(event) {
  const { customerId } = event.pathParameters;
  const { tenant, apiKeyId } = event.requestContext.authorizer;
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ customerId, tenant, calledBy: apiKeyId, orders: orders[customerId] ?? [] }),
  };
}
