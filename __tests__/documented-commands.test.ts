import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { CliRun, errorsIn, offlineCliEnvironment, runCommandLine, scratchProject, stacksThatReachedAws } from "./helpers/cdktf-cli";
import { exampleSources } from "./helpers/fleet";
import { describeWithTerraform } from "./helpers/terraform-checks";

/** Where users read command lines: the docs and the workflow. */
const SOURCES = ["README.md", ...fs.readdirSync(path.join(projectRoot(), "docs")).map((f) => `docs/${f}`), ".github/workflows/terraform.yml"];

/** Every deploy or destroy command line the docs and the workflow give, placeholders (`<x>`, `[x]`) left out. */
function documentedDeployCommands(): string[] {
  const commands = SOURCES.flatMap((file) =>
    [...fs.readFileSync(path.join(projectRoot(), file), "utf8").matchAll(/(?:npm run deploy|npx cdktf (?:deploy|destroy))[^`\n#|&;]*/g)].map((m) => m[0].trim()),
  );
  return [...new Set(commands)].filter((command) => !/[<[]/.test(command)).sort();
}

interface Expectation {
  /** Values of the variables the command line uses, as the workflow sets them. */
  readonly env?: Record<string, string>;
  /** The order the command deploys in, as it prints it. */
  readonly order: string;
}

/**
 * What each documented command must do. The fleet here is the example plus a
 * `purple` cluster, as in the add-a-cluster runbook. A documented command
 * missing from this table fails the test: every one is run.
 */
const EXPECTED: Record<string, Expectation> = {
  "npm run deploy": {
    order: "network → edge → cluster-blue → cluster-green → cluster-purple → cluster-blue-k8s → cluster-green-k8s → cluster-purple-k8s",
  },
  "npm run deploy -- 'cluster-purple*'": { order: "network → edge → cluster-purple → cluster-purple-k8s" },
  "npm run deploy -- --only edge": { order: "edge" },
  "npm run deploy -- --only cluster-blue cluster-blue-k8s": { order: "cluster-blue → cluster-blue-k8s" },
  "npm run deploy -- --only $STACKS --auto-approve --record-deployed": {
    // The stacks a new cluster changes, listed as the workflow finds them (not in dependency order).
    env: { STACKS: "cluster-purple-k8s cluster-purple edge" },
    order: "edge → cluster-purple → cluster-purple-k8s",
  },
};

/** Documented commands run at once; each has its own copy of the project, since each writes its cdktf.out. */
const CONCURRENT_RUNS = 3;

describeWithTerraform("documented deploy commands with the real cdktf CLI", (terraform) => {
  const commands = documentedDeployCommands();
  const runs = new Map<string, CliRun>();
  let aws: AwsStandIn;

  beforeAll(async () => {
    // The deployed example fleet, purple not in it yet: the deploy's live checks read it, and
    // Terraform's first AWS call (STS, which refuses every identity) stops each run.
    aws = new AwsStandIn(worldOf(parseFleetConfig(exampleSources())));
    await aws.start();
    const env = offlineCliEnvironment(terraform.providerSource, aws.environment());
    const pending = commands.filter((command) => command in EXPECTED);
    const worker = async () => {
      for (let command = pending.shift(); command !== undefined; command = pending.shift()) {
        const project = scratchProject();
        const green = fs.readFileSync(path.join(project, "clusters", "green.yaml"), "utf8");
        fs.writeFileSync(path.join(project, "clusters", "purple.yaml"), green.replace("name: green", "name: purple").replace(/web: \d+/, "web: 0"));
        execFileSync("git", ["-C", project, "add", "clusters/purple.yaml"]);
        execFileSync("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "purple"]);
        runs.set(command, await runCommandLine(command, project, { ...env, ...EXPECTED[command].env }));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_RUNS }, worker));
  }, 600_000);

  afterAll(() => aws?.stop());

  it("has an expectation for every documented command, and the docs give some", () => {
    expect(commands.length).toBeGreaterThanOrEqual(4);
    expect(commands.filter((command) => !(command in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((command) => !commands.includes(command))).toEqual([]);
  });

  it.each(commands)("%s: accepted by cdktf, deploys in dependency order, stops at AWS", (command) => {
    const expected = EXPECTED[command];
    const run = runs.get(command);
    if (!expected || !run) throw new Error(`no expectation for the documented command ${command}`);

    expect(run.output).not.toMatch(/Usage Error/i);
    // Providers come from the mirror only: cdktf's provider lock, which asks the registry, is left out.
    expect(run.output).not.toContain("Could not retrieve providers for locking");
    expect(run.output).toContain(`deploying ${expected.order}\n`);
    // The live checks ran before cdktf.
    if (expected.order.split(" → ").includes("edge")) expect(run.output).toContain("edge: web: live blue=50 green=50 → files blue=50 green=50 purple=0\n");
    // cdktf started only the first stack: the ones after it wait for it, and it stopped at AWS.
    const reached = stacksThatReachedAws(run.output);
    const first = expected.order.split(" → ")[0];
    // Otherwise the errors show where each stack stopped, and whether cdktf's output or the reading of it changed.
    expect({ reached, errors: reached.length === 1 && reached[0] === first ? [] : errorsIn(run.output) }).toEqual({ reached: [first], errors: [] });
    expect(run.status).not.toBe(0);
  });
});
