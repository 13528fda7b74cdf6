'use strict';
module.exports.greet = (name) => `hello ${name}`;
