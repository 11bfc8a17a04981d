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
