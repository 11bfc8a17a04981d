// MinIO's configuration text: one line per subsystem target, `subsys[:target] key=value key="a value"`,
// `#` comment lines (get-config-kv writes the environment's values as `# CAIRN_...=value`). Parsed in one pass
// (no RegExp over the whole input); every subsystem and key is checked against the registry, and an unknown one
// is refused rather than dropped (MinIO tokenizes only the keys it knows and silently ignores the rest).
import { S3Error } from '../../../errors.js';
import { DEFAULT_TARGET, isTargetId, MINIO_ONLY, type SubsysSpec, subsysSpec } from './registry.js';

/** Stored settings: subsystem -> target (`_` the default) -> key -> value. */
export type Settings = Record<string, Record<string, Record<string, string>>>;

export interface KvLine {
  spec: SubsysSpec;
  target: string;
  /** Keys in the order given; `value` undefined where only a key was named (a reset). */
  pairs: { key: string; value?: string }[];
}

export const configError = (message: string): S3Error => new S3Error('XMinioConfigError', message);

/** `subsys[:target]`: the registry's spec and the target; MinIO's errors for the rest. */
export function parseSubsys(head: string, allowEmptyTarget = false): { spec: SubsysSpec; target: string } {
  const colon = head.indexOf(':');
  const name = colon < 0 ? head : head.slice(0, colon);
  const spec = subsysSpec(name);
  if (!spec) {
    if (MINIO_ONLY.has(name)) throw configError(`sub-system '${name}' is not implemented by Cairn`);
    throw configError(`unknown sub-system ${head.slice(0, 64)}`);
  }
  if (colon < 0) return { spec, target: DEFAULT_TARGET };
  const target = head.slice(colon + 1);
  if (!spec.multipleTargets) throw configError(`sub-system '${name}' only supports single target`);
  if (target === '') {
    if (allowEmptyTarget) return { spec, target: DEFAULT_TARGET };
    throw configError(`sub-system target '${head}' cannot be empty`);
  }
  if (!isTargetId(target) || target === DEFAULT_TARGET)
    throw configError(`sub-system target '${target.slice(0, 64)}' is invalid: letters, digits, '-' and '_'`);
  return { spec, target };
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r';

/** One line: `keysOnly` for a reset (`api stale_uploads_expiry`), else every key needs `=value`. */
export function parseLine(line: string, keysOnly: boolean): KvLine {
  let at = 0;
  const skip = () => {
    while (at < line.length && isSpace(line[at])) at++;
  };
  const word = (stopAtEquals: boolean) => {
    const start = at;
    while (at < line.length && !isSpace(line[at]) && !(stopAtEquals && line[at] === '=')) at++;
    return line.slice(start, at);
  };
  skip();
  const { spec, target } = parseSubsys(word(false));
  const pairs: KvLine['pairs'] = [];
  const seen = new Set<string>();
  for (skip(); at < line.length; skip()) {
    const key = word(true);
    if (!spec.keys.some((k) => k.key === key))
      throw configError(`unknown key '${key.slice(0, 64)}' of sub-system '${spec.name}'`);
    if (seen.has(key)) throw configError(`key '${key}' is given twice`);
    seen.add(key);
    if (line[at] !== '=') {
      if (!keysOnly) throw configError(`key '${key}' has no value (key=value)`);
      pairs.push({ key });
      continue;
    }
    if (keysOnly) throw configError(`a reset names keys only, without values: '${key}='`);
    at++;
    let value: string;
    if (line[at] === '"') {
      const end = line.indexOf('"', at + 1);
      if (end < 0) throw configError(`the value of '${key}' has no closing quote`);
      value = line.slice(at + 1, end);
      at = end + 1;
      if (at < line.length && !isSpace(line[at])) throw configError(`a space must follow the value of '${key}'`);
    } else {
      value = word(false);
      if (value.includes('"')) throw configError(`the value of '${key}' has a stray quote`);
    }
    pairs.push({ key, value });
  }
  if (!keysOnly && pairs.length === 0) throw configError(`sub-system '${spec.name}' must have key`);
  return { spec, target, pairs };
}

/** Every line that is not empty or a comment. */
export function parseText(text: string, keysOnly: boolean): KvLine[] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw configError('input arguments cannot be empty');
  return lines.map((l) => parseLine(l, keysOnly));
}

/** `key=value`, quoted when the value holds a space (as MinIO's KV.String). */
export const kvString = (key: string, value: string): string =>
  /\s/.test(value) ? `${key}="${value}"` : `${key}=${value}`;

export const REDACTED = '*redacted*';

/** One stored line again (the history's listing), secret values redacted when `redact`. */
export function renderLine(l: KvLine, redact: boolean): string {
  const head = l.target === DEFAULT_TARGET ? l.spec.name : `${l.spec.name}:${l.target}`;
  const kvs = l.pairs.map(({ key, value }) => {
    if (value === undefined) return key;
    const secret = l.spec.keys.find((k) => k.key === key)?.secret;
    return kvString(key, redact && secret && value !== '' ? REDACTED : value);
  });
  return [head, ...kvs].join(' ');
}
