// An OCF resource agent's meta-data (`agent meta-data`, XML per the OCF
// resource agent API): its parameters with types and defaults, and its
// actions with their advised timeouts.

import type { ParameterDescription } from './resource-type.js';
import { childNamed, childrenNamed, parseXml, XmlError } from './xml.js';
import type { XmlElement } from './xml.js';

export interface OcfAction {
  name: string;
  /** Advised timeout in ms, or null if not given or unreadable. */
  timeoutMs: number | null;
  intervalMs: number | null;
  depth: number | null;
}

export interface OcfMetadata {
  /** The agent's own name (`<resource-agent name>`). */
  agent: string;
  version: string | null;
  summary: string;
  parameters: ParameterDescription[];
  actions: OcfAction[];
}

const UNIT_MS: Record<string, number> = { ms: 1, msec: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };

/** An OCF/Pacemaker interval: a number with an optional unit (default seconds): `20s`, `20`, `2min`, `500ms`. */
export function parseOcfDuration(text: string): number | null {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/.exec(text);
  if (match === null) return null;
  const unit = UNIT_MS[match[2] === '' ? 's' : (match[2] as string)];
  return unit === undefined ? null : Number(match[1]) * unit;
}

function description(element: XmlElement, tag: 'shortdesc' | 'longdesc'): string {
  const all = childrenNamed(element, tag);
  const chosen = all.find((e) => (e.attributes.lang ?? 'en') === 'en') ?? all[0];
  return (chosen?.text ?? '').replace(/\s+/g, ' ').trim();
}

function isTrue(value: string | undefined): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}

/**
 * OCF content types are mapped to fcm's parameter types where fcm's check
 * accepts every value the agent does: integers stay integers; OCF booleans
 * accept yes/no/1/0 as well, so they are strings to fcm (the agent judges).
 */
function parameterOf(element: XmlElement): ParameterDescription | null {
  const name = element.attributes.name;
  if (name === undefined || name === '') return null;
  const content = childNamed(element, 'content');
  const contentType = content?.attributes.type ?? 'string';
  // Agents print `default=""` for "no default"; an empty default is no default.
  const rawDefault = content?.attributes.default;
  const fallback = rawDefault === undefined || rawDefault === '' ? null : rawDefault;
  const integer = (contentType === 'integer' || contentType === 'int') && (fallback === null || /^-?\d{1,15}$/.test(fallback));
  const summary = description(element, 'shortdesc') || description(element, 'longdesc');
  return {
    name,
    type: integer ? 'integer' : 'string',
    required: isTrue(element.attributes.required),
    default: fallback,
    description: contentType === 'boolean' ? `${summary} (boolean)` : summary,
    unique: isTrue(element.attributes.unique),
  };
}

function actionOf(element: XmlElement): OcfAction | null {
  const name = element.attributes.name;
  if (name === undefined || name === '') return null;
  const number = (value: string | undefined): number | null => (value === undefined ? null : parseOcfDuration(value));
  const depth = element.attributes.depth;
  return {
    name,
    timeoutMs: number(element.attributes.timeout),
    intervalMs: number(element.attributes.interval),
    depth: depth !== undefined && /^\d+$/.test(depth) ? Number(depth) : null,
  };
}

/** Parses meta-data XML; throws XmlError if it is not a `<resource-agent>` document. */
export function parseOcfMetadata(xml: string): OcfMetadata {
  const root = parseXml(xml);
  if (root.name !== 'resource-agent') throw new XmlError(`meta-data root is <${root.name}>, not <resource-agent>`);
  const parameters = childrenNamed(childNamed(root, 'parameters') ?? root, 'parameter')
    .map(parameterOf)
    .filter((p): p is ParameterDescription => p !== null);
  const actions = childrenNamed(childNamed(root, 'actions') ?? root, 'action')
    .map(actionOf)
    .filter((a): a is OcfAction => a !== null);
  const version = childNamed(root, 'version')?.text.trim() ?? root.attributes.version ?? null;
  return { agent: root.attributes.name ?? '', version, summary: description(root, 'shortdesc'), parameters, actions };
}
