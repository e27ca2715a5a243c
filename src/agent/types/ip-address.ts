// Addresses with prefix lengths (`10.0.0.50/24`, `fd00::50/64`): parsing,
// and whether an address lies in another's subnet.

import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** The address as written (without the prefix). */
  address: string;
  prefix: number;
  /** The address as a number, for comparisons independent of spelling. */
  value: bigint;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(address: string): bigint {
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  let text = address;
  if (tail !== null) {
    const v4 = ipv4Value(tail[1] as string);
    text = `${address.slice(0, tail.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

/** `ADDRESS/PREFIX` parsed, or a string saying what is wrong. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.lastIndexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? '' : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return `${JSON.stringify(text)} needs a prefix length, e.g. 10.0.0.50/24 or fd00::50/64`;
  const prefix = Number(prefixText);
  if (isIPv4(address)) {
    if (prefix > 32) return `prefix length ${prefix} is more than 32`;
    return { family: 4, address, prefix, value: ipv4Value(address) };
  }
  if (isIPv6(address)) {
    if (prefix > 128) return `prefix length ${prefix} is more than 128`;
    return { family: 6, address, prefix, value: ipv6Value(address) };
  }
  return `${JSON.stringify(address)} is not an IPv4 or IPv6 address`;
}

/** True if `address` lies in the subnet `network/network.prefix` (same family). */
export function inSubnet(address: Cidr, network: Cidr): boolean {
  if (address.family !== network.family) return false;
  const bits = BigInt(address.family === 4 ? 32 : 128);
  const hostBits = bits - BigInt(network.prefix);
  return address.value >> hostBits === network.value >> hostBits;
}
