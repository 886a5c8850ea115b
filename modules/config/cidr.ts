/** An IPv4 block as numbers: first address and prefix length. */
export interface Ipv4Block {
  readonly base: number;
  readonly prefix: number;
}

/** Parses "10.0.0.0/16"; the address is masked to the prefix. */
export function parseCidr(cidr: string): Ipv4Block {
  const [address, prefixText] = cidr.split("/");
  const prefix = Number(prefixText);
  const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return { base: value - (value % blockSize(prefix)), prefix };
}

export function formatCidr(block: Ipv4Block): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(block.base / 2 ** shift) % 256);
  return `${octets.join(".")}/${block.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** True when the address is the first of its block, as AWS requires ("10.0.0.1/16" is not). */
export function isCanonicalCidr(cidr: string): boolean {
  return formatCidr(parseCidr(cidr)) === cidr;
}

export function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return b.prefix >= a.prefix && b.base >= a.base && b.base + blockSize(b.prefix) <= a.base + blockSize(a.prefix);
}

export function cidrsOverlap(first: string, second: string): boolean {
  const a = parseCidr(first);
  const b = parseCidr(second);
  return a.base < b.base + blockSize(b.prefix) && b.base < a.base + blockSize(a.prefix);
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
