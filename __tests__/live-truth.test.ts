import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ConfigSources, FleetConfig, parseFleetConfig } from "../modules/config/load";
import { UserError } from "../modules/support/user-error";
import { elbClient } from "../modules/traffic/aws-clients";
import { describeLiveAndFiles, withTruthOnFailure } from "../modules/traffic/live-truth";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { exampleSources, shifted, twoAlbSources } from "./helpers/fleet";
import { standInServing } from "./helpers/stand-in-project";

/**
 * What a writer of live weights says after it failed: the live rules read
 * again (the real SDK against the stand-in over HTTP) and the files as they
 * are now.
 */

const serve = standInServing();
let standIn: AwsStandIn;
let elb: ElasticLoadBalancingV2Client;
let fleet: FleetConfig;

/** The stand-in serving `sources` as deployed, and a client reaching it. */
async function deploy(sources: ConfigSources): Promise<void> {
  fleet = parseFleetConfig(sources);
  standIn = await serve(fleet);
  elb = await elbClient(fleet);
}

afterEach(() => jest.restoreAllMocks());

const filesOf = (sources: ConfigSources) => () => parseFleetConfig(sources);
const setLive = (service: string, weights: number[]) => standIn.rule(service).forward.forEach((f, i) => (f.weight = weights[i]));

describe("what is live and what the files hold", () => {
  it("both, when they agree", async () => {
    await deploy(exampleSources());
    expect(await describeLiveAndFiles(elb, fleet, ["web"], filesOf(exampleSources()))).toEqual(["live now: web blue=50 green=50", "the files hold: web blue=50 green=50"]);
  });

  it("where they differ, and how to bring them together before the next deploy of the edge stacks concerned", async () => {
    await deploy(twoAlbSources());
    setLive("web", [0, 100]);
    setLive("api", [10, 90]);
    expect(await describeLiveAndFiles(elb, fleet, ["web", "api"], filesOf(twoAlbSources()))).toEqual([
      "live now: web blue=0 green=100, api blue=10 green=90",
      "the files hold: web blue=50 green=50, api blue=50 green=50",
      "live and files differ for web, api: make the files carry the live weights (npm run shift without --now) or shift live again, before the next deploy of edge, edge-internal",
    ]);
    expect(await describeLiveAndFiles(elb, fleet, ["api"], filesOf(shifted(twoAlbSources(), { blue: 10, green: 90 })))).toEqual([
      "live now: api blue=10 green=90",
      "the files hold: api blue=10 green=90",
    ]);
    expect((await describeLiveAndFiles(elb, fleet, ["web", "api"], filesOf(shifted(twoAlbSources(), { blue: 10, green: 90 }))))[2]).toBe(
      "live and files differ for web: make the files carry the live weights (npm run shift without --now) or shift live again, before the next deploy of edge",
    );
  });

  it("a service whose ALB is not deployed yet has no live rule to read; the others are read", async () => {
    await deploy(twoAlbSources());
    standIn.loadBalancer("edge-internal").deployed = false;
    expect(await describeLiveAndFiles(elb, fleet, ["web", "api"], filesOf(twoAlbSources()))).toEqual([
      "live now: web blue=50 green=50",
      "no live rule for api (its ALB or rule is not deployed yet)",
      "the files hold: web blue=50 green=50, api blue=50 green=50",
    ]);
    standIn.loadBalancer("edge").deployed = false;
    expect(await describeLiveAndFiles(elb, fleet, ["web", "api"], filesOf(twoAlbSources()))).toEqual([
      "no live rule for web, api (its ALB or rule is not deployed yet)",
      "the files hold: web blue=50 green=50, api blue=50 green=50",
    ]);
  });

  it("live rules that cannot be read: why, and to look before doing anything else", async () => {
    await deploy(exampleSources());
    standIn.faults.set("DescribeLoadBalancers", { error: { code: "AccessDenied", status: 403 } });
    expect(await describeLiveAndFiles(elb, fleet, ["web"], filesOf(shifted(exampleSources(), { blue: 0, green: 100 })))).toEqual([
      `the live rules could not be read back (AWS call failed: AccessDenied: stand-in fault on this call (DescribeLoadBalancers to ${standIn.url}/)): look with npm run status before doing anything else`,
      "the files hold: web blue=0 green=100",
    ]);
  });

  it("cluster files that cannot be read: why, and no comparison", async () => {
    await deploy(exampleSources());
    setLive("web", [0, 100]);
    const unreadable = () => {
      throw new UserError("clusters/blue.yaml: weights.web: expected a number");
    };
    expect(await describeLiveAndFiles(elb, fleet, ["web"], unreadable)).toEqual([
      "live now: web blue=0 green=100",
      "the cluster files cannot be read: clusters/blue.yaml: weights.web: expected a number",
    ]);
  });
});

describe("a writer's failure", () => {
  const shifts = [{ service: "web" }];

  it("a writer that succeeds returns its result and reads nothing more", async () => {
    await deploy(exampleSources());
    expect(await withTruthOnFailure(elb, fleet, shifts, filesOf(exampleSources()), async () => "done")).toBe("done");
    expect(standIn.calls).toEqual([]);
  });

  it("a refusal: its message, then what is live and what the files hold", async () => {
    await deploy(exampleSources());
    setLive("web", [0, 100]);
    const failure = withTruthOnFailure(elb, fleet, shifts, filesOf(exampleSources()), async () => {
      throw new UserError("the live weights are locked by bob");
    });
    await expect(failure).rejects.toThrow(
      new UserError(
        [
          "the live weights are locked by bob",
          "live now: web blue=0 green=100",
          "the files hold: web blue=50 green=50",
          "live and files differ for web: make the files carry the live weights (npm run shift without --now) or shift live again, before the next deploy of edge",
        ].join("\n"),
      ),
    );
    await expect(failure).rejects.toBeInstanceOf(UserError);
  });

  it("a failed AWS call: what went wrong, then the truth", async () => {
    await deploy(exampleSources());
    const failure = withTruthOnFailure(elb, fleet, shifts, filesOf(exampleSources()), () => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/gone/1" })));
    await expect(failure).rejects.toThrow(
      new UserError(
        [
          `AWS call failed: TargetGroupNotFoundException: target group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/gone/1 not found (DescribeTargetHealth to ${standIn.url}/)`,
          "live now: web blue=50 green=50",
          "the files hold: web blue=50 green=50",
        ].join("\n"),
      ),
    );
    await expect(failure).rejects.toBeInstanceOf(UserError);
  });

  it("a bug: the truth is printed and the error rethrown as it is", async () => {
    await deploy(exampleSources());
    const printed = jest.spyOn(console, "error").mockImplementation(() => undefined);
    const bug = new TypeError("cannot read properties of undefined");
    await expect(withTruthOnFailure(elb, fleet, shifts, filesOf(exampleSources()), async () => Promise.reject(bug))).rejects.toBe(bug);
    expect(printed.mock.calls).toEqual([["live now: web blue=50 green=50\nthe files hold: web blue=50 green=50"]]);
  });
});
