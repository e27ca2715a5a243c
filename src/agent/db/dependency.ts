// Resource dependency expressions: "A and (B or C)" means this resource may
// start once A is online and B or C is online. `and` binds tighter than
// `or`; keywords are case-insensitive; names follow the name rule.

import { validateName } from './names.js';

export type DependencyExpr =
  | { op: 'ref'; name: string }
  /** n-ary, flattened: `A and B and C` is one node with three args. */
  | { op: 'and' | 'or'; args: DependencyExpr[] };

export type DependencyParse =
  | { ok: true; expr: DependencyExpr }
  /** `position`: 0-based character offset of the problem in the text. */
  | { ok: false; message: string; position: number };

/** Words that cannot name a resource, since they would read as operators. */
export const RESERVED_WORDS: readonly string[] = ['and', 'or'];

interface Token {
  kind: '(' | ')' | 'and' | 'or' | 'name' | 'end';
  text: string;
  position: number;
}

class SyntaxProblem {
  constructor(readonly message: string, readonly position: number) {}
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:([()])|([A-Za-z0-9._-]+)|(\S))/gy;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null && match[0] !== '') {
    const position = match.index + match[0].length - (match[1] ?? match[2] ?? match[3] ?? '').length;
    if (match[3] !== undefined) throw new SyntaxProblem(`unexpected ${JSON.stringify(match[3])}`, position);
    if (match[1] !== undefined) {
      tokens.push({ kind: match[1] as '(' | ')', text: match[1], position });
      continue;
    }
    const word = match[2] ?? '';
    const lower = word.toLowerCase();
    tokens.push({ kind: lower === 'and' || lower === 'or' ? lower : 'name', text: word, position });
  }
  tokens.push({ kind: 'end', text: '', position: text.length });
  return tokens;
}

function combine(op: 'and' | 'or', parts: DependencyExpr[]): DependencyExpr {
  const args = parts.flatMap((p) => (p.op === op ? p.args : [p]));
  return args.length === 1 && args[0] ? args[0] : { op, args };
}

/** Recursive descent over: or := and ('or' and)*; and := atom ('and' atom)*; atom := NAME | '(' or ')'. */
class Parser {
  private next = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.next] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  parse(): DependencyExpr {
    const expr = this.binary('or');
    const rest = this.peek();
    if (rest.kind !== 'end') throw new SyntaxProblem(`expected 'and', 'or' or the end, found ${JSON.stringify(rest.text)}`, rest.position);
    return expr;
  }

  private binary(op: 'and' | 'or'): DependencyExpr {
    const operand = (): DependencyExpr => (op === 'or' ? this.binary('and') : this.atom());
    const parts = [operand()];
    while (this.peek().kind === op) {
      this.next++;
      parts.push(operand());
    }
    return combine(op, parts);
  }

  private atom(): DependencyExpr {
    const token = this.peek();
    this.next++;
    if (token.kind === '(') {
      const inner = this.binary('or');
      const close = this.peek();
      if (close.kind !== ')') throw new SyntaxProblem(`expected ')' to close the '(' at ${token.position}`, close.position);
      this.next++;
      return inner;
    }
    if (token.kind === 'name') {
      const problem = validateName(token.text, 'resource');
      if (problem) throw new SyntaxProblem(problem.message, token.position);
      return { op: 'ref', name: token.text };
    }
    const found = token.kind === 'end' ? 'the end' : JSON.stringify(token.text);
    throw new SyntaxProblem(`expected a resource name or '(', found ${found}`, token.position);
  }
}

export function parseDependency(text: string): DependencyParse {
  try {
    return { ok: true, expr: new Parser(tokenize(text)).parse() };
  } catch (e) {
    if (e instanceof SyntaxProblem) return { ok: false, message: e.message, position: e.position };
    throw e;
  }
}

/** Text that parses back to the same expression; `or` inside `and` is parenthesised, and `and` inside `or` too, for readers. */
export function formatDependency(expr: DependencyExpr, nested = false): string {
  if (expr.op === 'ref') return expr.name;
  const text = expr.args.map((a) => formatDependency(a, true)).join(` ${expr.op} `);
  return nested ? `(${text})` : text;
}

/** Every resource the expression names, sorted, once each. */
export function dependencyNames(expr: DependencyExpr): string[] {
  if (expr.op === 'ref') return [expr.name];
  return [...new Set(expr.args.flatMap(dependencyNames))].sort();
}

/** Whether the expression holds when exactly the resources for which `online` holds are online. */
export function dependencyHolds(expr: DependencyExpr, online: (name: string) => boolean): boolean {
  if (expr.op === 'ref') return online(expr.name);
  const holds = (arg: DependencyExpr): boolean => dependencyHolds(arg, online);
  return expr.op === 'and' ? expr.args.every(holds) : expr.args.some(holds);
}

/** The expression with every reference to `name` taken out (a deleted resource); null when nothing is left. */
export function withoutResource(expr: DependencyExpr, name: string): DependencyExpr | null {
  if (expr.op === 'ref') return expr.name === name ? null : expr;
  const args = expr.args.map((a) => withoutResource(a, name)).filter((a): a is DependencyExpr => a !== null);
  return args.length === 0 ? null : combine(expr.op, args);
}

/**
 * A dependency cycle in `edges` (resource → resources it depends on), as
 * the path `[a, b, ..., a]`, or null. Walks in sorted order so every node
 * reports the same cycle; iterative, so a long chain cannot overflow the stack.
 */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | null {
  const seen = new Map<string, 'on-path' | 'done'>();
  for (const start of [...edges.keys()].sort()) {
    if (seen.has(start)) continue;
    const path: { name: string; next: string[]; at: number }[] = [];
    const enter = (name: string): void => {
      seen.set(name, 'on-path');
      path.push({ name, next: [...(edges.get(name) ?? [])].sort(), at: 0 });
    };
    enter(start);
    while (path.length > 0) {
      const top = path[path.length - 1] as (typeof path)[number];
      const next = top.next[top.at++];
      if (next === undefined) {
        seen.set(top.name, 'done');
        path.pop();
      } else if (seen.get(next) === 'on-path') {
        const names = path.map((step) => step.name);
        return [...names.slice(names.indexOf(next)), next];
      } else if (!seen.has(next)) {
        enter(next);
      }
    }
  }
  return null;
}
