// Rotation handlers for a plain secret in Node.js, one async and one callback style, calling Secrets Manager through
// the AWS CLI (no SDK is installed): createSecret puts AWSPENDING, finishSecret moves AWSCURRENT. RECORD_DIR receives
// each invocation's context; FAIL_AT_STEP makes that step (1 createSecret ... 4 finishSecret) fail.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function aws(...args) {
  const out = execFileSync('aws', ['secretsmanager', ...args, '--output', 'json'], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : null;
}

function record(event, context, style) {
  fs.appendFileSync(path.join(process.env.RECORD_DIR, 'contexts'), JSON.stringify({
    style,
    step: event.Step,
    pid: process.pid,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    remaining: context.getRemainingTimeInMillis(),
  }) + '\n');
}

function rotate(event) {
  const { SecretId: arn, ClientRequestToken: token, Step: step } = event;
  const steps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
  if (process.env.FAIL_AT_STEP === String(steps.indexOf(step) + 1)) {
    throw new TypeError(`refusing ${step} on purpose`);
  }
  if (step === 'createSecret') {
    // One argument with '=': a base64url value may start with '-', which the CLI would read as an option.
    aws('put-secret-value', '--secret-id', arn, '--client-request-token', token,
      `--secret-string=${crypto.randomBytes(18).toString('base64url')}`, '--version-stages', 'AWSPENDING');
    console.log(`createSecret: Successfully put secret for ARN ${arn} and version ${token}.`);
  } else if (step === 'finishSecret') {
    const stages = aws('describe-secret', '--secret-id', arn).VersionIdsToStages;
    const current = Object.keys(stages).find(v => stages[v].includes('AWSCURRENT'));
    aws('update-secret-version-stage', '--secret-id', arn, '--version-stage', 'AWSCURRENT',
      '--move-to-version-id', token, '--remove-from-version-id', current);
    console.info(`finishSecret: Successfully set AWSCURRENT stage to version ${token} for secret ${arn}.`);
  } else {
    console.log(`${step}: nothing to do for a plain secret ${arn}.`);
  }
}

exports.asyncHandler = async (event, context) => {
  record(event, context, 'async');
  await new Promise(resolve => setTimeout(resolve, 10));
  rotate(event);
  return { step: event.Step };
};

exports.callbackHandler = function (event, context, callback) {
  record(event, context, 'callback');
  setTimeout(() => {
    try {
      rotate(event);
      callback(null, { step: event.Step });
    } catch (e) {
      callback(e);
    }
  }, 10);
};
