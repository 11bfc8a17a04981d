// A bucket's event notifications over S3's ?notification subresource. As with lifecycle rules, the document read
// is kept as it came: removing a configuration takes its element out, adding one appends a QueueConfiguration, so
// what the page does not show goes back unchanged. The server checks ARNs (a target it does not have is refused).
import { call, checksumHeader } from './client.js';
import { childText, editableCopy, parseXml, withoutChild } from './xml.js';

const KINDS: Record<string, string> = {
  QueueConfiguration: 'Queue',
  TopicConfiguration: 'Topic',
  CloudFunctionConfiguration: 'CloudFunction',
};

export interface NotificationView {
  id: string;
  /** The target's ARN (e.g. arn:minio:sqs::1:webhook). */
  arn: string;
  events: string[];
  prefix: string;
  suffix: string;
  /** The configuration's element in the document (removed from it to delete the configuration). */
  element: Element;
}

/** The bucket's notification document (an empty NotificationConfiguration when it has none). */
export async function getNotifications(bucket: string): Promise<Document> {
  return parseXml(await (await call({ bucket, query: [['notification', '']] })).text());
}

const children = (el: Element | undefined, tag: string): Element[] =>
  el ? Array.from(el.children).filter((c) => c.localName === tag) : [];

function filterValue(config: Element, name: string): string {
  const rules = children(children(children(config, 'Filter')[0], 'S3Key')[0], 'FilterRule');
  const rule = rules.find((r) => childText(r, 'Name').toLowerCase() === name);
  return rule ? childText(rule, 'Value') : '';
}

export function notificationsOf(doc: Document | undefined): NotificationView[] {
  if (!doc) return [];
  return Array.from(doc.documentElement.children)
    .filter((c) => KINDS[c.localName] !== undefined)
    .map((c) => ({
      id: childText(c, 'Id'),
      arn: childText(c, KINDS[c.localName]!),
      events: children(c, 'Event').map((e) => e.textContent ?? ''),
      prefix: filterValue(c, 'prefix'),
      suffix: filterValue(c, 'suffix'),
      element: c,
    }));
}

async function put(bucket: string, doc: Document): Promise<void> {
  const body = new XMLSerializer().serializeToString(doc);
  await call({ method: 'PUT', bucket, query: [['notification', '']], body, headers: await checksumHeader(body) });
}

export async function removeNotification(bucket: string, doc: Document, n: NotificationView): Promise<void> {
  await put(bucket, withoutChild(doc, n.element));
}

/** Appends a configuration sending `events` of keys under `prefix` ending in `suffix` to the target `arn`. */
export async function addNotification(
  bucket: string,
  doc: Document | undefined,
  n: { id: string; arn: string; events: string[]; prefix: string; suffix: string },
): Promise<void> {
  const { target, el } = editableCopy(doc, 'NotificationConfiguration');
  const rules = (
    [
      ['prefix', n.prefix],
      ['suffix', n.suffix],
    ] as const
  )
    .filter(([, v]) => v !== '')
    .map(([name, value]) => el('FilterRule', el('Name', name), el('Value', value)));
  target.documentElement.appendChild(
    el(
      'QueueConfiguration',
      ...(n.id ? [el('Id', n.id)] : []),
      el('Queue', n.arn.trim()),
      ...n.events.map((e) => el('Event', e)),
      ...(rules.length ? [el('Filter', el('S3Key', ...rules))] : []),
    ),
  );
  await put(bucket, target);
}
