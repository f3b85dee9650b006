// A Lambda authorizer (type "request"): the caller's own check, run by the
// gateway after the API key and before the handler. It reads a bearer
// token, and answers with an IAM policy and a context the handler receives
// in requestContext.authorizer. API Gateway caches the answer (ttl) and
// uses it for every route this authorizer guards, so the policy allows the
// whole stage ("…/local/*"), not only event.methodArn.
const tenants = { "demo-acme-token": "acme", "demo-globex-token": "globex" };

export async function handler(event) {
  const header = event.headers.Authorization ?? event.headers.authorization ?? "";
  const tenant = tenants[header.replace(/^Bearer /, "")];
  if (!tenant) {
    throw new Error("Unauthorized"); // API Gateway answers 401
  }
  const [arn, stage] = event.methodArn.split("/");
  return {
    principalId: "tenant-" + tenant,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: `${arn}/${stage}/*` }],
    },
    context: { tenant },
  };
}
