// Reading the XML answers of S3, STS and IAM with the browser's own parser (no HTML is ever built from them).

export function parseXml(text: string): Document {
  return new DOMParser().parseFromString(text, 'application/xml');
}

/** Elements named `tag` anywhere below `node`. */
export function all(node: Document | Element, tag: string): Element[] {
  return Array.from(node.getElementsByTagName(tag));
}

/** The text of the first `tag` below `node`, or ''. */
export function text(node: Document | Element, tag: string): string {
  return node.getElementsByTagName(tag)[0]?.textContent ?? '';
}

/** The text of `node`'s direct child `tag`, or '' (for nested lists where a deeper element has the same name). */
export function childText(node: Element, tag: string): string {
  for (const c of Array.from(node.children)) if (c.tagName === tag) return c.textContent ?? '';
  return '';
}

/** An XML document `<root xmlns=...>` with child elements from a nested object; text is escaped by the DOM. */
export function buildXml(root: string, children: XmlTree, ns = 'http://s3.amazonaws.com/doc/2006-03-01/'): string {
  const doc = document.implementation.createDocument(ns, root, null);
  const add = (parent: Element, tree: XmlTree) => {
    for (const [name, value] of Object.entries(tree)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        const el = doc.createElementNS(ns, name);
        if (typeof v === 'string') el.textContent = v;
        else add(el, v);
        parent.appendChild(el);
      }
    }
  };
  add(doc.documentElement, children);
  return new XMLSerializer().serializeToString(doc);
}

export type XmlTree = { [name: string]: string | XmlTree | (string | XmlTree)[] };

/** A copy of `doc` without `element` (one of its root's children), for editing a document read from S3. */
export function withoutChild(doc: Document, element: Element): Document {
  const copy = doc.cloneNode(true) as Document;
  const index = Array.from(doc.documentElement.children).indexOf(element);
  copy.documentElement.children[index]?.remove();
  return copy;
}

/**
 * A copy of `doc` (or a new document `<root xmlns=ns>`) to append to, and a maker of its elements: `el(name,
 * ...content)`, text escaped by the DOM.
 */
export function editableCopy(doc: Document | undefined, root: string, ns = 'http://s3.amazonaws.com/doc/2006-03-01/') {
  const target = doc ? (doc.cloneNode(true) as Document) : document.implementation.createDocument(ns, root, null);
  const el = (name: string, ...content: (Element | string)[]): Element => {
    const e = target.createElementNS(ns, name);
    for (const c of content) {
      if (typeof c === 'string') e.textContent = c;
      else e.appendChild(c);
    }
    return e;
  };
  return { target, el };
}
