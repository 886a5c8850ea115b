"use strict";
const Sequencer = require("@jest/test-sequencer").default;

/**
 * Jest's own order (failed first, then slowest by past runs, then largest),
 * with the end-to-end tests against the AWS emulator started first even on a
 * machine with no past runs (CI's fresh clone): they take minutes, and started
 * last they would run alone after every other test has finished.
 */
class EndToEndFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const endToEnd = (test) => test.path.endsWith(".e2e.test.ts");
    return [...sorted.filter(endToEnd), ...sorted.filter((test) => !endToEnd(test))];
  }
}

module.exports = EndToEndFirst;
