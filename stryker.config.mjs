// Mutation testing of the safety-critical code: `npm run mutate` (how to run and read it: docs/development.md).
//
// How the mutants are tested. Stryker copies the project into .stryker-tmp/sandbox-*/, writes every mutant
// of a file into it at once (each behind a switch), and runs jest there. A test that spawns a command through
// bin/run.js runs the sandbox's mutated sources (the launcher transpiles the sources of the root it lives in),
// and the active mutant reaches the command through __STRYKER_ACTIVE_MUTANT__ when the test passes its own
// environment on. But coverage is counted per test in the jest process only ("perTest"): a mutant that only a
// spawned command executes counts as "no coverage" (a survivor). Such mutants are in the commands' own modules
// (retire's steps); their logic is tested end to end by __tests__/traffic-scenarios.test.ts, in `npm test` only
// (below). Preflight, its gates and the caller check are called in process by __tests__/preflight.test.ts;
// status, its metrics and the read-back after a failed write by status, metrics and live-truth.

// Equivalent mutants: changes no input can tell apart, left as survivors (a disable comment in the code would
// be noise there). Check each still is one when its code changes.
//   config/lifecycle.ts  `allowed.join(", ")` → `join("")`: no refused state change has more than one allowed
//                        next state (active and draining may become every other state; standby only active).
//   config/lifecycle.ts  `minorOf(to) < minorOf(from)` → `<=`: kubernetesVersion is a minor version ("1.33"), so
//                        two different versions never share a minor.
//   traffic/health-gate.ts  `after[cluster] > 0 &&` → `true &&` or `>= 0`: the next condition,
//                        after > before (at least 0), already implies it.
//   traffic/progressive.ts  `steps.length < MAX_STEPS` → `<=`: 100 steps of 1 point reach 100%, so the step
//                        after the 100th is never planned; and `Object.keys(after).sort()` without the sort: a
//                        step's weights list the clusters in the fleet's order, by name, already.
//   traffic/failover-decision.ts  `newest = minutes.length - 1` → `+ 1`, and `newest >= 0` → `> 0`: the search
//                        for the newest minute with data only starts above the last index or stops at the first,
//                        and a window of no data is no breach either way.
//   traffic/live-fleet.ts  `LoadBalancers?.[0]?.LoadBalancerArn` → `?.[0].LoadBalancerArn`: DescribeLoadBalancers by name
//                        fails (LoadBalancerNotFound) rather than answering no load balancer; and the health batches'
//                        `i < arns.length` → `<=`: a batch past the end is empty and sends nothing; a rule's
//                        `a.Type === "forward"` → `true`: the fleet's listener rules hold one action, the weighted
//                        forward (constructs/weighted-alb.ts); and a tag's `t.Value ?? ""` → other text (no
//                        coverage): the fleet's tags all have values, and a tag without one matches no fleet,
//                        service or cluster name either way.
//   traffic/failover.ts  `minutes.length > 0 ?` → `true ?` or `>= 0`: no minutes to read means no service is judged,
//                        and then the live fleet holds no route whose metrics would be asked for; and the dry run's
//                        `failovers.length > 0 &&` → `true &&` or `>= 0`: the line is said for each failover, of none.
//   traffic/shift.ts     towards()'s `!Object.hasOwn(before, target)` → `false`: a shift --to covers only the services
//                        the cluster serves, so its weights always name it; and applyShiftToSources's
//                        `before[cluster] === weight` → `false`: a weight written over itself prints as it was
//                        (weights are plain integers), so the file's text stays the same; and clustersLeftOut's
//                        `[request.to]` → `[]` (no coverage): a shift --to covers only the services its cluster
//                        serves, so that cluster is never left out.
//   traffic/live-rules.ts  `Rules?.[0]?.Actions` → `Rules?.[0].Actions`: DescribeRules of a rule ARN that no
//                        longer exists fails (RuleNotFound) rather than answering no rule.
//   traffic/live-rules.ts  `a.Type === "forward"` → `true` in readRuleWeights: the rule's one action is the forward one
//                        (below).
//   traffic/live-rules.ts  `action !== route.forward` → `false`: the fleet's listener rules hold one action, the
//                        weighted forward (constructs/weighted-alb.ts), so every action is the forward one.
//   policy/rules.ts  `?? []` → `?? ["Stryker was here"]` for a rule's cidr_blocks, ipv6_cidr_blocks,
//                        enabled_cluster_log_types and encryption resources: the text is no address range, no log
//                        type and not "secrets", so every verdict stays the same.
//   policy/rules.ts  `typeof c === "string"` → `true` in openToAnywhere: an absent address range is never among the
//                        open ones, so `some` finds the same.
//   policy/rules.ts  listener-https `every` → `some`, and `a.type === "redirect"` → `true`: an HTTP listener's
//                        redirect is its one terminal action (authentication needs HTTPS), and only a redirect
//                        action has a redirect block.
//   policy/rules.ts  default-security-group-closed `some` → `every`: a VPC has one default security group.
//   traffic/caller-check.ts  `key !== undefined &&` → `true &&`: every principal of the configuration is an IAM
//                        role or user ARN (the schema's pattern), which principalOf always names, so a caller it
//                        cannot name matches none of them either way.
//   traffic/caller-check.ts  roleOfSession's `/^arn:...` → `/arn:...`: the ARN is STS's answer, which begins
//                        with `arn:`.
//   traffic/caller-check.ts  `.Arn ?? ""` → `?? "Stryker was here!"` (no coverage): GetCallerIdentity always
//                        answers with the caller's Arn.
//   traffic/idle.ts      `.filter((r) => r.targetGroups.has(cluster))` removed: a route without a target group
//                        of the cluster gives an undefined ARN, whose requests read as 0, which the filter after
//                        drops.
//   policy/evaluate.ts  `readdirSync(stacksDir).sort()` → without the sort: on Linux and macOS libuv returns a
//                        folder's entries sorted by name already (the sort keeps the report's order elsewhere).
//   policy/evaluate.ts  the title and resourceTypes of the pseudo-rule for stale exceptions: it is never evaluated
//                        nor listed among the rules evaluated, and a finding shows only its id and checks.
//   policy/workload-rules.ts  `drop ?? []` → `?? ["Stryker was here"]`, and `c.image ?? ""` → any other text
//                        without a tag: a container without either fails its rule both ways.
//   policy/function-rules.ts  DEPRECATED_RUNTIMES without its `^`: the provider accepts only the runtimes of its
//                        list, and none of them ends with the name of a deprecated runtime.
//   traffic/shift-files.ts  `const temporaries: string[] = []` → `["Stryker was here"]`: removed with `force` on a failure,
//                        a file that does not exist; `let current = ""` → other text: set before each call that can throw.
//   deploy/deployed-revision.ts  `[...].join("\n")` → `join("")` of the two `git status` outputs: each ends with a
//                        newline, so the first line is the same; `recorded === commit` → `false`: a commit is its own
//                        ancestor, so the check after returns it too.
//   config/load.ts      checkNetwork's `return { private: [], public: [] }` → lists of text: returned with a problem
//                        about vpc.cidr, which stops the load before any subnet is used.
//   traffic/aws-clients.ts  `/Command$/` → `/Command/`: an SDK command's name holds "Command" once, at its end; the
//                        middleware's name → "": it only tells the middleware apart in the client's stack; and
//                        `e.code ?? ""` → other text: no text but the network error codes matches.
//   traffic/traffic-lock.ts  `result.ETag ?? ""` → `?? "Stryker was here!"` (no coverage): S3 answers PutObject and
//                        GetObject with the object's ETag, and `Body?.transformToString() ?? ""`: GetObject has a body.
//   traffic/metrics.ts  `/^([a-zA-Z0-9]+?)(\d+)$/` → without `^`: the query Ids are letters then digits, so the
//                        match (anchored at the end, shortest key first) starts at the first character either way.

// Survivors left, not equivalent:
//   traffic/progressive.ts  the watch's last pause `intervalMs - elapsed` → `intervalMs + elapsed`: the last check of
//                        a step comes a whole checkEveryMs apart instead of at the interval's end, so the step runs
//                        past its interval by less than one check. Only wall-clock timing tells, which the tests
//                        leave alone (a loaded machine stretches it too); and the watch's `elapsed < intervalMs`
//                        → `<=`: at exactly the interval's millisecond it reads the metrics once more.
//   traffic/failover.ts  waiting for its own other run's lock `Date.now() < waitUntil` → `<=`: it waits once more
//                        only when a retry lands on the limit's exact millisecond.

/** Real Terraform plans and cdktf CLI runs take minutes and check synthesized Terraform, not the decisions mutated here. */
process.env.TERRAFORM_CHECKS ??= "off";

/**
 * The test files that run the mutated code in process. Left out: the suites that synthesize whole fleets or
 * plan with Terraform (minutes per run, and every mutant run loads each test file again), the generated-input
 * properties (__tests__/input-properties.test.ts: seconds per case), the suites that reach the project's code
 * only through spawned commands (traffic-scenarios, main, synth-output, ...), and those that need the project's
 * git repository, which the sandbox copy lacks (changed-stacks, documented-commands). A mutant only they
 * would kill shows as a survivor: the score is a lower bound.
 *
 * Each mutant's run loads every one of these files that imports the mutated file, however few of their tests
 * it runs: MUTATION_TESTS=cidr,config narrows them for a quicker measurement of one file (docs/development.md).
 */
const MUTATION_TESTS = process.env.MUTATION_TESTS?.split(",") ?? [
  "cidr",
  "config",
  "config-inputs",
  "config-cross-file",
  "lifecycle",
  "health-gate",
  "live-rules",
  "progressive",
  "shift",
  "shift-safety",
  "shift-files",
  "retire",
  "policy",
  "policy-iam-and-network",
  "stack-graph",
  "deployed-revision",
  "failover",
  "failover-run",
  "traffic-lock",
  "quotas",
  "preflight",
  "deployer-identity",
  "status",
  "metrics",
  "live-truth",
  "aws-clients",
  "live-fleet",
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  jest: {
    configFile: "jest.config.js",
    // Of those, only the files that import a mutated file, directly or not, run against it.
    enableFindRelatedTests: true,
    config: { testMatch: MUTATION_TESTS.map((name) => `<rootDir>/__tests__/${name}.test.ts`) },
  },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  coverageAnalysis: "perTest",
  mutate: [
    "modules/traffic/**/*.ts",
    "modules/config/lifecycle.ts",
    "modules/config/cidr.ts",
    "modules/config/load.ts",
    "modules/config/tls-policies.ts",
    "modules/policy/**/*.ts",
    "modules/deploy/**/*.ts",
  ],
  // Results are kept in reports/ (git-ignored, like the HTML report): a later run on the same machine
  // re-tests only the mutants whose code or covering tests changed. Not committed, because every run
  // rewrites it and branches would conflict on it; CI caches it per pull request instead.
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Two cores shared with other work: one test runner, one type-checker.
  concurrency: 1,
  dryRunTimeoutMinutes: 20,
  thresholds: { high: 90, low: 85, break: null },
  ignorePatterns: ["dist", "cdktf.out", "reports", "state", ".terraform", "coverage"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
