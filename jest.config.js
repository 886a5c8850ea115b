/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  setupFilesAfterEnv: ["<rootDir>/__tests__/helpers/setup.ts"],
  // Real terraform plans share two cores with everything else on the machine: a generous safety net, not a target.
  testTimeout: 300000,
  // Three workers on two cores: the end-to-end and Terraform tests wait on terraform and moto, the fault tests on timeouts,
  // and the other files fill the gaps, yielding the CPU to the end-to-end test (__tests__/helpers/setup.ts).
  maxWorkers: 3,
  reporters: ["default", "<rootDir>/__tests__/helpers/summary-reporter.js"],
  testSequencer: "<rootDir>/__tests__/helpers/e2e-first-sequencer.js",
};
