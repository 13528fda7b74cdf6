'use strict';
// Loads, but exports no handler named "missing".
exports.present = async () => ({});
