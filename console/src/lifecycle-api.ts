// A bucket's lifecycle rules over S3's ?lifecycle subresource. The document read is kept as it came: removing a
// rule takes its element out and adding one appends a new element, so what the page does not show (transitions,
// tag and size filters) goes back to the server unchanged.
import { ApiError, call, checksumHeader } from './client.js';
import { childText, editableCopy, parseXml, withoutChild } from './xml.js';

export interface RuleView {
  id: string;
  status: string;
  /** The prefix it names (Filter/Prefix, And/Prefix or the legacy top-level Prefix); '' for every object. */
  prefix: string;
  /** What it does, in words (each action the document has). */
  actions: string[];
  /** The rule's element in the document (removed from it to delete the rule). */
  element: Element;
}

/** The bucket's lifecycle document, or undefined when it has none. */
export async function getLifecycle(bucket: string): Promise<Document | undefined> {
  try {
    return parseXml(await (await call({ bucket, query: [['lifecycle', '']] })).text());
  } catch (e) {
    if (e instanceof ApiError && e.code === 'NoSuchLifecycleConfiguration') return undefined;
    throw e;
  }
}

const child = (el: Element | undefined, tag: string): Element | undefined =>
  el ? Array.from(el.children).find((c) => c.localName === tag) : undefined;

function describe(rule: Element): string[] {
  const out: string[] = [];
  const days = (el: Element | undefined, tag: string) => (el ? childText(el, tag) : '');
  const exp = child(rule, 'Expiration');
  if (exp) {
    if (days(exp, 'Days')) out.push(`expire current versions after ${days(exp, 'Days')} days`);
    if (days(exp, 'Date')) out.push(`expire current versions on ${days(exp, 'Date')}`);
    if (days(exp, 'ExpiredObjectDeleteMarker') === 'true') out.push('remove expired delete markers');
  }
  const nc = child(rule, 'NoncurrentVersionExpiration');
  if (nc) out.push(`expire noncurrent versions after ${days(nc, 'NoncurrentDays')} days`);
  const abort = child(rule, 'AbortIncompleteMultipartUpload');
  if (abort) out.push(`abort unfinished uploads after ${days(abort, 'DaysAfterInitiation')} days`);
  for (const t of Array.from(rule.children).filter((c) => c.localName === 'Transition'))
    out.push(`move to ${childText(t, 'StorageClass')} after ${childText(t, 'Days') || childText(t, 'Date')}`);
  if (child(rule, 'NoncurrentVersionTransition')) out.push('move noncurrent versions to a tier');
  return out;
}

export function rulesOf(doc: Document | undefined): RuleView[] {
  if (!doc) return [];
  return Array.from(doc.documentElement.children)
    .filter((r) => r.localName === 'Rule')
    .map((r) => {
      const filter = child(r, 'Filter');
      const prefix =
        childText(filter ?? r, 'Prefix') || (child(filter, 'And') ? childText(child(filter, 'And')!, 'Prefix') : '');
      return { id: childText(r, 'ID'), status: childText(r, 'Status'), prefix, actions: describe(r), element: r };
    });
}

/** Stores `doc` (no rule left: the configuration is deleted, as S3 has no empty one). */
async function put(bucket: string, doc: Document): Promise<void> {
  if (rulesOf(doc).length === 0) {
    await call({ method: 'DELETE', bucket, query: [['lifecycle', '']] });
    return;
  }
  const body = new XMLSerializer().serializeToString(doc);
  await call({ method: 'PUT', bucket, query: [['lifecycle', '']], body, headers: await checksumHeader(body) });
}

export async function removeRule(bucket: string, doc: Document, rule: RuleView): Promise<void> {
  await put(bucket, withoutChild(doc, rule.element));
}

/** Appends a rule expiring the objects under `prefix` after `days` days (the page's one kind of new rule). */
export async function addExpiryRule(
  bucket: string,
  doc: Document | undefined,
  rule: { id: string; prefix: string; days: string },
): Promise<void> {
  const { target, el } = editableCopy(doc, 'LifecycleConfiguration');
  target.documentElement.appendChild(
    el(
      'Rule',
      ...(rule.id ? [el('ID', rule.id)] : []),
      el('Filter', el('Prefix', rule.prefix)),
      el('Status', 'Enabled'),
      el('Expiration', el('Days', rule.days)),
    ),
  );
  await put(bucket, target);
}
