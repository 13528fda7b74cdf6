'use strict';
// CommonJS handlers used by cognate-functions' tests.

let invocations = 0;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.echo = async (event, context) => {
  invocations += 1;
  console.log(`echo invocation ${invocations} for ${context.functionName}`);
  return {
    event,
    invocations,
    pid: process.pid,
    context: {
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      awsRequestId: context.awsRequestId,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remaining: context.getRemainingTimeInMillis(),
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    },
    env: {
      FROM_FUNCTION: process.env.FROM_FUNCTION,
      FROM_HOST: process.env.FROM_HOST,
      SHARED: process.env.SHARED,
      AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
      AWS_LAMBDA_FUNCTION_VERSION: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      AWS_REGION: process.env.AWS_REGION,
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION,
      AWS_EXECUTION_ENV: process.env.AWS_EXECUTION_ENV,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
      LAMBDA_TASK_ROOT: process.env.LAMBDA_TASK_ROOT,
      _HANDLER: process.env._HANDLER,
      TZ: process.env.TZ,
      NODE_PATH: process.env.NODE_PATH,
      _X_AMZN_TRACE_ID: process.env._X_AMZN_TRACE_ID,
    },
    cwd: process.cwd(),
  };
};

// Callback style, answering from a timer.
exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, { ...event, style: 'callback' }), 10);
};

// Old-style context methods.
exports.succeed = (event, context) => {
  context.succeed({ style: 'succeed', requestId: context.awsRequestId });
};

exports.fail = (event, context) => {
  context.fail(new Error('failed through context.fail'));
};

exports.callbackError = (event, context, callback) => {
  callback('plain string error');
};

// A synchronous handler that never answers: Lambda returns null when the event loop is empty.
exports.silent = (event, context) => {
  void event;
  void context;
};

exports.throws = async () => {
  throw new Error('Email domain is not allowed.');
};

class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ValidationError';
  }
}

exports.throwsCustom = async () => {
  throw new ValidationError('Phone number is required');
};

exports.slow = async (event) => {
  await sleep(event.ms);
  return { pid: process.pid, slept: event.ms };
};

exports.crash = async () => {
  process.exit(3);
};

exports.uncaught = (event, context, callback) => {
  setTimeout(() => {
    throw new TypeError('thrown from a timer');
  }, 5);
  void callback;
};

exports.returnsString = async () => 'not an object';

exports.returnsNothing = async () => undefined;

exports.nested = { deeper: async () => ({ nested: true }) };

// Meets `event.parties` concurrent invocations at a folder (`event.dir`): each adds a file and
// waits until that many exist. Only invocations that truly overlap can all get through, so tests
// prove parallelism by what met, not by elapsed time. Gives up after `event.giveUpMs`.
exports.rendezvous = async (event) => {
  const fs = require('fs');
  const path = require('path');
  const mine = path.join(event.dir, `${process.pid}-${Date.now()}-${Math.random()}`);
  fs.writeFileSync(mine, '');
  const deadline = Date.now() + event.giveUpMs;
  let present = 0;
  for (;;) {
    present = fs.readdirSync(event.dir).length;
    if (present >= event.parties || Date.now() > deadline) break;
    await sleep(20);
  }
  // Hold on briefly so later arrivals still see this one.
  await sleep(100);
  fs.unlinkSync(mine);
  return { pid: process.pid, met: present >= event.parties, present };
};
