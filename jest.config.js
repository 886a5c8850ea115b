/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  setupFilesAfterEnv: ["<rootDir>/__tests__/helpers/setup.ts"],
  // Real terraform plans share two cores with everything else on the machine: a generous safety net, not a target.
  testTimeout: 300000,
  // Two workers even on two cores: the Terraform tests wait on terraform processes, and the other files fill the gaps.
  maxWorkers: 2,
  reporters: ["default", "<rootDir>/__tests__/helpers/summary-reporter.js"],
  testSequencer: "<rootDir>/__tests__/helpers/e2e-first-sequencer.js",
};
