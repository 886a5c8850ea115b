/** An IPv4 block as numbers: first address and prefix length. */
export interface Ipv4Block {
  readonly base: number;
  readonly prefix: number;
}

/** Addresses in IPv4: what a set of blocks covers when it means "anywhere". */
const IPV4_ADDRESSES = 2 ** 32;

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Reads an IPv4 CIDR leniently, as AWS and Terraform would: leading zeros and
 * host bits are accepted and the address is masked to the prefix
 * (`010.0.0.1/08` is 10.0.0.0/8). Undefined when it is no IPv4 CIDR.
 */
function readCidr(cidr: string): Ipv4Block | undefined {
  const match = IPV4_CIDR.exec(cidr.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const value = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  return { base: value - (value % blockSize(prefix)), prefix };
}

/** Parses a CIDR the configuration has already validated ("10.0.0.0/16"). */
export function parseCidr(cidr: string): Ipv4Block {
  const block = readCidr(cidr);
  if (!block) throw new Error(`${cidr} is not an IPv4 CIDR`);
  return block;
}

export function formatCidr(block: Ipv4Block): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(block.base / 2 ** shift) % 256);
  return `${octets.join(".")}/${block.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/**
 * Why `cidr` is not a canonical IPv4 CIDR (the only form the configuration
 * accepts: no leading zeros, no host bits), or undefined when it is.
 */
export function cidrProblem(cidr: string): string | undefined {
  const block = readCidr(cidr);
  if (!block) return "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)";
  const canonical = formatCidr(block);
  if (canonical === cidr) return undefined;
  const [address] = cidr.split("/");
  const unmasked = address.split(".").map(Number).join(".");
  if (unmasked !== canonical.split("/")[0]) return `${cidr} has host bits set: the block it means is ${canonical}; write that`;
  return `${cidr} is not in canonical form: write ${canonical}`;
}

/** True when every address of `inner` is in `outer` (then its prefix is as long or longer). */
export function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return b.base >= a.base && b.base + blockSize(b.prefix) <= a.base + blockSize(a.prefix);
}

export function cidrsOverlap(first: string, second: string): boolean {
  const a = parseCidr(first);
  const b = parseCidr(second);
  return a.base < b.base + blockSize(b.prefix) && b.base < a.base + blockSize(a.prefix);
}

/** True when the blocks together cover every IPv4 address (`0.0.0.0/1` and `128.0.0.0/1` do). */
function coversAllIpv4(blocks: readonly Ipv4Block[]): boolean {
  const sorted = [...blocks].sort((a, b) => a.base - b.base);
  let next = 0;
  for (const block of sorted) {
    if (block.base > next) return false;
    next = Math.max(next, block.base + blockSize(block.prefix));
  }
  return next >= IPV4_ADDRESSES;
}

/**
 * The CIDRs among `cidrs` that together reach every address: an IPv4 or IPv6
 * block of prefix 0 (whatever its address is written as), or IPv4 blocks whose
 * union is all of IPv4 (`0.0.0.0/1` with `128.0.0.0/1`). Empty when they do not.
 */
export function cidrsReachingAnywhere(cidrs: readonly unknown[]): string[] {
  const texts = cidrs.filter((c): c is string => typeof c === "string");
  const everywhere = texts.filter((c) => /\/0+$/.test(c.trim()));
  if (everywhere.length > 0) return everywhere;
  const ipv4 = texts.map((text) => ({ text, block: readCidr(text) })).filter((c): c is { text: string; block: Ipv4Block } => c.block !== undefined);
  return coversAllIpv4(ipv4.map((c) => c.block)) ? ipv4.map((c) => c.text) : [];
}

/** Terraform's cidrsubnet(): block `index` of size prefix+newBits inside `cidr`. */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const parent = parseCidr(cidr);
  const prefix = parent.prefix + newBits;
  if (prefix > 32 || index >= 2 ** newBits) {
    throw new Error(`${cidr} has no subnet ${index} of /${prefix}`);
  }
  return formatCidr({ base: parent.base + index * blockSize(prefix), prefix });
}
