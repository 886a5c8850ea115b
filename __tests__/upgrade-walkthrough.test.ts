import { assertSafeTransition } from "../modules/config/lifecycle";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { applyShiftToSources, planShift, ShiftRequest } from "../modules/traffic/shift";
import { exampleSources, resourceAddresses, StackJson, SynthesizedFleet, synthFleet, withClusterFile } from "./helpers/fleet";

/** A shift as `npm run shift` makes it: plan, edit the files, validate against the files before. */
function shift(sources: ConfigSources, request: ShiftRequest): ConfigSources {
  const fleet = parseFleetConfig(sources);
  const shifted = applyShiftToSources(sources, fleet, planShift(fleet, request));
  assertSafeTransition(fleet, parseFleetConfig(shifted));
  return shifted;
}

/** Stacks whose JSON changed, and within them the `type.name` addresses that changed. */
function changes(before: SynthesizedFleet, after: SynthesizedFleet): Record<string, string[]> {
  const changed: Record<string, string[]> = {};
  for (const stack of Object.keys(after.stackTexts)) {
    if (before.stackTexts[stack] === after.stackTexts[stack]) continue;
    const a = resourceAddresses(before.stack(stack) as StackJson);
    const b = resourceAddresses(after.stack(stack) as StackJson);
    changed[stack] = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).map((k) => k.split(".")[0]);
  }
  return changed;
}

describe("upgrade walkthrough: blue and green at 50/50, upgrade blue, shift back", () => {
  const start = exampleSources();
  const atStart = synthFleet(start);

  const drained = shift(start, { to: "green" });
  const afterDrain = synthFleet(drained);

  const blueFile = drained.clusters.find((c) => c.file === "clusters/blue.yaml")!;
  const upgraded = withClusterFile(drained, blueFile.file, blueFile.text.replace('kubernetesVersion: "1.33"', 'kubernetesVersion: "1.34"'));
  const afterUpgrade = synthFleet(upgraded);

  const restored = shift(upgraded, { weights: { blue: 50, green: 50 } });
  const afterRestore = synthFleet(restored);

  it("1. shifting traffic to green changes only the edge's listener rule", () => {
    expect(parseFleetConfig(drained).clusters.map((c) => [c.config.name, c.config.weights.web])).toEqual([["blue", 0], ["green", 100]]);
    expect(changes(atStart, afterDrain)).toEqual({ edge: ["aws_lb_listener_rule"] });
  });

  it("2. bumping blue's version is refused while blue carries traffic", () => {
    const upgradedWithTraffic = withClusterFile(start, blueFile.file, start.clusters[0].text.replace('"1.33"', '"1.34"'));
    expect(() => assertSafeTransition(parseFleetConfig(start), parseFleetConfig(upgradedWithTraffic))).toThrow(
      "changes 1.33 → 1.34 while blue carries traffic",
    );
  });

  it("3. bumping blue's version once drained is accepted and changes only blue's control plane and the add-ons that follow it", () => {
    expect(() => assertSafeTransition(parseFleetConfig(drained), parseFleetConfig(upgraded))).not.toThrow();
    // kube-proxy and vpc-cni have new defaults for 1.34 in the version catalogue; CoreDNS and the Pod Identity agent keep theirs.
    expect(changes(afterDrain, afterUpgrade)).toEqual({ "cluster-blue": ["aws_eks_addon", "aws_eks_addon", "aws_eks_cluster"] });
    const addons = Object.values(afterUpgrade.stack("cluster-blue").resource!.aws_eks_addon);
    expect(addons.find((a) => a.addon_name === "kube-proxy")!.addon_version).toMatch(/^v1\.34\./);
    const nodeGroup = Object.values(afterUpgrade.stack("cluster-blue").resource!.aws_eks_node_group)[0];
    expect(nodeGroup.version).toMatch(/^\$\{aws_eks_cluster\..+\.version\}$/);
  });

  it("4. shifting back changes only the edge's listener rule again", () => {
    expect(changes(afterUpgrade, afterRestore)).toEqual({ edge: ["aws_lb_listener_rule"] });
    expect(afterRestore.stackTexts.edge).toBe(atStart.stackTexts.edge);
  });
});
