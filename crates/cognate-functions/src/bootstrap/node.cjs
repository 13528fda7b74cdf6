'use strict';
// Cognate's Node.js runtime: runs a Lambda handler against the AWS Lambda Runtime API served by
// Cognate. Node built-ins only. Environment: AWS_LAMBDA_RUNTIME_API (host:port),
// LAMBDA_TASK_ROOT (the code), _HANDLER ("dir/file.export").

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const env = process.env;
const API = env.AWS_LAMBDA_RUNTIME_API || '';
const API_HOST = API.slice(0, API.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
const API_PORT = Number(API.slice(API.lastIndexOf(':') + 1));
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** The invocation being handled: { id, finish(err, result) } */
let current = null;

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const allHeaders = Object.assign({}, headers);
    if (data !== undefined) {
      allHeaders['Content-Type'] = 'application/json';
      allHeaders['Content-Length'] = data.length;
    }
    const req = http.request(
      { host: API_HOST, port: API_PORT, method, path: BASE + urlPath, agent, headers: allHeaders },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function errorBody(err, forcedType) {
  let body;
  if (err instanceof Error) {
    body = {
      errorType: err.name || 'Error',
      errorMessage: err.message === undefined ? '' : String(err.message),
      stackTrace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
    };
  } else if (typeof err === 'string') {
    body = { errorType: 'string', errorMessage: err, stackTrace: [] };
  } else if (err !== null && typeof err === 'object') {
    let text;
    try {
      text = JSON.stringify(err);
    } catch (_) {
      text = String(err);
    }
    body = {
      errorType: typeof err.errorType === 'string' ? err.errorType : 'object',
      errorMessage: typeof err.errorMessage === 'string' ? err.errorMessage : text,
      stackTrace: [],
    };
  } else {
    body = { errorType: typeof err, errorMessage: String(err), stackTrace: [] };
  }
  if (forcedType) {
    body.errorMessage = err instanceof Error ? `${err.name}: ${err.message}` : body.errorMessage;
    body.errorType = forcedType;
  }
  return body;
}

class RuntimeError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.name = type;
    if (cause && cause.stack) this.stack = `${type}: ${message}\n${cause.stack}`;
  }
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch (_) {
    return false;
  }
}

/** Whether a .js file is an ES module: the nearest package.json says "type": "module". */
function isEsmScope(file) {
  let dir = path.dirname(file);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (isFile(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module';
      } catch (_) {
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function loadModule(base) {
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = base + ext;
    if (!isFile(file)) continue;
    if (ext === '.mjs' || (ext === '.js' && isEsmScope(file))) {
      return import(pathToFileURL(file).href);
    }
    return require(file);
  }
  // No file with a known extension: let Node resolve it (a folder, a package).
  try {
    return require(base);
  } catch (e) {
    if (e && e.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(require.resolve(base)).href);
    throw e;
  }
}

async function loadHandler() {
  const root = env.LAMBDA_TASK_ROOT || process.cwd();
  const spec = env._HANDLER || '';
  const slash = spec.lastIndexOf('/');
  const dir = spec.slice(0, slash + 1);
  const rest = spec.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot < 1 || dot === rest.length - 1) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  }
  const moduleName = dir + rest.slice(0, dot);
  const exportPath = rest.slice(dot + 1);
  let mod;
  try {
    mod = await loadModule(path.resolve(root, moduleName));
  } catch (e) {
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      throw new RuntimeError('Runtime.ImportModuleError', `${e.name}: ${e.message}`, e);
    }
    if (e instanceof SyntaxError) {
      throw new RuntimeError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`, e);
    }
    throw e;
  }
  let handler = mod;
  for (const key of exportPath.split('.')) handler = handler == null ? undefined : handler[key];
  if (handler === undefined) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${rest} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${rest} is not a function`);
  }
  return handler;
}

function parseJsonHeader(value) {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch (_) {
    return undefined;
  }
}

/** Runs the handler; resolves to { err, result } once it answers, in whichever style it uses. */
function runHandler(handler, event, headers, id) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (err, result) => {
      if (settled) return;
      settled = true;
      resolve({ err, result });
    };
    current = { id, finish };
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: id,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity']),
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context']),
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
      succeed: (result) => finish(null, result),
      fail: (err) => finish(err == null ? 'handled' : err),
      done: (err, result) => (err == null ? finish(null, result) : finish(err)),
    };
    const callback = (err, result) => (err == null ? finish(null, result) : finish(err));
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (e) {
      finish(e === undefined || e === null ? new Error(String(e)) : e);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then(
        (result) => finish(null, result),
        (e) => finish(e === undefined || e === null ? new Error(String(e)) : e),
      );
    }
    // Otherwise the handler answers through callback / context.succeed / fail / done, or, like on
    // Lambda, with null once the event loop has nothing left to do (see 'beforeExit').
  });
}

process.on('beforeExit', () => {
  if (current) current.finish(null, undefined);
});

async function fatal(err, forcedType) {
  console.error(forcedType || 'Uncaught Exception', err);
  if (current) {
    const { id } = current;
    current = null;
    const body = errorBody(err, forcedType);
    try {
      await call('POST', `/invocation/${id}/error`, JSON.stringify(body), {
        'Lambda-Runtime-Function-Error-Type': body.errorType,
      });
    } catch (_) {
      // The host reports the exit instead.
    }
  }
  process.exit(129);
}

process.on('uncaughtException', (err) => fatal(err));
process.on('unhandledRejection', (reason) => fatal(reason, 'Runtime.UnhandledPromiseRejection'));

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    console.error(e);
    const body = errorBody(e);
    try {
      await call('POST', '/init/error', JSON.stringify(body), {
        'Lambda-Runtime-Function-Error-Type': body.errorType,
      });
    } finally {
      process.exit(1);
    }
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) {
      throw new Error(`Runtime API /invocation/next answered ${next.status}: ${next.body}`);
    }
    const id = next.headers['lambda-runtime-aws-request-id'];
    const traceId = next.headers['lambda-runtime-trace-id'];
    if (traceId) env._X_AMZN_TRACE_ID = traceId;
    else delete env._X_AMZN_TRACE_ID;
    let event;
    try {
      event = JSON.parse(next.body);
    } catch (e) {
      const body = { errorType: 'Runtime.UnmarshalError', errorMessage: e.message, stackTrace: [] };
      await call('POST', `/invocation/${id}/error`, JSON.stringify(body), {
        'Lambda-Runtime-Function-Error-Type': body.errorType,
      });
      continue;
    }
    const { err, result } = await runHandler(handler, event, next.headers, id);
    if (!current || current.id !== id) continue; // already reported by fatal()
    current = null;
    if (err !== null && err !== undefined) {
      const body = errorBody(err);
      console.error(`${id}\tERROR\tInvoke Error \t${JSON.stringify(body)}`);
      await call('POST', `/invocation/${id}/error`, JSON.stringify(body), {
        'Lambda-Runtime-Function-Error-Type': body.errorType,
      });
      continue;
    }
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const body = {
        errorType: 'Runtime.MarshalError',
        errorMessage: `Unable to stringify response body: ${e.message}`,
        stackTrace: [],
      };
      await call('POST', `/invocation/${id}/error`, JSON.stringify(body), {
        'Lambda-Runtime-Function-Error-Type': body.errorType,
      });
      continue;
    }
    await call('POST', `/invocation/${id}/response`, payload);
  }
}

main().catch((e) => {
  console.error('Cognate runtime failed:', e);
  process.exit(1);
});
