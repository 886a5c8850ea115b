import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import * as net from "net";
import { checkedOutCommitFollows, DeployedRevisionRecord } from "../modules/deploy/deployed-revision";
import { rethrowAwsError, s3Client } from "../modules/traffic/aws-clients";
import { writeConfigProject } from "../scripts/lib/config-project";
import { entryPoint } from "./helpers/entry-point";
import { exampleSources } from "./helpers/fleet";
import { fleetRepository } from "./helpers/fleet-repository";
import { describeWithMoto, Moto, startMoto } from "./helpers/moto";
import { describeWithTerraform } from "./helpers/terraform-checks";

/** No AWS: every endpoint refuses the connection at once. */
const NO_AWS = { ...process.env, AWS_ENDPOINT_URL: "http://127.0.0.1:1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "", AWS_DEFAULT_REGION: "" };
const run = (script: string, args: string[]) => spawnSync(process.execPath, [...entryPoint(`scripts/${script}.ts`), ...args], { encoding: "utf8", env: NO_AWS });

describe("the deployed revision record", () => {
  it("is nothing until written, then the commit written; a record that is no commit id is refused, naming the file", async () => {
    const dir = writeConfigProject(exampleSources());
    const record = new DeployedRevisionRecord({ type: "local", directory: "state" }, { name: "demo", region: "eu-west-1" }, dir, s3Client);
    expect(record.location).toBe(path.join(dir, "state", "deployed-revision"));
    expect(await record.read()).toBeUndefined();
    await record.write("0123456789abcdef0123456789abcdef01234567");
    expect(await record.read()).toBe("0123456789abcdef0123456789abcdef01234567");
    fs.writeFileSync(record.location, "main\n");
    await expect(record.read()).rejects.toThrow(`${record.location}: holds 'main', not a git commit id`);
    const s3 = new DeployedRevisionRecord({ type: "s3", bucket: "demo-state" }, { name: "demo", region: "eu-west-1" }, dir, s3Client);
    expect(s3.location).toBe("s3://demo-state/demo/deployed-revision");
  });
});

describe("the deployed revision record in a local state folder", () => {
  const fleet = { name: "demo", region: "eu-west-1" };

  it("is written whole into a state folder created as needed, leaving no partial file", async () => {
    const dir = writeConfigProject(exampleSources());
    const record = new DeployedRevisionRecord({ type: "local", directory: "var/state" }, fleet, dir, s3Client);
    await record.write("0123456789abcdef0123456789abcdef01234567");
    expect(fs.readdirSync(path.join(dir, "var", "state"))).toEqual(["deployed-revision"]);
    expect(fs.readFileSync(record.location, "utf8")).toBe("0123456789abcdef0123456789abcdef01234567\n");
  });

  it.each([
    ["a commit id between blank lines, as an editor may leave it", "\n  0123456789abcdef0123456789abcdef01234567  \n\n", "0123456789abcdef0123456789abcdef01234567"],
    ["an abbreviated commit id", "0123456789abcdef\n", "'0123456789abcdef', not a git commit id"],
    ["a commit id and more", "0123456789abcdef0123456789abcdef01234567 main\n", "'0123456789abcdef0123456789abcdef01234567 main', not a git commit id"],
    ["text before a commit id", "main 0123456789abcdef0123456789abcdef01234567\n", "'main 0123456789abcdef0123456789abcdef01234567', not a git commit id"],
    ["a long text, shortened", `${"x".repeat(100)}\n`, `'${"x".repeat(60)}', not a git commit id`],
  ])("read from %s", async (_, text, expected) => {
    const dir = writeConfigProject(exampleSources());
    const record = new DeployedRevisionRecord({ type: "local", directory: "state" }, fleet, dir, s3Client);
    fs.mkdirSync(path.dirname(record.location));
    fs.writeFileSync(record.location, text);
    if (expected.length === 40) expect(await record.read()).toBe(expected);
    else await expect(record.read()).rejects.toThrow(`${record.location}: holds ${expected}; write the last deployed commit there or delete it to plan every stack`);
  });
});

describeWithMoto("the deployed revision record in the state bucket (moto_server)", () => {
  const fleet = { name: "demo", region: "eu-west-1" };
  const commit = "0123456789abcdef0123456789abcdef01234567";
  let moto: Moto;
  let client: S3Client;
  const variables = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"];
  const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
  beforeAll(async () => {
    moto = await startMoto();
    client = new S3Client({ region: "eu-west-1", endpoint: moto.url, forcePathStyle: true, credentials: { accessKeyId: "AKIAMOTO", secretAccessKey: "moto" } });
    await client.send(new CreateBucketCommand({ Bucket: "demo-state", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
    // The record makes its own client, as a deploy job's would: from the environment only, no region but the fleet's.
    // By host name, as a deploy job would name an endpoint: the SDK must be told to put the bucket in the path.
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: moto.url.replace("127.0.0.1", "localhost"), AWS_ACCESS_KEY_ID: "AKIAMOTO", AWS_SECRET_ACCESS_KEY: "moto", AWS_REGION: "", AWS_DEFAULT_REGION: "" });
    delete process.env.AWS_ENDPOINT_URL;
  }, 90_000);
  afterAll(async () => {
    for (const name of variables) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    client?.destroy();
    await moto?.stop();
  });
  const object = async (key: string) => client.send(new GetObjectCommand({ Bucket: "demo-state", Key: key }));

  it("is nothing until written, then the commit, in an encrypted object under the fleet's name, each call's client let go after", async () => {
    const made: S3Client[] = [];
    const madeHere = async (region: string) => {
      const client = await s3Client(region);
      made.push(client);
      jest.spyOn(client, "destroy");
      return client;
    };
    const record = new DeployedRevisionRecord({ type: "s3", bucket: "demo-state" }, fleet, "/nowhere", madeHere);
    expect(await record.read()).toBeUndefined();
    await record.write(commit);
    const written = await object("demo/deployed-revision");
    expect(await written.Body!.transformToString()).toBe(`${commit}\n`);
    expect(written.ServerSideEncryption).toBe("AES256");
    expect(written.ContentType).toBe("text/plain");
    expect(await record.read()).toBe(commit);
    expect(made.map((client) => (client.destroy as jest.Mock).mock.calls.length)).toEqual([1, 1, 1]);
  });

  it("lives under the state's key prefix when one is set, and is refused there when it is no commit id", async () => {
    const record = new DeployedRevisionRecord({ type: "s3", bucket: "demo-state", keyPrefix: "teams/web", region: "eu-west-1" }, fleet, "/nowhere", s3Client);
    expect(record.location).toBe("s3://demo-state/teams/web/deployed-revision");
    await record.write(commit);
    expect(await (await object("teams/web/deployed-revision")).Body!.transformToString()).toBe(`${commit}\n`);
    await client.send(new PutObjectCommand({ Bucket: "demo-state", Key: "teams/web/deployed-revision", Body: "v1.2\n" }));
    await expect(record.read()).rejects.toThrow("s3://demo-state/teams/web/deployed-revision: holds 'v1.2', not a git commit id");
  });

  it("in a bucket that does not exist is an error, never 'nothing recorded' (which would plan and deploy from nothing)", async () => {
    const record = new DeployedRevisionRecord({ type: "s3", bucket: "no-such-bucket" }, fleet, "/nowhere", s3Client);
    await expect(record.read()).rejects.toThrow(/bucket does not exist/);
    await expect(record.write(commit)).rejects.toThrow(/bucket does not exist/);
  });

  it("reaches the endpoint AWS_ENDPOINT_URL names as well", async () => {
    process.env.AWS_ENDPOINT_URL = process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_ENDPOINT_URL_S3;
    try {
      expect(await new DeployedRevisionRecord({ type: "s3", bucket: "demo-state" }, fleet, "/nowhere", s3Client).read()).toBe(commit);
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = process.env.AWS_ENDPOINT_URL;
      delete process.env.AWS_ENDPOINT_URL;
    }
  });
});

describe("the deployed revision record behind an S3 endpoint that answers too late", () => {
  const variables = ["AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CALL_TIMEOUT_SECONDS", "AWS_MAX_ATTEMPTS"];
  const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
  const lateRecord = "0123456789abcdef0123456789abcdef01234567\n";
  // Each connection gets a good answer 3 s after it opens: later than the 1 s
  // the commands' setting gives an attempt, well within the SDK's own limits.
  // The answer and the time limit are timers in this one process, so the
  // attempt's limit comes first however late a loaded machine runs them both.
  let attempts = 0;
  const sockets = new Set<net.Socket>();
  const late = net.createServer((socket) => {
    attempts++;
    sockets.add(socket);
    const answer = setTimeout(() => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${lateRecord.length}\r\n\r\n${lateRecord}`), 3_000);
    socket.on("close", () => clearTimeout(answer));
    socket.on("error", () => undefined);
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => late.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(late.address() as net.AddressInfo).port}`;
    // One second per attempt, two attempts, as a deploy job could set them.
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: url, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_CALL_TIMEOUT_SECONDS: "1", AWS_MAX_ATTEMPTS: "2" });
  });
  afterAll(async () => {
    for (const name of variables) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => late.close(resolve));
  });

  it("is given up in the commands' time per attempt (AWS_CALL_TIMEOUT_SECONDS), naming the call and the endpoint", async () => {
    const record = new DeployedRevisionRecord({ type: "s3", bucket: "demo-state" }, { name: "demo", region: "eu-west-1" }, "/nowhere", s3Client);
    // Each attempt's connection is counted once the server has taken it: one turn of the event loop after the call gives up, at most.
    const taken = () => new Promise(setImmediate);
    await expect(record.read().catch(rethrowAwsError)).rejects.toThrow(`AWS call GetObject to ${url}/demo-state got no answer within 1 s (2 attempts)`);
    await taken();
    expect(attempts).toBe(2);
    await expect(record.write("0123456789abcdef0123456789abcdef01234567").catch(rethrowAwsError)).rejects.toThrow(`AWS call PutObject to ${url}/demo-state got no answer within 1 s`);
    await taken();
    expect(attempts).toBe(4);
  });
});

describe("the commit a deploy records", () => {
  const location = "state/deployed-revision";
  const head = (dir: string) => execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const refusal = (dir: string, recorded: string | undefined) => {
    try {
      checkedOutCommitFollows(dir, recorded, location);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it("is the checked-out commit when nothing is recorded, the same commit is, or an ancestor is", () => {
    const { dir, commit } = fleetRepository();
    const first = head(dir);
    expect(checkedOutCommitFollows(dir, undefined, location)).toBe(first);
    expect(checkedOutCommitFollows(dir, first, location)).toBe(first);
    const second = commit("next");
    expect(checkedOutCommitFollows(dir, first, location)).toBe(second);
  });

  it("is refused when the recorded commit is newer, or one the repository does not have", () => {
    const { dir, commit } = fleetRepository();
    const older = head(dir);
    const newer = commit("next");
    execFileSync("git", ["-C", dir, "checkout", "-q", older]);
    expect(refusal(dir, newer)).toBe(
      `${location} records ${newer}, which is not an ancestor of the checked-out ${older}: deploying it could put older files over what is live. ` +
        "Deploy the branch's newest commit, or correct the record by hand",
    );
    const unknown = "89abcdef0123456789abcdef0123456789abcdef";
    expect(refusal(dir, unknown)).toBe(
      `${location} records ${unknown}, which this repository does not have, so cannot be compared with the checked-out ${older}: ` +
        "deploying it could put older files over what is live. Deploy the branch's newest commit, or correct the record by hand",
    );
  });

  it("is refused with uncommitted changes to tracked files or a new cluster file; other new files do not matter", () => {
    const { dir } = fleetRepository();
    fs.writeFileSync(path.join(dir, "notes.txt"), "not deployed\n");
    expect(checkedOutCommitFollows(dir, undefined, location)).toBe(head(dir));
    fs.writeFileSync(path.join(dir, "clusters", "purple.yaml"), "name: purple\n");
    expect(refusal(dir, undefined)).toBe("--record-deployed: uncommitted changes (?? clusters/purple.yaml, …); commit them or deploy without recording");
    fs.rmSync(path.join(dir, "clusters", "purple.yaml"));
    fs.appendFileSync(path.join(dir, "platform.yaml"), "# edited\n");
    expect(refusal(dir, undefined)).toBe("--record-deployed: uncommitted changes (M platform.yaml, …); commit them or deploy without recording");
  });

  it("is refused outside a git checkout, or in one without a commit", () => {
    const dir = writeConfigProject(exampleSources());
    const message = `--record-deployed: ${dir} is not a git checkout with a commit; deploy without recording`;
    expect(refusal(dir, undefined)).toBe(message);
    execFileSync("git", ["-C", dir, "init", "-q"]);
    expect(refusal(dir, undefined)).toBe(message);
  });
});

describe("the commands' help", () => {
  it("names the deployed revision in plan and deploy", () => {
    expect(run("plan", ["--help"]).stdout).toContain("REV 'deployed': the revision the last successful deploy recorded beside the state");
    expect(run("deploy", ["--help"]).stdout).toContain("--record-deployed  once the deploy succeeds, record the checked-out commit as deployed beside the state");
    expect(run("plan-summary", ["--help"]).stdout).toContain("--deploy-gate SINCE");
  });
});

describeWithTerraform("npm run plan -- --changed-since deployed", (terraform) => {
  // Read in the tests, not here: with TERRAFORM_CHECKS=off the block is skipped, but jest still runs its body without an environment.
  const mirror = () => (terraform.providerSource === "registry" ? [] : ["--plugin-dir", terraform.providerSource]);

  it("plans what changed since the last successful deploy, so a skipped or failed run is caught up", () => {
    const { dir, commit } = fleetRepository();
    const recordFile = path.join(dir, "state", "deployed-revision");
    // No record yet: every stack.
    let plan = run("plan", ["--offline", "--changed-since", "deployed", "--stack", "cluster-blue-k8s", "--config-dir", dir, ...mirror()]);
    expect(plan.stdout).toContain(`planning every stack: no deployed revision recorded at ${recordFile} yet`);

    // A deploy job that had nothing to deploy records its commit.
    const first = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const recorded = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(recorded.stderr).toBe("");
    expect(recorded.stdout).toContain(`nothing to deploy\nrecorded ${first} as deployed in ${recordFile}`);
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${first}\n`);

    // Two merges: a weight shift (its run cancelled), then a node group change whose deploy fails.
    expect(run("shift", ["blue=0", "green=100", "--config-dir", dir]).status).toBe(0);
    commit("shift");
    fs.writeFileSync(path.join(dir, "clusters", "green.yaml"), fs.readFileSync(path.join(dir, "clusters", "green.yaml"), "utf8").replace("desiredSize: 2", "desiredSize: 3"));
    commit("green nodes");
    const failed = run("deploy", ["--only", "edge", "--auto-approve", "--record-deployed", "--config-dir", dir]);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("AWS call failed");
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${first}\n`);

    // The next run plans both changes; comparing with the previous commit would have missed the shift.
    plan = run("plan", ["--offline", "--changed-since", "deployed", "--stack", "cluster-blue-k8s", "--config-dir", dir, ...mirror()]);
    expect(plan.stderr).toBe("");
    expect(plan.stdout).toContain(`last deployed revision: ${first} (${recordFile})`);
    expect(plan.stdout).toMatch(new RegExp(`^edge may change since ${first}: changed: aws_lb_listener_rule`, "m"));
    expect(plan.stdout).toMatch(new RegExp(`^cluster-green may change since ${first}: changed: aws_eks_node_group`, "m"));
    expect(plan.stdout).not.toMatch(/^cluster-blue may change/m);
  });

  it("refuses to record over a newer deploy, or with uncommitted changes, and changes nothing", () => {
    const { dir, commit } = fleetRepository();
    const older = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect(run("shift", ["blue=0", "green=100", "--config-dir", dir]).status).toBe(0);
    const newer = commit("shift");
    expect(run("deploy", ["--only", "--record-deployed", "--config-dir", dir]).status).toBe(0);
    const recordFile = path.join(dir, "state", "deployed-revision");

    execFileSync("git", ["-C", dir, "checkout", "-q", older]);
    const rerun = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(rerun.status).toBe(1);
    expect(rerun.stderr).toContain(`${recordFile} records ${newer}, which is not an ancestor of the checked-out ${older}: deploying it could put older files over what is live`);
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${newer}\n`);

    execFileSync("git", ["-C", dir, "checkout", "-q", "-"]);
    fs.appendFileSync(path.join(dir, "clusters", "blue.yaml"), "# edited\n");
    const edited = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(edited.status).toBe(1);
    expect(edited.stderr).toContain("--record-deployed: uncommitted changes (M clusters/blue.yaml, …)");
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${newer}\n`);

    execFileSync("git", ["-C", dir, "checkout", "-q", "--", "clusters/blue.yaml"]);
    const green = fs.readFileSync(path.join(dir, "clusters", "green.yaml"), "utf8");
    fs.writeFileSync(path.join(dir, "clusters", "purple.yaml"), green.replace("name: green", "name: purple").replace(/web: \d+/, "web: 0"));
    const added = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(added.status).toBe(1);
    expect(added.stderr).toContain("--record-deployed: uncommitted changes (?? clusters/purple.yaml, …)");
  });
});
