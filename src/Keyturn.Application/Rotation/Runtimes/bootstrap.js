// Keyturn's Node.js runtime for Lambda handlers: one warm worker per function, like a Lambda execution environment.
// It loads the handler's file once, then serves invocations until its request pipe closes. The protocol is JSON lines
// on two private descriptors (4: requests in, 3: responses out, set up by the launcher); descriptor 1 is the log pipe,
// where console output goes formatted as Lambda's Node.js runtime does ("<time>\t<request id>\tINFO\t<message>").
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const util = require('util');
const { pathToFileURL } = require('url');

const REQUESTS_FD = 4;
const RESPONSES_FD = 3;
const END_OF_INVOCATION = '\x1ekeyturn-end ';
let requestId;
let current;

function send(message) {
  fs.writeSync(RESPONSES_FD, JSON.stringify(message) + '\n');
}

function write(line) {
  fs.writeSync(1, line + '\n');
}

for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  console[method] = (...args) => write(`${new Date().toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${util.format(...args)}`);
}

function errorOf(e, type) {
  const error = e instanceof Error ? e : new Error(typeof e === 'string' ? e : util.inspect(e));
  return {
    errorType: type ?? error.name ?? 'Error',
    errorMessage: error.message,
    trace: String(error.stack ?? '').split('\n'),
  };
}

function logError(label, error) {
  write(`${new Date().toISOString()}\t${requestId ?? 'undefined'}\tERROR\t${label} \t${JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage, stack: error.trace })}`);
}

async function load(handler) {
  // Lambda's rule: the file is everything up to the first '.' after the last '/', the export path the rest.
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  const file = handler.slice(0, dot);
  const exportPath = handler.slice(dot + 1).split('.');
  const base = path.resolve(process.env.LAMBDA_TASK_ROOT, file);
  let module;
  const candidates = ['.js', '.mjs', '.cjs'].map(ext => base + ext).filter(f => fs.existsSync(f));
  if (candidates.length === 0) {
    return { error: errorOf(new Error(`Cannot find module '${file}'`), 'Runtime.ImportModuleError') };
  }
  try {
    module = candidates[0].endsWith('.mjs') ? await import(pathToFileURL(candidates[0]).href) : require(candidates[0]);
  } catch (e) {
    if (e && e.code === 'ERR_REQUIRE_ESM') {
      module = await import(pathToFileURL(candidates[0]).href);
    } else {
      return { error: errorOf(e, e instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError') };
    }
  }
  let fn = module;
  for (const part of exportPath) {
    fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== 'function') {
    return { error: errorOf(new Error(`${handler} is undefined or not exported`), 'Runtime.HandlerNotFound') };
  }
  return { fn };
}

function context(request) {
  const deadline = Date.now() + request.remainingMs;
  return {
    awsRequestId: request.requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: request.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: request.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function invoke(fn, request) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    try {
      const returned = fn(request.event, context(request), callback);
      // An async handler (or one returning a promise) answers with it; a callback-style one calls back.
      if (returned && typeof returned.then === 'function') {
        returned.then(resolve, reject);
      } else if (fn.length < 3) {
        resolve(returned);
      }
    } catch (e) {
      reject(e);
    }
  });
}

function finish(response) {
  // Console output is written synchronously, so the marker follows everything the invocation logged.
  fs.writeSync(2, END_OF_INVOCATION + response.requestId + '\n');
  send(response);
}

async function main() {
  process.chdir(process.env.LAMBDA_TASK_ROOT);
  const started = process.hrtime.bigint();
  const { fn, error } = await load(process.env._HANDLER);
  if (error) {
    logError('Uncaught Exception', error);
    send({ type: 'initError', error });
    process.exit(1);
  }
  send({ type: 'ready', initMs: Number(process.hrtime.bigint() - started) / 1e6 });

  // An error nobody awaited fails the invocation it happened in, and ends the worker as Lambda ends its environment.
  const fatal = (label, type) => e => {
    const err = errorOf(e, type);
    logError(label, err);
    if (current) {
      fs.writeSync(2, END_OF_INVOCATION + current + '\n');
      send({ type: 'error', requestId: current, error: err });
    }
    process.exit(1);
  };
  process.on('uncaughtException', fatal('Uncaught Exception', undefined));
  process.on('unhandledRejection', fatal('Unhandled Promise Rejection', 'Runtime.UnhandledPromiseRejection'));

  const requests = readline.createInterface({ input: fs.createReadStream(null, { fd: REQUESTS_FD }), crlfDelay: Infinity });
  for await (const line of requests) {
    const request = JSON.parse(line);
    requestId = current = request.requestId;
    process.env.AWS_ACCESS_KEY_ID = request.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = request.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    process.env.AWS_LAMBDA_LOG_STREAM_NAME = request.logStreamName;
    let response;
    try {
      const payload = await invoke(fn, request);
      response = { type: 'result', requestId: current, payload: payload === undefined ? null : payload };
    } catch (e) {
      const err = errorOf(e);
      logError('Invoke Error', err);
      response = { type: 'error', requestId: current, error: err };
    }
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    current = undefined;
    finish(response);
  }
  process.exit(0);
}

main();
