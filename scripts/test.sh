#!/usr/bin/env bash
# The whole test suite: the same command on a laptop and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=1 AWS_EC2_METADATA_DISABLED=true \
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true NO_COLOR=1

step() { printf '\n== %s\n' "$1"; }

step 'types are generated from the schemas'
node --import ./scripts/register.mjs scripts/generate-types.ts --check
step 'the workflows local mode runs are the ones cdk synth produces'
node --import ./scripts/register.mjs scripts/generate-workflows.ts --check
step 'type-check'
npx tsc -p .
step 'lint and format'
npx biome check .
step 'cdk synth (offline, with bundling)'
npx cdk synth -q --output "$(mktemp -d)"
step 'tests'
rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json=vitest-report.json || rc=$?
node -e "const r=require('./vitest-report.json');console.log(r.numPassedTests+' passed, '+r.numFailedTests+' failed'+(r.numPendingTests?', '+r.numPendingTests+' skipped':''))"
exit "$rc"
