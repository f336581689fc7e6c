// Evaluates requests against the policies terraform applied, with a maintained IAM policy
// simulator (@cloud-copilot/iam-simulate), for cli/tests/policies/mod.rs.
//
// stdin: {"cases": [{"name", "principal", "action", "resource", "account", "context",
//                    "resourcePolicy", "identityPolicy"?}]}
// stdout: [{"name", "decision", "errors"}], decision Allowed, ExplicitlyDenied or
// ImplicitlyDenied. A principal without an identity policy is given one allowing everything:
// the question is what the resource policy leaves to someone with full rights on the account.
// With one (a role terraform made), the question is what that role may do.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const modules = process.argv[2]
const require = createRequire(`${modules}/`)
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const everything = {
  name: 'full-rights',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
}

const { cases } = JSON.parse(readFileSync(0, 'utf8'))
const results = []
for (const request of cases) {
  const response = await runSimulation(
    {
      identityPolicies: [
        request.identityPolicy ? { name: 'identity', policy: request.identityPolicy } : everything
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: request.resourcePolicy ?? undefined,
      request: {
        principal: request.principal,
        action: request.action,
        resource: { accountId: request.account, resource: request.resource },
        // The simulator does not derive these from the request yet: every real request has them.
        contextVariables: {
          'aws:PrincipalArn': request.principal,
          'aws:SecureTransport': 'true',
          ...request.context
        }
      }
    },
    {}
  )
  results.push({
    name: request.name,
    decision: response.resultType === 'error' ? 'Error' : response.overallResult,
    errors: response.resultType === 'error' ? response.errors : undefined
  })
}
process.stdout.write(JSON.stringify(results))
