import * as fs from "fs";
import * as path from "path";
import { parseFleetConfig } from "../modules/config/load";
import { principalOf } from "../modules/traffic/caller-check";
import { writeConfigProject } from "../scripts/lib/config-project";
import { AwsStandIn, sessionOf, worldOf } from "../scripts/lib/aws-stand-in";
import { exampleSources } from "./helpers/fleet";
import { runScriptAsync } from "./helpers/run-async";

/**
 * The caller check of preflight and deploy: the real AWS SDK asks a local STS
 * (Query protocol, over HTTP) who it is, before anything is created.
 */
const example = exampleSources();
const fleet = parseFleetConfig(example);
const DEPLOYER = "arn:aws:iam::111122223333:role/demo-deploy";
let standIn: AwsStandIn;
let project: string;

beforeEach(async () => {
  standIn = new AwsStandIn(worldOf(fleet));
  await standIn.start();
  project = writeConfigProject(example);
});
afterEach(() => standIn.stop());

function run(script: string, args: string[]) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() };
  return runScriptAsync(`scripts/${script}.ts`, ["--config-dir", project, ...args], { env });
}

describe("the caller, as an access entry names it", () => {
  it("is the role of an assumed-role session, whatever the role's path; a user as it is", () => {
    expect(principalOf("arn:aws:sts::111122223333:assumed-role/demo-deploy/ci-run-7")).toBe(principalOf(DEPLOYER));
    expect(principalOf("arn:aws:sts::111122223333:assumed-role/demo-deploy/x")).toBe(principalOf("arn:aws:iam::111122223333:role/teams/ops/Demo-Deploy"));
    expect(principalOf("arn:aws:sts::444455556666:assumed-role/demo-deploy/x")).not.toBe(principalOf(DEPLOYER));
    expect(principalOf("arn:aws:iam::111122223333:user/alice")).toBe(principalOf("arn:aws:iam::111122223333:user/alice"));
    expect(principalOf("arn:aws:iam::111122223333:user/alice")).not.toBe(principalOf("arn:aws:iam::111122223333:role/alice"));
    expect(principalOf("arn:aws:iam::111122223333:root")).toBeUndefined();
  });

  it("is nothing for an ARN that no access entry matches: a role or user under sts, a session under iam, or text around an ARN", () => {
    expect(principalOf("arn:aws:sts::111122223333:role/demo-deploy")).toBeUndefined();
    expect(principalOf("arn:aws:sts::111122223333:user/alice")).toBeUndefined();
    expect(principalOf("arn:aws:iam::111122223333:assumed-role/demo-deploy/x")).toBeUndefined();
    expect(principalOf(`x${DEPLOYER}`)).toBeUndefined();
    expect(principalOf(`${DEPLOYER}\nx`)).toBeUndefined();
  });
});

describe("npm run preflight with in-cluster stacks", () => {
  it("passes for the deployer's session, asking STS once", async () => {
    const result = await run("preflight", ["cluster-blue", "cluster-blue-k8s"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "caller: arn:aws:sts::111122223333:assumed-role/demo-deploy/stand-in (role arn:aws:iam::111122223333:role/demo-deploy) has access to the Kubernetes API of blue\n",
    );
    expect(standIn.callNames()).toEqual(["sts:GetCallerIdentity"]);
  });

  it("refuses anyone else before anything is created, saying who may deploy", async () => {
    standIn.world.caller = sessionOf("arn:aws:iam::111122223333:role/someone-else");
    const result = await run("preflight", ["*"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "cluster-blue-k8s: the caller arn:aws:sts::111122223333:assumed-role/someone-else/stand-in (role arn:aws:iam::111122223333:role/someone-else) has no access entry in blue: " +
        "only platform.yaml clusterAccess.deployerPrincipalArn (arn:aws:iam::111122223333:role/demo-deploy) and clusters/blue.yaml adminPrincipalArns reach its Kubernetes API, " +
        "so the deploy would create the AWS resources and then fail Unauthorized at cluster-blue-k8s: deploy as the deployer, or add the principal to adminPrincipalArns",
    );
    expect(result.stderr).toContain("cluster-green-k8s: the caller");
    // Nothing else was asked: the caller is checked first.
    expect(standIn.callNames()).toEqual(["sts:GetCallerIdentity"]);
  });

  it("passes a cluster admin of every cluster deployed, and --force with a reason", async () => {
    const admin = "arn:aws:iam::111122223333:role/ops";
    fs.appendFileSync(path.join(project, "clusters", "blue.yaml"), "");
    fs.writeFileSync(path.join(project, "clusters", "blue.yaml"), fs.readFileSync(path.join(project, "clusters", "blue.yaml"), "utf8").replace("adminPrincipalArns: []", `adminPrincipalArns: [${admin}]`));
    standIn.world.caller = sessionOf(admin);
    expect((await run("preflight", ["cluster-blue-k8s"])).status).toBe(0);
    const green = await run("preflight", ["cluster-green-k8s"]);
    expect(green.status).toBe(1);
    const forced = await run("preflight", ["cluster-green-k8s", "--force", "first deploy by the platform team"]);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain("FORCED past 1 refusal, reason: first deploy by the platform team\n  forced: cluster-green-k8s: the caller");
  });

  it("does not ask when no in-cluster stack is deployed", async () => {
    standIn.world.caller = sessionOf("arn:aws:iam::111122223333:role/someone-else");
    const result = await run("preflight", ["cluster-blue"]);
    expect(result.status).toBe(0);
    expect(standIn.callNames()).toEqual([]);
  });
});

describe("npm run deploy", () => {
  it("refuses a caller without access before cdktf creates anything", async () => {
    standIn.world.caller = sessionOf("arn:aws:iam::111122223333:user/alice");
    const result = await run("deploy", ["cluster-blue*"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("cluster-blue-k8s: the caller arn:aws:iam::111122223333:user/alice has no access entry in blue");
    expect(result.stdout).not.toMatch(/cdktf deploy .*\n.*Deploying/);
    expect(standIn.callNames()).toEqual(["sts:GetCallerIdentity"]);
  });
});
