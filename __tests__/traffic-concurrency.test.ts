import * as fs from "fs";
import * as path from "path";
import { writeConfigProject } from "../scripts/lib/config-project";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { parseFleetConfig } from "../modules/config/load";
import { acquireTrafficLock, fileLockStore } from "../modules/traffic/traffic-lock";
import { exampleSources } from "./helpers/fleet";
import { runScriptAsync } from "./helpers/run-async";
import { STACK_TRACE } from "./helpers/stack-trace";

/**
 * Traffic commands beside each other and under faults, as operators meet
 * them: the real SDK over HTTP against the stand-in, which delays, hangs or
 * fails chosen calls while the test changes the world or the files meanwhile.
 */
const example = exampleSources();
const fleet = parseFleetConfig(example);
let standIn: AwsStandIn;
let project: string;

beforeEach(async () => {
  standIn = new AwsStandIn(worldOf(fleet));
  await standIn.start();
  project = writeConfigProject(example);
});
afterEach(() => standIn.stop());

function run(script: string, args: string[], onLine?: (line: string) => void) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment(), AWS_CALL_TIMEOUT_SECONDS: "3", AWS_MAX_ATTEMPTS: "2" };
  return runScriptAsync(`scripts/${script}.ts`, ["--config-dir", project, ...args], { env, onLine });
}

const clusterFile = (cluster: string) => path.join(project, "clusters", `${cluster}.yaml`);
const fileWeights = () => Object.fromEntries(["blue", "green"].map((c) => [c, Number(/web: (\d+)/.exec(fs.readFileSync(clusterFile(c), "utf8"))![1])]));
const modifyCalls = () => standIn.calls.filter((c) => c.action === "ModifyRule").length;
describe("one writer at a time", () => {
  it("a held traffic lock refuses shift --now, naming owner, reason, since and expiry, and changes nothing", async () => {
    const store = fileLockStore(path.join(project, "state", "traffic.lock"));
    await acquireTrafficLock(store, { owner: "carol@ops pid 7", reason: "npm run shift -- --to blue --step 10 --now --interval 5m", leaseSeconds: 300 });
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^the live weights are locked by carol@ops pid 7 \(npm run shift -- --to blue --step 10 --now --interval 5m\) since \d{4}-\d\d-\d\dT[\d:.]+Z, expires \d{4}-\d\d-\d\dT[\d:.]+Z: nothing was changed/,
    );
    expect(result.stderr).toContain("live now: web blue=50 green=50\nthe files hold: web blue=50 green=50");
    expect(result.stdout).toBe("");
    expect(modifyCalls()).toBe(0);
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
    const status = await run("status", ["--minutes", "0"]);
    expect(status.stdout).toMatch(/traffic lock: held by carol@ops pid 7 \(npm run shift -- --to blue --step 10 --now --interval 5m\) since .+, expires .+/);
  });

  it("two live shifts at once: one goes through, the other is refused, and what the first claims is live", async () => {
    standIn.faults.set("ModifyRule", { delayMs: 1500 });
    const [green, blue] = await Promise.all([run("shift", ["--to", "green", "--now"]), run("shift", ["--to", "blue", "--now"])]);
    const results = [green, blue];
    expect(results.map((r) => r.status).sort()).toEqual([0, 1]);
    const winner = results.find((r) => r.status === 0)!;
    const loser = results.find((r) => r.status === 1)!;
    expect(loser.stderr).toContain("the live weights are locked by");
    const claimed = /now (blue=\d+ green=\d+)/.exec(winner.stdout)![1];
    expect(claimed).toBe(winner === green ? "blue=0 green=100" : "blue=100 green=0");
    expect(`blue=${standIn.weights("web").blue} green=${standIn.weights("web").green}`).toBe(claimed);
    expect(modifyCalls()).toBe(1);
    // The lock is given back: the next shift goes.
    standIn.faults.clear();
    expect((await run("shift", ["blue=50", "green=50", "--now"])).status).toBe(0);
  }, 30_000);
});

describe("compare before write", () => {
  it("refuses to overwrite a rule changed between the command's read and its write, and says what is live", async () => {
    // Someone changes the rule in the console while the command reads target health.
    const change = () => {
      standIn.rule("web").forward[0].weight = 90;
      standIn.rule("web").forward[1].weight = 10;
    };
    standIn.faults.set("DescribeTargetHealth", { delayMs: 200, times: 1, onCall: change });
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("the live rule of web changed since this command read it (now blue=90 green=10, expected blue=50 green=50): another writer changed it; this write was refused");
    expect(result.stderr).toContain("live now: web blue=90 green=10\nthe files hold: web blue=50 green=50\nlive and files differ for web");
    expect(result.stdout).not.toContain("blue 50 → 0");
    expect(modifyCalls()).toBe(0);
    expect(standIn.weights("web")).toEqual({ blue: 90, green: 10 });
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
  });

  it("refuses the live write when a cluster file is edited after the command planned, keeping the edit", async () => {
    const edited = fs.readFileSync(clusterFile("blue"), "utf8").replace("web: 50", "web: 50 # held for the audit");
    standIn.faults.set("DescribeTargetHealth", { delayMs: 200, times: 1, onCall: () => fs.writeFileSync(clusterFile("blue"), edited) });
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("clusters/blue.yaml changed since this command read the configuration (edited by hand, or by another shift): this write was refused");
    expect(modifyCalls()).toBe(0);
    expect(fs.readFileSync(clusterFile("blue"), "utf8")).toBe(edited);
  });
});

describe("the truth after a failure", () => {
  it("a ModifyRule that hangs ends in a timeout, then what is live and what the files hold", async () => {
    standIn.faults.set("ModifyRule", { hang: true });
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`AWS call ModifyRule to ${standIn.url}/ got no answer within 3 s (2 attempts)`);
    expect(result.stderr).toContain("live now: web blue=50 green=50\nthe files hold: web blue=50 green=50");
    expect(result.stderr).not.toMatch(STACK_TRACE);
  }, 20_000);
});
