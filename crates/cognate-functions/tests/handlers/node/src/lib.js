'use strict';
// A handler below a folder ("src/lib.handler") requiring a sibling module.
const { greet } = require('./greet');

module.exports.handler = async (event) => ({ greeting: greet(event.name) });
