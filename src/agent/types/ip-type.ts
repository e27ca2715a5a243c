// The `ip` type: a floating IPv4/IPv6 address on an interface.
//   online   write the undo journal entry, `ip addr add` (IPv6 with nodad:
//            a tentative address cannot be used for the ~1 s of duplicate
//            detection, and two owners are what the lease rules prevent),
//            then tell the neighbours, in the background: IPv4 a gratuitous ARP with
//            `arping -U -c 1` (Debian package iputils-arping), IPv6 an
//            unsolicited neighbour advertisement with `send_ua` (shipped in
//            Debian's resource-agents, as IPaddr2 uses it). A missing tool
//            or a failed announcement is logged, not a failure: the address
//            is up, neighbours learn it within their cache timeout.
//   checks   the address is on the interface (thorough: and the link is up)
//   offline  `ip addr del` (the journal is cleared when the group stops)
// `netns` runs all of it in a named network namespace (tests, containers).

import { captureAction, actionEnv, describeOutcome, outputFileIn, runAction } from './run-action.js';
import { inSubnet, parseCidr } from './ip-address.js';
import type { Cidr } from './ip-address.js';
import { checkParameters, param } from './parameters.js';
import { failure, OK } from './resource-type.js';
import type { OperationContext, OperationResult, ParameterProblem, ResourceType, TypeDescription } from './resource-type.js';

const DESCRIPTION: TypeDescription = {
  summary: 'a floating IPv4/IPv6 address, announced by gratuitous ARP or unsolicited neighbour advertisement',
  parameters: [
    param('address', 'string', 'address with prefix length, e.g. 10.0.0.50/24 or fd00::50/64', { required: true }),
    param('interface', 'string', 'interface to add it to (default: the one with an address in the same subnet)'),
    param('netns', 'string', 'network namespace (ip netns) to work in (default: the node\'s own)'),
  ],
};

export const SEND_UA = '/usr/libexec/heartbeat/send_ua';
/** Time an announcement may take, in ms. */
const ANNOUNCE_MS = 3000;

interface LinkInfo {
  ifname: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

export class IpResourceType implements ResourceType {
  async describe(): Promise<TypeDescription> {
    return DESCRIPTION;
  }

  async validate(params: Readonly<Record<string, string>>): Promise<ParameterProblem[]> {
    const problems = checkParameters(DESCRIPTION, params);
    if (params.address !== undefined) {
      const cidr = parseCidr(params.address);
      if (typeof cidr === 'string') problems.push({ code: 'E_INVALID_VALUE', parameter: 'address', message: `address: ${cidr}` });
    }
    for (const name of ['interface', 'netns'] as const) {
      const value = params[name];
      if (value !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
        problems.push({ code: 'E_INVALID_VALUE', parameter: name, message: `${name}: ${JSON.stringify(value)} is not a valid name` });
      }
    }
    return problems;
  }

  async online(ctx: OperationContext): Promise<OperationResult> {
    const cidr = cidrOf(ctx);
    if (typeof cidr === 'string') return failure('E_INVALID_VALUE', cidr, 'fatal');
    const links = await listLinks(ctx);
    if (!Array.isArray(links)) return links;
    if (findAddress(links, cidr) !== null) return OK;
    const ifname = ctx.params.interface ?? subnetInterface(links, cidr);
    if (ifname === null) return failure('E_NO_INTERFACE', `no interface has an address in the subnet of ${ctx.params.address ?? ''}; set interface`, 'hard');
    if (!links.some((l) => l.ifname === ifname)) return failure('E_NO_INTERFACE', `no interface ${ifname}`, 'hard');
    const address = `${cidr.address}/${cidr.prefix}`;
    // Journal first: if the group is killed between the two, the guard deletes an address that may not be there (harmless).
    await ctx.undo?.record({ kind: 'ip-address', dev: ifname, address, ...(ctx.params.netns === undefined ? {} : { netns: ctx.params.netns }) });
    const added = await ip(ctx, ['addr', 'add', address, 'dev', ifname, ...(cidr.family === 6 ? ['nodad'] : [])]);
    if (!added.ok) return added;
    // In the background, as IPaddr2 does: arping waits a second for answers that never come, and the address is up already.
    void this.announce(ctx, cidr, ifname);
    return OK;
  }

  async offline(ctx: OperationContext): Promise<OperationResult> {
    const cidr = cidrOf(ctx);
    if (typeof cidr === 'string') return failure('E_INVALID_VALUE', cidr, 'fatal');
    const links = await listLinks(ctx);
    if (!Array.isArray(links)) return links;
    const found = findAddress(links, cidr);
    if (found !== null) {
      const removed = await ip(ctx, ['addr', 'del', `${cidr.address}/${found.prefix}`, 'dev', found.link.ifname]);
      if (!removed.ok) return removed;
    }
    return OK;
  }

  terminate(ctx: OperationContext): Promise<OperationResult> {
    return this.offline(ctx);
  }

  quickCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.check(ctx, false);
  }

  thoroughCheck(ctx: OperationContext): Promise<OperationResult> {
    return this.check(ctx, true);
  }

  private async check(ctx: OperationContext, linkUp: boolean): Promise<OperationResult> {
    const cidr = cidrOf(ctx);
    if (typeof cidr === 'string') return failure('E_INVALID_VALUE', cidr, 'fatal');
    const links = await listLinks(ctx);
    if (!Array.isArray(links)) return links;
    const found = findAddress(links, cidr);
    if (found === null) return failure('E_ADDRESS_MISSING', `${cidr.address}/${cidr.prefix} is not on any interface`);
    if (linkUp && !(found.link.flags ?? []).includes('UP')) return failure('E_LINK_DOWN', `${found.link.ifname} is down`);
    return OK;
  }

  private async announce(ctx: OperationContext, cidr: Cidr, ifname: string): Promise<void> {
    const argv = cidr.family === 4
      ? ['arping', '-U', '-c', '1', '-I', ifname, cidr.address]
      : [SEND_UA, '-i', '200', '-c', '1', cidr.address, String(cidr.prefix), ifname];
    const netns = ctx.params.netns;
    const outcome = await runAction({
      argv: netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv],
      env: actionEnv(),
      containment: null,
      signal: AbortSignal.timeout(ANNOUNCE_MS),
      outputFile: outputFileIn(ctx.outputDir),
      label: `announce ${cidr.address} on ${ifname}`,
    });
    const fields = { address: cidr.address, interface: ifname, tool: argv[0] };
    if (outcome.kind === 'exited' && outcome.code === 0) ctx.log.info('address announced', fields);
    else {
      const package_ = cidr.family === 4 ? 'iputils-arping' : 'resource-agents';
      ctx.log.warn('address added but not announced', { ...fields, outcome: describeOutcome(outcome), package: package_ });
    }
  }
}

function cidrOf(ctx: OperationContext): Cidr | string {
  return parseCidr(ctx.params.address ?? '');
}

/** Runs `ip` (in the namespace, if any); a failure says what ip said. */
async function ip(ctx: OperationContext, args: string[]): Promise<OperationResult & { stdout?: string }> {
  const netns = ctx.params.netns;
  const run = await captureAction({ argv: ['ip', ...(netns === undefined ? [] : ['-n', netns]), ...args], env: actionEnv(), containment: null, signal: ctx.signal });
  if (run.outcome.kind === 'exited' && run.outcome.code === 0) return { ok: true, stdout: run.stdout };
  if (run.outcome.kind === 'aborted') return failure('E_DEADLINE', `ip ${args.join(' ')}: killed at its deadline`);
  return failure('E_IP_COMMAND', `ip ${args.join(' ')}: ${describeOutcome(run.outcome)}: ${run.stderr.trim().slice(0, 300)}`);
}

async function listLinks(ctx: OperationContext): Promise<LinkInfo[] | OperationResult> {
  const shown = await ip(ctx, ['-j', 'addr', 'show']);
  if (!shown.ok) return shown;
  try {
    const links = JSON.parse(shown.stdout ?? '') as unknown;
    if (Array.isArray(links)) return links as LinkInfo[];
  } catch {
    // Reported below.
  }
  return failure('E_IP_COMMAND', 'ip -j addr show printed something that is not a JSON array', 'hard');
}

function familyName(cidr: Cidr): string {
  return cidr.family === 4 ? 'inet' : 'inet6';
}

/** The link that carries the address (with whatever prefix length it has there), or null. */
function findAddress(links: LinkInfo[], cidr: Cidr): { link: LinkInfo; prefix: number } | null {
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== familyName(cidr)) continue;
      const parsed = parseCidr(`${a.local}/${a.prefixlen}`);
      if (typeof parsed !== 'string' && parsed.value === cidr.value) return { link, prefix: a.prefixlen };
    }
  }
  return null;
}

/** The interface with an address whose subnet contains `cidr`, or null. */
function subnetInterface(links: LinkInfo[], cidr: Cidr): string | null {
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== familyName(cidr)) continue;
      const network = parseCidr(`${a.local}/${a.prefixlen}`);
      if (typeof network !== 'string' && network.prefix > 0 && inSubnet(cidr, network)) return link.ifname;
    }
  }
  return null;
}
