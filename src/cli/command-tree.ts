// The whole `fcm` command surface as data (CLI.md): global options, nouns,
// verbs, arguments, options and help examples. program.ts turns it into
// commander commands; completion scripts are generated from it.
//
// A command with `run` works now; its module is imported only when it runs,
// so `fcm --help` loads none of them. A command without `run` is not built
// in this version: --help marks it, and it fails with E_NOT_IMPLEMENTED.
import type { ArgSpec, CommandSpec, OptionSpec } from './command-spec.js';

const nameArg = (name: string, description: string): ArgSpec => ({ syntax: `<${name}>`, description, kind: 'name' });
const settingsArg = (description: string): ArgSpec => ({ syntax: '<settings...>', description });

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flags: '--json', description: 'print one JSON document on stdout (errors too)' },
  { flags: '--cluster, --host <target>', description: 'reach the cluster through this node over SSH ([user@]host[:port])' },
  { flags: '--lab <dir>', description: 'use the local lab in this directory', env: 'FCM_LAB' },
  { flags: '--via <node>', description: 'relay through this cluster node', kind: 'name' },
  { flags: '--identity <keyfile>', description: 'SSH private key (default: ssh-agent)' },
  { flags: '--timeout <duration>', description: 'how long to wait for the new state (500ms, 5s, 10m, 1h)', kind: 'duration' },
  { flags: '--no-wait', description: 'return once the change is accepted, without waiting for the new state' },
  { flags: '--yes', description: 'answer yes to confirmations' },
  { flags: '--force', description: 'override a refusal that the command explains' },
  { flags: '-q, --quiet', description: 'no progress or warnings on stderr', conflicts: ['verbose'] },
  { flags: '-v, --verbose', description: 'more detail on stderr, stack traces for internal errors' },
];

const CLUSTER: CommandSpec = {
  name: 'cluster',
  summary: 'create, inspect, validate and destroy the cluster',
  subcommands: [
    {
      name: 'create', summary: 'create a cluster on the target node, then add the other nodes',
      args: [nameArg('name', 'cluster name')],
      options: [
        { flags: '--node <address...>', description: 'another node to add, as HOST or HOST:PORT; repeat for each node' },
        { flags: '--witness <witness>', description: 'quorum witness: disk:PATH or share:DIR' },
      ],
      examples: ['fcm --host 10.0.0.11 cluster create prod --node 10.0.0.12 --node 10.0.0.13'],
      run: async (invocation, context) => (await import('./commands/cluster.js')).clusterCreate(invocation, context),
    },
    {
      name: 'status', summary: 'nodes, leader and quorum at a glance', examples: ['fcm cluster status', 'fcm cluster status --json | jq .leader'],
      run: async (_invocation, context) => (await import('./commands/cluster.js')).clusterStatus(context),
    },
    { name: 'validate', summary: 'check the configuration and every node before trusting it', examples: ['fcm cluster validate'] },
    {
      name: 'destroy', summary: 'stop the cluster and remove its configuration from every node', examples: ['fcm cluster destroy', 'fcm cluster destroy --yes'],
      run: async (_invocation, context) => (await import('./commands/cluster.js')).clusterDestroy(context),
    },
    {
      name: 'log', summary: 'the cluster log, merged from every node',
      options: [
        { flags: '--since <duration>', description: 'only entries newer than this (10m, 1h)', kind: 'duration' },
        { flags: '--node <node>', description: 'only entries from this node', kind: 'name' },
      ],
      examples: ['fcm cluster log --since 10m --node node2'],
    },
    {
      name: 'export', summary: 'print the configuration as a file to edit and apply',
      options: [{ flags: '-f, --file <file>', description: 'write to this file instead of stdout' }],
      examples: ['fcm cluster export -f cluster.json'],
    },
    {
      name: 'apply', summary: 'make the cluster match a configuration file, showing the diff',
      options: [
        { flags: '-f, --file <file>', description: 'the configuration file', required: true },
        { flags: '--dry-run', description: 'show the diff only' },
      ],
      examples: ['fcm cluster apply -f cluster.json --dry-run'],
    },
  ],
};

const NODE: CommandSpec = {
  name: 'node',
  summary: 'list, add, remove, pause and resume nodes',
  subcommands: [
    {
      name: 'list', summary: 'every node with its state', examples: ['fcm node list', 'fcm node list --json | jq \'.[] | select(.state != "Up")\''],
      run: async (_invocation, context) => (await import('./commands/node.js')).nodeList(context),
    },
    {
      name: 'show', summary: 'one node in detail', args: [nameArg('node', 'node name')], examples: ['fcm node show node2'],
      run: async (invocation, context) => (await import('./commands/node.js')).nodeShow(invocation, context),
    },
    {
      name: 'add', summary: 'join a node whose agent runs (reached over SSH, or in the lab)', args: [{ syntax: '<host>', description: 'HOST or HOST:PORT of its agent' }],
      examples: ['fcm node add 10.0.0.13', 'fcm node add 10.0.0.13:7422 --no-wait'],
      run: async (invocation, context) => (await import('./commands/node-add.js')).nodeAdd(invocation, context),
    },
    {
      name: 'remove', summary: 'remove a node that has left cleanly', args: [nameArg('node', 'node name')], examples: ['fcm node remove node3'],
      run: async (invocation, context) => (await import('./commands/node.js')).nodeRemove(invocation, context, 'remove'),
    },
    {
      name: 'evict', summary: 'remove a node that is down for good', args: [nameArg('node', 'node name')], examples: ['fcm node evict node3 --yes'],
      run: async (invocation, context) => (await import('./commands/node.js')).nodeRemove(invocation, context, 'evict'),
    },
    {
      name: 'pause', summary: 'keep groups off a node (maintenance)', args: [nameArg('node', 'node name')],
      options: [{ flags: '--drain', description: 'move its groups to other nodes first' }],
      examples: ['fcm node pause node2 --drain'],
      run: async (invocation, context) => (await import('./commands/node.js')).nodePause(invocation, context),
    },
    {
      name: 'resume', summary: 'let a paused node host groups again', args: [nameArg('node', 'node name')],
      options: [{ flags: '--failback <when>', description: 'move groups back: now, policy (their own setting) or never', choices: ['now', 'policy', 'never'] }],
      examples: ['fcm node resume node2 --failback now'],
      run: async (invocation, context) => (await import('./commands/node.js')).nodeResume(invocation, context),
    },
  ],
};

const GROUP: CommandSpec = {
  name: 'group',
  summary: 'groups of resources that fail over together',
  subcommands: [
    {
      name: 'list', summary: 'every group with its state and owner node', examples: ['fcm group list', 'fcm group list --json | jq \'.[] | {name, state, owner}\''],
      run: async (_invocation, context) => (await import('./commands/groups.js')).groupList(context),
    },
    {
      name: 'show', summary: 'one group and its resources', args: [nameArg('group', 'group name')], examples: ['fcm group show web', 'fcm group show web --json | jq .resources'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupShow(invocation, context),
    },
    {
      name: 'create', summary: 'create an empty group (offline until fcm group online)',
      args: [nameArg('group', 'group name'), { syntax: '[settings...]', description: 'key=value group settings, as for fcm group set' }],
      options: [{ flags: '--preferred <nodes>', description: 'preferred owners in order, comma-separated', kind: 'names' }],
      examples: ['fcm group create web --preferred node1,node2', 'fcm group create batch priority=1000 failback=immediate'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupCreate(invocation, context),
    },
    {
      name: 'delete', summary: 'delete a group (with --force, its resources too)', args: [nameArg('group', 'group name')],
      examples: ['fcm group delete web --yes', 'fcm group delete web --force --yes'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupDelete(invocation, context),
    },
    {
      name: 'online', summary: 'bring a group online and wait until it is', args: [nameArg('group', 'group name')],
      examples: ['fcm group online web', 'fcm group online web --no-wait'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupOnline(invocation, context),
    },
    {
      name: 'offline', summary: 'take a group offline and wait until it is', args: [nameArg('group', 'group name')],
      examples: ['fcm group offline web --timeout 2m'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupOffline(invocation, context),
    },
    {
      name: 'move', summary: 'move a group to another node and wait until it runs there', args: [nameArg('group', 'group name')],
      options: [{ flags: '--to <node>', description: 'target node (default: the best other node)', kind: 'name' }],
      examples: ['fcm group move web --to node2', 'fcm group move web'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupMove(invocation, context),
    },
    {
      name: 'set', summary: 'change group settings', args: [nameArg('group', 'group name'), settingsArg('key=value pairs')],
      examples: ['fcm group set web failback=never', 'fcm group set web failoverThreshold=3 failoverPeriod=1h failoverRetry=10m restart.maxRestarts=5'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupSet(invocation, context),
    },
    {
      name: 'cleanup', summary: 'forget the group\'s failures so that its failed resources may start again', args: [nameArg('group', 'group name')],
      examples: ['fcm group cleanup web'],
      run: async (invocation, context) => (await import('./commands/groups.js')).groupCleanup(invocation, context),
    },
  ],
};

const RESOURCE: CommandSpec = {
  name: 'resource',
  summary: 'resources: the things a group starts, stops and monitors',
  subcommands: [
    {
      name: 'list', summary: 'every resource with its group and state',
      options: [{ flags: '--group <group>', description: 'only the resources of this group', kind: 'name' }],
      examples: ['fcm resource list', 'fcm resource list --group web --json'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceList(invocation, context),
    },
    {
      name: 'show', summary: 'one resource in detail', args: [nameArg('resource', 'resource name')], examples: ['fcm resource show web-ip'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceShow(invocation, context),
    },
    {
      name: 'types', summary: 'the resource types and their parameters, and the OCF agents installed', examples: ['fcm resource types', 'fcm resource types --json | jq \'.[] | select(.name == "ip")\''],
      run: async (_invocation, context) => (await import('./commands/resources.js')).resourceTypes(context),
    },
    {
      name: 'create', summary: 'create a resource in a group',
      args: [nameArg('resource', 'resource name'), { syntax: '[settings...]', description: 'key=value: the type\'s parameters, and resource settings' }],
      options: [
        { flags: '--group <group>', description: 'the group it belongs to', kind: 'name', required: true },
        { flags: '--type <type>', description: 'resource type, or an OCF agent as ocf:PROVIDER:AGENT (see fcm resource types)', required: true },
      ],
      examples: [
        'fcm resource create web-ip --group web --type ip address=10.0.0.100/24',
        'fcm resource create web-app --group web --type process "command=/usr/bin/python3 -m http.server 8080" probe=tcp://127.0.0.1:8080',
        'fcm resource create dummy --group web --type ocf:heartbeat:Dummy',
      ],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceCreate(invocation, context),
    },
    {
      name: 'delete', summary: 'delete a resource', args: [nameArg('resource', 'resource name')], examples: ['fcm resource delete web-ip'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceDelete(invocation, context),
    },
    {
      name: 'online', summary: 'bring a resource online and wait until it is', args: [nameArg('resource', 'resource name')], examples: ['fcm resource online web-ip'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceOnline(invocation, context),
    },
    {
      name: 'offline', summary: 'take a resource (and what depends on it) offline and wait until it is', args: [nameArg('resource', 'resource name')],
      examples: ['fcm resource offline web-ip'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceOffline(invocation, context),
    },
    {
      name: 'fail', summary: 'simulate a failure to test the restart and failover policy', args: [nameArg('resource', 'resource name')], examples: ['fcm resource fail web-ip'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceRequest(invocation, context, 'fail'),
    },
    {
      name: 'set', summary: 'change resource parameters and settings (key= removes a parameter)', args: [nameArg('resource', 'resource name'), settingsArg('key=value pairs')],
      examples: ['fcm resource set web-ip address=10.0.0.101/24', 'fcm resource set web-app restart.maxRestarts=5 deadlines.start=2m'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceSet(invocation, context),
    },
    {
      name: 'depend', summary: 'set what a resource needs online first', args: [nameArg('resource', 'resource name')],
      options: [{ flags: '--on <expression>', description: 'resource names of its group with and, or and parentheses; "" for none', required: true }],
      examples: ['fcm resource depend web-app --on "web-ip and (disk1 or disk2)"', 'fcm resource depend web-app --on ""'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceDepend(invocation, context),
    },
    {
      name: 'cleanup', summary: 'forget past failures so the resource may start again', args: [nameArg('resource', 'resource name')], examples: ['fcm resource cleanup web-app'],
      run: async (invocation, context) => (await import('./commands/resources.js')).resourceRequest(invocation, context, 'cleanup'),
    },
  ],
};

const QUORUM: CommandSpec = {
  name: 'quorum',
  summary: 'quorum mode and witness',
  subcommands: [
    { name: 'show', summary: 'the quorum mode, votes and witness', examples: ['fcm quorum show'] },
    {
      name: 'set', summary: 'change the quorum mode or witness',
      options: [
        { flags: '--mode <mode>', description: 'who votes', choices: ['node-majority', 'node-and-witness', 'witness-only'], required: true },
        { flags: '--witness <witness>', description: 'disk:PATH or share:DIR' },
      ],
      examples: ['fcm quorum set --mode node-and-witness --witness disk:/dev/sdb'],
    },
    { name: 'force-start', summary: 'start without quorum (dangerous; recorded in the cluster log)', examples: ['fcm quorum force-start --yes'] },
  ],
};

const DISK: CommandSpec = {
  name: 'disk',
  summary: 'shared disks and the disk witness',
  subcommands: [
    { name: 'init', summary: 'write fcm\'s lease area to a shared disk', args: [{ syntax: '<path>', description: 'block device or file' }], examples: ['fcm disk init /dev/sdb'] },
    { name: 'list', summary: 'every cluster disk with its owner', examples: ['fcm disk list'] },
    { name: 'show', summary: 'one disk and its lease', args: [nameArg('disk', 'disk name')], examples: ['fcm disk show disk1'] },
    { name: 'add', summary: 'make an initialised disk a cluster disk', args: [{ syntax: '<path>', description: 'block device or file' }], examples: ['fcm disk add /dev/sdb'] },
    { name: 'remove', summary: 'stop using a disk', args: [nameArg('disk', 'disk name')], examples: ['fcm disk remove disk1'] },
  ],
};

const CONFIG: CommandSpec = {
  name: 'config',
  summary: 'cluster-wide settings and their history',
  subcommands: [
    {
      name: 'get', summary: 'one setting, or all of them', args: [{ syntax: '[key]', description: 'setting name' }],
      examples: ['fcm config get', 'fcm config get heartbeatInterval --json'],
      run: async (invocation, context) => (await import('./commands/config.js')).configGet(invocation, context),
    },
    {
      name: 'set', summary: 'change settings', args: [settingsArg('KEY=VALUE pairs')],
      examples: ['fcm config set heartbeatInterval=150ms electionTimeoutMin=450ms', 'fcm config set profile=wan'],
      run: async (invocation, context) => (await import('./commands/config.js')).configSet(invocation, context),
    },
    {
      name: 'history', summary: 'past configuration changes',
      options: [{ flags: '--limit <count>', description: 'at most this many changes (the newest)', kind: 'count' }],
      examples: ['fcm config history --limit 20'],
      run: async (invocation, context) => (await import('./commands/config.js')).configHistory(invocation, context),
    },
  ],
};

const EVENTS: CommandSpec = {
  name: 'events',
  summary: 'cluster events: every committed change, as it commits (NDJSON with --follow --json)',
  options: [
    { flags: '--follow', description: 'keep printing new events until interrupted' },
    { flags: '--limit <n>', description: 'how many past events to show first (default 20)', kind: 'count' },
    { flags: '--type <type>', description: 'only this change, or family of changes (group, resourceState, node.pause)' },
  ],
  examples: ['fcm events', 'fcm events --follow', 'fcm events --follow --json | jq -r .summary', 'fcm events --type placement --limit 100'],
  run: async (invocation, context) => (await import('./commands/events.js')).events(invocation, context),
};

const AGENT: CommandSpec = {
  name: 'agent',
  summary: 'the node agent that runs on every cluster node',
  subcommands: [
    {
      name: 'run', summary: 'run the agent in the foreground',
      options: [
        { flags: '--state-dir <dir>', description: 'where the agent keeps its keys and data (default /var/lib/fcm)' },
        { flags: '--listen <host:port>', description: 'where its SSH server listens (default 0.0.0.0:7422; port 0 picks one)' },
        { flags: '--advertise <host:port>', description: 'the address other nodes dial (default: the listen address)' },
        { flags: '--source-address <ip>', description: 'local address for connections to other nodes' },
        { flags: '--name <name>', description: 'the node\'s name, on first start (default: the host name)', kind: 'name' },
        { flags: '--socket <path>', description: 'the local API socket (default: STATE-DIR/agent.sock)' },
        { flags: '--log-format <format>', description: 'log lines on stderr as text or JSON', choices: ['text', 'json'], defaultValue: 'text' },
        { flags: '--watchdog <path>', description: 'fencing by watchdog: the lease guard feeds this device (/dev/watchdog)' },
        { flags: '--watchdog-timeout-ms <ms>', description: 'the watchdog\'s timeout T_wd in ms (default: the device\'s own, from sysfs)' },
        { flags: '--nice <n>', description: 'CPU priority of the agent and its lease guard, -20 to 19 (default -10; resources run at 0)' },
      ],
      examples: ['fcm agent run --state-dir /var/lib/fcm', 'fcm agent run --state-dir /tmp/n1 --listen 127.0.0.1:0 --name n1', 'fcm agent run --watchdog /dev/watchdog', 'fcm agent run --nice 0'],
      run: async (invocation) => (await import('./commands/agent-run.js')).agentRun(invocation),
    },
    {
      name: 'status', summary: 'whether the agent runs, and its own view: role, lease, peers', examples: ['fcm agent status', 'fcm --via node2 agent status --json'],
      run: async (_invocation, context) => (await import('./commands/agent-status.js')).agentStatus(context),
    },
    {
      name: 'repair', summary: 'make a node whose consensus log is corrupt a fresh agent (its agent stopped), to be evicted and added again',
      options: [{ flags: '--state-dir <dir>', description: 'the stopped agent\'s state directory (default /var/lib/fcm)' }],
      examples: ['fcm agent repair --state-dir /var/lib/fcm', 'fcm agent repair --yes --json'],
      run: async (invocation, context) => (await import('./commands/agent-repair.js')).agentRepair(invocation, context),
    },
  ],
};

const LAB: CommandSpec = {
  name: 'lab',
  summary: 'a real local cluster on this machine, for trying and testing',
  subcommands: [
    {
      name: 'up', summary: 'start a lab cluster on loopback',
      options: [
        { flags: '--nodes <count>', description: 'number of nodes', kind: 'count', defaultValue: 3 },
        { flags: '--dir <dir>', description: 'directory for the lab\'s state (default: --lab or $FCM_LAB if given, else ~/.local/state/fcm/lab)' },
        { flags: '--fencing <fencing>', description: 'none, or watchdog: every node\'s guard feeds an emulated watchdog that resets the node', choices: ['none', 'watchdog'] },
        { flags: '--watchdog-timeout-ms <ms>', description: 'the emulated watchdogs\' timeout T_wd in ms (default 500)', kind: 'count' },
      ],
      examples: ['fcm lab up --nodes 3', 'fcm lab up --nodes 5 --dir /tmp/lab5', 'fcm lab up --fencing watchdog'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labUpCommand(invocation, context),
    },
    {
      name: 'down', summary: 'stop every lab process and remove its state',
      options: [{ flags: '--keep', description: 'keep the state dirs and logs' }],
      examples: ['fcm lab down', 'fcm lab down --keep'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labDownCommand(invocation, context),
    },
    {
      name: 'status', summary: 'the lab\'s processes and links, and the cluster they form', examples: ['fcm lab status'],
      run: async (_invocation, context) => (await import('./commands/lab.js')).labStatusCommand(context),
    },
    {
      name: 'kill', summary: 'kill a lab node\'s agent with SIGKILL, as a crash', args: [nameArg('node', 'node name')], examples: ['fcm lab kill node2'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labKillCommand(invocation, context),
    },
    {
      name: 'start', summary: 'start a killed lab node\'s agent again, with its state', args: [nameArg('node', 'node name')], examples: ['fcm lab start node2'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labStartCommand(invocation, context),
    },
    {
      name: 'cut', summary: 'cut a lab node off from the others, or from one of them', args: [nameArg('node', 'node name')],
      options: [
        { flags: '--silent', description: 'drop its traffic without resetting connections, as a lost network does' },
        { flags: '--from <peer>', description: 'cut only the links between the node and this one; its other links pass', kind: 'name' },
      ],
      examples: ['fcm lab cut node2', 'fcm lab cut node2 --silent', 'fcm lab cut node1 --from node2'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labCutCommand(invocation, context),
    },
    {
      name: 'heal', summary: 'reconnect a cut lab node', args: [nameArg('node', 'node name')],
      options: [{ flags: '--from <peer>', description: 'lift only the cut between the node and this one', kind: 'name' }],
      examples: ['fcm lab heal node2', 'fcm lab heal node1 --from node2'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labHealCommand(invocation, context),
    },
    {
      name: 'demo', summary: 'show a group failing over: online, SIGKILL its owner, Online elsewhere, owner started again',
      options: [{ flags: '--group <group>', description: 'the group to use (default demo; made with a process resource GROUP-app if missing)', kind: 'name' }],
      examples: ['fcm lab demo', 'fcm lab demo --group web --json'],
      run: async (invocation, context) => (await import('./commands/lab.js')).labDemoCommand(invocation, context),
    },
  ],
};

const COMPLETION: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script',
  args: [{ syntax: '<shell>', description: 'bash or zsh', choices: ['bash', 'zsh'] }],
  examples: ['source <(fcm completion bash)', 'fcm completion zsh > "${fpath[1]}/_fcm"'],
  run: async (invocation) => {
    const { completionScript, shellFrom } = await import('./commands/completion.js');
    return completionScript({ shell: shellFrom(invocation.args[0]), tree: COMMAND_TREE });
  },
};

export const COMMAND_TREE: CommandSpec = {
  name: 'fcm',
  summary: 'a failover cluster manager for Linux',
  options: GLOBAL_OPTIONS,
  examples: ['fcm lab up --nodes 3', 'fcm status', 'fcm group move web --to node2', 'fcm status --json | jq .'],
  subcommands: [
    { name: 'setup', summary: 'interactive wizard: nodes, keys, validation, quorum, first group', examples: ['fcm setup'] },
    {
      name: 'status', summary: 'the cluster at a glance (short for fcm cluster status)', examples: ['fcm status', 'fcm status --json | jq .quorum'],
      run: async (_invocation, context) => (await import('./commands/cluster.js')).clusterStatus(context),
    },
    CLUSTER, NODE, GROUP, RESOURCE, QUORUM, DISK, CONFIG, EVENTS, AGENT, LAB, COMPLETION,
  ],
};
