// A small XML reader for OCF meta-data: elements, attributes (single or
// double quoted), text, the five named entities and numeric references,
// comments, CDATA, and a prolog (<?xml?>, <!DOCTYPE>) that is skipped. No
// namespaces, no DTD processing, no external entities (so nothing an agent
// prints can make fcm read a file). Enough for meta-data; not a general parser.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

export class XmlError extends Error {
  readonly code = 'E_XML';
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return NAMED_ENTITIES[ref] ?? whole;
  });
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTRIBUTE = /\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;

/** The document's root element; throws XmlError on malformed input. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const fail = (why: string): never => {
    throw new XmlError(`malformed XML at offset ${i}: ${why}`);
  };
  const skipPast = (end: string): void => {
    const at = text.indexOf(end, i);
    if (at === -1) fail(`missing ${end}`);
    i = at + end.length;
  };
  while (i < text.length) {
    const top = stack[stack.length - 1] as XmlElement;
    const lt = text.indexOf('<', i);
    if (lt === -1) {
      top.text += decodeEntities(text.slice(i));
      break;
    }
    top.text += decodeEntities(text.slice(i, lt));
    i = lt;
    if (text.startsWith('<!--', i)) skipPast('-->');
    else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      if (end === -1) fail('missing ]]>');
      top.text += text.slice(i + 9, end);
      i = end + 3;
    } else if (text.startsWith('<?', i)) skipPast('?>');
    else if (text.startsWith('<!', i)) skipPast('>'); // DOCTYPE without an internal subset, as agents print it
    else if (text.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const name = NAME.exec(text)?.[0] ?? fail('bad closing tag');
      if (stack.length === 1 || top.name !== name) fail(`</${name}> does not close <${top.name}>`);
      stack.pop();
      i = NAME.lastIndex;
      skipPast('>');
    } else {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(text)?.[0] ?? fail('bad tag');
      const element: XmlElement = { name, attributes: {}, children: [], text: '' };
      let at = NAME.lastIndex;
      for (;;) {
        ATTRIBUTE.lastIndex = at;
        const match = ATTRIBUTE.exec(text);
        if (match === null) break;
        element.attributes[match[1] as string] = decodeEntities(match[2] ?? match[3] ?? '');
        at = ATTRIBUTE.lastIndex;
      }
      const close = /\s*(\/?)>/y;
      close.lastIndex = at;
      const end = close.exec(text) ?? fail(`bad attributes in <${name}>`);
      top.children.push(element);
      if (end[1] !== '/') stack.push(element);
      i = close.lastIndex;
    }
  }
  if (stack.length > 1) fail(`<${(stack[stack.length - 1] as XmlElement).name}> is not closed`);
  const first = root.children[0];
  if (first === undefined || root.children.length > 1) fail('a document has exactly one root element');
  return first as XmlElement;
}

/** Direct children named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

export function childNamed(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}
