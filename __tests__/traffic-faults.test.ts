import * as fs from "fs";
import * as path from "path";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { standInProjectPerTest } from "./helpers/stand-in-project";
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
const perTest = standInProjectPerTest(example);
let standIn: AwsStandIn;
let project: string;
beforeEach(() => ({ standIn, project } = perTest()));

function run(script: string, args: string[], onLine?: (line: string) => void, callTimeoutSeconds = 3) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment(), AWS_CALL_TIMEOUT_SECONDS: String(callTimeoutSeconds), AWS_MAX_ATTEMPTS: "2" };
  return runScriptAsync(`scripts/${script}.ts`, ["--config-dir", project, ...args], { env, onLine });
}

/**
 * Starts `other` as the first ModifyRule arrives (the first command's first
 * step, its lock held), and holds the answer to the next ModifyRule until
 * `other` has ended: the two meet however slowly the machine starts `other`.
 */
function whileFirstWriteIsMade<T>(other: () => Promise<T>): { readonly ended: () => Promise<T> } {
  let started: Promise<T> | undefined;
  standIn.faults.set("ModifyRule", {
    times: 1,
    onCall: () => {
      started = other();
      standIn.faults.set("ModifyRule", { times: 1, until: started });
    },
  });
  return {
    ended: () => {
      if (!started) throw new Error("no ModifyRule came, so the other command never started");
      return started;
    },
  };
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

describe("a progressive shift beside other writers", () => {
  it("stops without overwriting when a colleague's shift --now changed the rules during its interval", async () => {
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "2s"], (line) => {
      if (!line.startsWith("step 1/2")) return;
      // The lock keeps the colleague's command out; the colleague then uses the console.
      standIn.rule("web").forward[0].weight = 100;
      standIn.rule("web").forward[1].weight = 0;
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "step 2/2: stopping, the live rules changed since this shift set them (web now blue=100 green=0, expected blue=25 green=75): another writer is at work; nothing was overwritten",
    );
    expect(result.stderr).toContain("live now: web blue=100 green=0\nthe files hold: web blue=25 green=75");
    expect(standIn.weights("web")).toEqual({ blue: 100, green: 0 });
    expect(modifyCalls()).toBe(1);
  });

  it("a shift --now during a progressive shift is refused by the lock, and the progressive shift goes on", async () => {
    const colleague = whileFirstWriteIsMade(() => run("shift", ["--to", "blue", "--now"]));
    // Its step 2 write waits for the colleague: a call limit well past the colleague's run.
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], undefined, 120);
    const refused = await colleague.ended();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/the live weights are locked by .+ pid \d+ \(npm run shift -- --config-dir \S+ --to green --step 25 --now --interval 1s\) since .+: nothing was changed/);
    expect(result.status).toBe(0);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    expect(fileWeights()).toEqual({ blue: 0, green: 100 });
  });

  it("of two progressive shifts, the one started while the other runs is refused, whatever the machine's load", async () => {
    const second = whileFirstWriteIsMade(() => run("shift", ["--to", "blue", "--step", "50", "--now", "--interval", "1s"]));
    const a = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], undefined, 120);
    const b = await second.ended();
    expect([a.status, b.status]).toEqual([0, 1]);
    expect(b.stderr).toContain("the live weights are locked by");
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
  });

  it("keeps hand edits made to a cluster file during the interval, editing only the weights", async () => {
    const comment = "# maxSize raised by hand during the shift\n";
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], (line) => {
      if (line.startsWith("step 1/2")) fs.writeFileSync(clusterFile("green"), comment + fs.readFileSync(clusterFile("green"), "utf8").replace(/maxSize: \d+/, "maxSize: 9"));
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const green = fs.readFileSync(clusterFile("green"), "utf8");
    expect(green.startsWith(comment)).toBe(true);
    expect(green).toContain("maxSize: 9");
    expect(fileWeights()).toEqual({ blue: 0, green: 100 });
  });

  it("stops when the weights in the files were changed by hand during the interval, keeping them", async () => {
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], (line) => {
      if (line.startsWith("step 1/2")) fs.writeFileSync(clusterFile("blue"), fs.readFileSync(clusterFile("blue"), "utf8").replace("web: 25", "web: 40"));
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("step 2/2: stopping, the weights in the cluster files changed since this shift wrote them (web files blue=40 green=75, expected blue=25 green=75): nothing was overwritten");
    expect(fileWeights()).toEqual({ blue: 40, green: 75 });
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
  });

  it("Ctrl-C before the first step changes nothing", async () => {
    const interruptOnHealthRead = (child: import("child_process").ChildProcess) => {
      standIn.faults.set("DescribeTargetHealth", { delayMs: 1000, times: 1, onCall: () => child.kill("SIGINT") });
    };
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() };
    const result = await runScriptAsync("scripts/shift.ts", ["--config-dir", project, "--to", "green", "--step", "25", "--now", "--interval", "1s"], {
      env,
      onStart: interruptOnHealthRead,
    });
    expect(result.status).toBe(130);
    expect(result.stdout).toContain("stopped before the first step: nothing was changed");
    expect(modifyCalls()).toBe(0);
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
    expect(fs.existsSync(path.join(project, "state", "traffic.lock"))).toBe(false);
  });
});

describe("gates judge traffic shares", () => {
  it("refuses shift green=1 --now while blue has no healthy targets: blue's share would rise to 98%", async () => {
    standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const result = await run("shift", ["green=1", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("web: cluster blue would get weight 50 (now 50), 98% of the traffic (now 50%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1");
    // A refused shift prints only the refusal, not the plan it refused.
    expect(result.stdout).toBe("");
    expect(modifyCalls()).toBe(0);
  });

  it("status flags every cluster with a share of traffic and too few healthy targets, exits 1, and shows 5xx and latency per target group", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    standIn.targetGroup("green", "web").errorRate = 0.25;
    standIn.targetGroup("green", "web").responseTimeSeconds = 1.2;
    const status = await run("status", []);
    expect(status.status).toBe(1);
    expect(status.stdout).toContain(
      "web: UNHEALTHY WITH TRAFFIC: green gets 50% of the traffic (live weight 50) with 0 healthy targets, fewer than minHealthyTargets 1: the ALB still sends it its share",
    );
    expect(status.stdout).not.toContain("every service has healthy capacity");
    expect(status.stdout).toMatch(/web\s+green\s+50\s+50\s+0\s+2\s+0\s+0\s+0\s+\d+\s+50%\s+25%\s+1200 ms/);
    expect(status.stdout).toMatch(/web\s+blue\s+50\s+50\s+2\s+0\s+0\s+0\s+0\s+\d+\s+50%\s+0\.1%\s+80 ms/);
    expect(status.stdout).toContain("traffic lock: free");
  });

  it("status counts exactly the last 15 one-minute periods", async () => {
    await run("status", []);
    const query = standIn.calls.find((c) => c.action === "GetMetricData")!;
    expect(Number(query.input.EndTime) - Number(query.input.StartTime)).toBe(15 * 60);
  });
});

describe("progressive analysis", () => {
  it("a breach on the cluster being drained never sends traffic back to it: the shift goes on to the destination", async () => {
    standIn.targetGroup("blue", "web").errorRate = 0.2;
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("step 1/2: the clusters losing traffic breach the shift limits (web/blue target 5xx 20.0% > 1%): going on, each step moves traffic off them");
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    expect(standIn.calls.filter((c) => c.action === "ModifyRule").map((c) => (c.input as any).Actions[0].ForwardConfig.TargetGroups.map((g: any) => g.Weight).join("/"))).toEqual(["25/75", "0/100"]);
  });

  it("a destination breach is not rolled back onto a source the health gate refuses: it holds and says so", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.2;
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], (line) => {
      if (line.startsWith("step 1/2")) standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    });
    // The breach is seen during the interval, before the line: blue turns unhealthy as the line prints, before the restore reads health.
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/step 1\/2 breached the shift limits: web\/green target 5xx 20\.0% > 1%; NOT restoring the starting weights, the health gate refuses them \(web: cluster blue would get weight 50 \(now 25\)/);
    expect(result.stderr).toContain("holding at web blue=25 green=75 on the rules and in the files");
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
    expect(fileWeights()).toEqual({ blue: 25, green: 75 });
  });

  it("missing datapoints fail closed: the step holds, checks again, then the shift stops", async () => {
    standIn.rule("web").requestsPerSecond = 0;
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("no datapoints yet for web/blue, web/green: holding, checking again (1/3)");
    expect(result.stderr).toContain("step 1/2: stopping, no metric datapoints for web/blue, web/green (CloudWatch sent none, even after waiting)");
    expect(result.stderr).toContain("live now: web blue=25 green=75\nthe files hold: web blue=25 green=75");
    expect(result.stdout).not.toContain("done");
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
  }, 30_000);

  it("a restore whose ModifyRule fails says so, and what is live", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.2;
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], (line) => {
      if (line.startsWith("step 1/2")) standIn.faults.set("ModifyRule", { error: { code: "ServiceUnavailable", status: 503 } });
    });
    expect(result.status).toBe(1);
    expect(result.stderr).not.toContain("restored the starting weights");
    expect(result.stderr).toContain("changing the live rules failed: AWS call failed: ServiceUnavailable");
    expect(result.stderr).toContain("live now: web blue=25 green=75\nthe files hold: web blue=25 green=75");
  }, 30_000);

  it("a step whose ModifyRule fails holds at the previous step's weights and says what is live", async () => {
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], (line) => {
      if (line.startsWith("step 1/2")) standIn.faults.set("ModifyRule", { error: { code: "ServiceUnavailable", status: 503 } });
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("changing the live rules failed: AWS call failed: ServiceUnavailable");
    expect(result.stderr).toContain("no rule was changed\nlive now: web blue=25 green=75\nthe files hold: web blue=25 green=75");
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
  }, 30_000);

  it("warns that an --interval under 2 minutes is too short against AWS, not against a stand-in", async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const aws = await runScriptAsync("scripts/shift.ts", ["--config-dir", project, "--to", "green", "--step", "25", "--now", "--interval", "90s", "--dry-run"], { env });
    expect(aws.status).toBe(0);
    expect(aws.stderr).toContain("WARNING: --interval 90s is under 2 minutes against AWS: ALB metrics are one-minute datapoints that arrive a minute or two late");
    const standInRun = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "90s", "--dry-run"]);
    expect(standInRun.stderr).toBe("");
    const longEnough = await runScriptAsync("scripts/shift.ts", ["--config-dir", project, "--to", "green", "--step", "25", "--now", "--interval", "2m", "--dry-run"], { env });
    expect(longEnough.stderr).toBe("");
  });
});

describe("deploy of the edge and retire hold the lock too", () => {
  const holdLock = () =>
    acquireTrafficLock(fileLockStore(path.join(project, "state", "traffic.lock")), { owner: "dave@ci pid 9", reason: "npm run shift -- --to blue --now", leaseSeconds: 300 });

  it("deploy --only edge is refused while another writer holds the lock, before any check or cdktf", async () => {
    await holdLock();
    const deploy = await run("deploy", ["--only", "edge", "--auto-approve"]);
    expect(deploy.status).toBe(1);
    expect(deploy.stderr).toContain("the live weights are locked by dave@ci pid 9 (npm run shift -- --to blue --now)");
    expect(deploy.stdout + deploy.stderr).not.toContain("cdktf deploy failed");
    expect(standIn.calls).toEqual([]);
  });

  it("retire is refused while another writer holds the lock, destroying nothing", async () => {
    fs.writeFileSync(clusterFile("green"), fs.readFileSync(clusterFile("green"), "utf8").replace("name: green", "name: green\nstate: retiring").replace(/web: \d+/, "web: 0"));
    fs.writeFileSync(clusterFile("blue"), fs.readFileSync(clusterFile("blue"), "utf8").replace(/web: \d+/, "web: 100"));
    await holdLock();
    const retire = await run("retire", ["green", "--auto-approve"]);
    expect(retire.status).toBe(1);
    expect(retire.stderr).toContain("the live weights are locked by dave@ci pid 9");
    expect(standIn.calls).toEqual([]);
    expect(fs.existsSync(clusterFile("green"))).toBe(true);
  });
});

describe("npm run lock", () => {
  const store = () => fileLockStore(path.join(project, "state", "traffic.lock"));

  it("shows the holder, clears only an expired lock with --clear-expired, and breaks any with --break and a reason", async () => {
    expect((await run("lock", [])).stdout).toBe(`${path.join(project, "state", "traffic.lock")}: free\n`);
    await acquireTrafficLock(store(), { owner: "erin@laptop pid 3", reason: "npm run shift -- --to green --now", leaseSeconds: 300 });
    const shown = await run("lock", []);
    expect(shown.stdout).toMatch(/: held by erin@laptop pid 3 \(npm run shift -- --to green --now\) since .+, expires .+\n$/);
    const early = await run("lock", ["--clear-expired"]);
    expect(early.status).toBe(1);
    expect(early.stderr).toContain("the live weights are locked by erin@laptop pid 3");
    const broken = await run("lock", ["--break", "erin's laptop died mid-shift\u001b[31m"]);
    expect(broken.status).toBe(0);
    expect(broken.stdout).toContain("removed the traffic lock of erin@laptop pid 3 (npm run shift -- --to green --now)");
    expect(broken.stdout).toContain("reason: erin's laptop died mid-shift\\x1b[31m");
    expect(fs.existsSync(path.join(project, "state", "traffic.lock"))).toBe(false);
  });

  it("--clear-expired removes a lock whose lease has ended", async () => {
    await acquireTrafficLock(store(), { owner: "frank@ci pid 4", reason: "npm run deploy -- edge", leaseSeconds: 1, now: new Date(Date.now() - 60_000) });
    expect((await run("lock", [])).stdout).toContain("(EXPIRED: the next writer takes it over");
    const cleared = await run("lock", ["--clear-expired"]);
    expect(cleared.stdout).toContain("removed the traffic lock of frank@ci pid 4");
    expect(cleared.stdout).toContain("its lease had ended");
  });

  it("refuses --break without a reason", async () => {
    const result = await run("lock", ["--break", " "]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--break needs a reason");
  });
});

describe("npm run stand-in", () => {
  it("says a port in use is in use, exit 1, no stack trace", async () => {
    const port = new URL(standIn.url).port;
    const result = await runScriptAsync("scripts/stand-in.ts", ["--config-dir", project, "--port", port], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`port ${port} on 127.0.0.1 is in use (another stand-in?): stop what uses it, or choose another with --port (--port 0: any free port)\n`);
  });

  it("refuses a cluster the fleet does not have", async () => {
    // A stand-in that accepted it would serve until interrupted: stopped after the test in any case.
    let child: import("child_process").ChildProcess | undefined;
    try {
      const result = await runScriptAsync("scripts/stand-in.ts", ["--config-dir", project, "--scenario", "5xx", "--cluster", "nope"], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        onStart: (started) => {
          child = started;
          setTimeout(() => started.kill(), 10_000).unref();
        },
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("--cluster nope is not a cluster of fleet demo; clusters: blue, green");
      expect(result.stderr).not.toMatch(STACK_TRACE);
    } finally {
      child?.kill();
    }
  }, 15_000);
});
