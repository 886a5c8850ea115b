import { cidrContains, cidrProblem, cidrsOverlap, cidrsReachingAnywhere, cidrSubnet, formatCidr, parseCidr } from "../modules/config/cidr";

describe("IPv4 CIDRs", () => {
  it.each(["0.0.0.0/0", "10.0.0.0/16", "10.255.0.0/16", "255.255.255.255/32", "192.168.255.0/24", "10.0.0.255/32"])("accepts %s as canonical", (cidr) => {
    expect(cidrProblem(cidr)).toBeUndefined();
    expect(formatCidr(parseCidr(cidr))).toBe(cidr);
  });

  it.each([
    ["10.0.0.256/32", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
    ["256.0.0.0/8", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
    ["10.0.0.0/33", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
    ["10.0.0/16", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
    ["x10.0.0.0/16", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
    ["10.0.0.0/16x", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
    ["10.0.0.1/16", "10.0.0.1/16 has host bits set: the block it means is 10.0.0.0/16; write that"],
    ["10.0.255.255/17", "10.0.255.255/17 has host bits set: the block it means is 10.0.128.0/17; write that"],
    ["010.0.0.0/16", "010.0.0.0/16 is not in canonical form: write 10.0.0.0/16"],
    ["10.0.0.0/08", "10.0.0.0/08 is not in canonical form: write 10.0.0.0/8"],
    [" 10.0.0.0/16", " 10.0.0.0/16 is not in canonical form: write 10.0.0.0/16"],
  ])("refuses %s: %s", (cidr, problem) => {
    expect(cidrProblem(cidr)).toBe(problem);
  });

  it("reads leniently as AWS does: leading zeros, surrounding blanks, host bits masked to the prefix", () => {
    expect(parseCidr(" 010.1.2.3/08 ")).toEqual({ base: 10 * 2 ** 24, prefix: 8 });
    expect(parseCidr("255.255.255.255/32")).toEqual({ base: 2 ** 32 - 1, prefix: 32 });
    expect(parseCidr("1.2.3.4/0")).toEqual({ base: 0, prefix: 0 });
    expect(() => parseCidr("10.0.0.0")).toThrow("10.0.0.0 is not an IPv4 CIDR");
  });

  it("contains a block inside another, edges included", () => {
    expect(cidrContains("10.0.0.0/16", "10.0.0.0/16")).toBe(true);
    expect(cidrContains("10.0.0.0/16", "10.0.255.0/24")).toBe(true);
    expect(cidrContains("10.0.0.0/16", "10.1.0.0/24")).toBe(false);
    expect(cidrContains("10.0.0.0/16", "9.255.255.0/24")).toBe(false);
    expect(cidrContains("10.0.0.0/16", "10.0.0.0/15")).toBe(false);
    expect(cidrContains("10.0.128.0/17", "10.0.0.0/24")).toBe(false);
  });

  it("overlaps blocks sharing an address, and only those", () => {
    expect(cidrsOverlap("10.0.0.0/16", "10.0.255.0/24")).toBe(true);
    expect(cidrsOverlap("10.0.255.0/24", "10.0.0.0/16")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/24", "10.0.0.0/24")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/24", "10.0.1.0/24")).toBe(false);
    expect(cidrsOverlap("10.0.1.0/24", "10.0.0.0/24")).toBe(false);
  });

  it("finds the blocks reaching anywhere: a prefix 0 in IPv4 or IPv6, or IPv4 blocks covering every address", () => {
    expect(cidrsReachingAnywhere(["10.0.0.0/8", "0.0.0.0/0"])).toEqual(["0.0.0.0/0"]);
    expect(cidrsReachingAnywhere(["::/0", 7])).toEqual(["::/0"]);
    expect(cidrsReachingAnywhere(["1.2.3.4/00 "])).toEqual(["1.2.3.4/00 "]);
    expect(cidrsReachingAnywhere(["128.0.0.0/1", "0.0.0.0/1"])).toEqual(["128.0.0.0/1", "0.0.0.0/1"]);
    expect(cidrsReachingAnywhere(["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2", "fd00::/8"])).toEqual(["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"]);
    expect(cidrsReachingAnywhere(["0.0.0.0/1", "0.0.0.0/2", "128.0.0.0/1"])).toEqual(["0.0.0.0/1", "0.0.0.0/2", "128.0.0.0/1"]);
    // A gap anywhere, at the start, in the middle or at the end, is not everywhere.
    expect(cidrsReachingAnywhere(["128.0.0.0/1", "64.0.0.0/2"])).toEqual([]);
    expect(cidrsReachingAnywhere(["0.0.0.0/2", "128.0.0.0/1"])).toEqual([]);
    expect(cidrsReachingAnywhere(["0.0.0.0/1", "128.0.0.0/2"])).toEqual([]);
    expect(cidrsReachingAnywhere(["0.0.0.0/1", "0.0.0.0/2", "128.0.0.0/2"])).toEqual([]);
    expect(cidrsReachingAnywhere(["10.0.0.0/8", "fd00::/8", "not a cidr"])).toEqual([]);
    expect(cidrsReachingAnywhere([])).toEqual([]);
    // Prefix 0 written with blanks or several zeros, in IPv6 too, and a prefix that only starts with 0.
    expect(cidrsReachingAnywhere(["::/0 ", "::/00", "10.0.0.0/08"])).toEqual(["::/0 ", "::/00"]);
    expect(cidrsReachingAnywhere(["10.0.0.0/08"])).toEqual([]);
  });

  it("splits subnets as Terraform's cidrsubnet does, up to the last one", () => {
    expect(cidrSubnet("10.0.0.0/16", 3, 0)).toBe("10.0.0.0/19");
    expect(cidrSubnet("10.0.0.0/16", 3, 7)).toBe("10.0.224.0/19");
    expect(cidrSubnet("10.255.0.0/16", 16, 65535)).toBe("10.255.255.255/32");
    expect(() => cidrSubnet("10.0.0.0/16", 3, 8)).toThrow("10.0.0.0/16 has no subnet 8 of /19");
    expect(() => cidrSubnet("10.0.0.0/16", 17, 0)).toThrow("10.0.0.0/16 has no subnet 0 of /33");
  });
});
