import { TargetGroupIdentity, targetGroupBindingName, targetGroupName } from "../modules/constructs/naming";
import { CLUSTER_NAME_MAX, FLEET_NAME_MAX, SERVICE_NAME_MAX } from "../modules/config/schema";

const web: TargetGroupIdentity = { fleet: "demo", cluster: "blue", service: "web", port: 8080, protocol: "HTTP", targetType: "ip" };

describe("target group names", () => {
  it("are deterministic and change exactly with an attribute that forces a new target group", () => {
    // Pinned: a name that changes between releases replaces every live target group.
    expect(targetGroupName(web)).toBe("demo-blue-web-b3fb64");
    expect(targetGroupBindingName(web)).toBe("web-b3fb64");
    for (const change of [{ port: 9090 }, { protocol: "HTTPS" }, { targetType: "instance" }]) {
      expect(targetGroupName({ ...web, ...change })).not.toBe(targetGroupName(web));
      expect(targetGroupBindingName({ ...web, ...change })).not.toBe(targetGroupBindingName(web));
    }
    expect(targetGroupBindingName(web)).toBe(`web-${targetGroupName(web).slice(-6)}`);
  });

  it("stay within AWS's 32 characters, end in no hyphen, and differ for names cut alike", () => {
    const longest = { ...web, fleet: "f".repeat(FLEET_NAME_MAX), cluster: "c".repeat(CLUSTER_NAME_MAX), service: "s".repeat(SERVICE_NAME_MAX) };
    const other = { ...longest, service: `${"s".repeat(SERVICE_NAME_MAX - 1)}t` };
    for (const identity of [longest, other, { ...web, fleet: "abcdefgh", cluster: "abcdefghijklm".slice(0, 11), service: "x-y" }]) {
      expect(targetGroupName(identity).length).toBeLessThanOrEqual(32);
      expect(targetGroupName(identity)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
    expect(targetGroupName(other)).not.toBe(targetGroupName(longest));
    // Cut to 25 characters before the generation, without the hyphen the cut leaves; the generation tells the services apart.
    const cut = { ...web, fleet: "abcdefghijklmnop", cluster: "abcdefg" };
    expect(targetGroupName(cut)).toBe("abcdefghijklmnop-abcdefg-a1da5a");
    expect(targetGroupName({ ...cut, service: "api" })).toBe("abcdefghijklmnop-abcdefg-cd1761");
  });
});
