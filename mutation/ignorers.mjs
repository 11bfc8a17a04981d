// Stryker ignore-plugins of mutation runs (mutation/run.mjs). Each skips one kind of mutant that no test
// should have to kill, and says why in the report (the mutant shows as Ignored with this reason).
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EQUIVALENT } from './equivalent.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Error classes whose message argument (0-based index) is text for people. */
const MESSAGE_ARGUMENT = new Map([
  ['S3Error', 1],
  ['SelectError', 1],
  ['CorruptMetaError', 0],
  ['Error', 0],
  ['TypeError', 0],
  ['RangeError', 0],
]);

/**
 * Functions imported by many files that only build such an error, and the index of their message argument:
 * scanError(code, message, cause) of the S3 Select scanners is `new SelectError(code, message)`.
 */
const MESSAGE_HELPER = new Map([['scanError', 1]]);

/**
 * The index of the message argument of `new Error-class(...)` or of a call of a MESSAGE_HELPER, or undefined
 * for another expression.
 */
function messageIndex(node) {
  if (node?.callee?.type !== 'Identifier') return undefined;
  if (node.type === 'NewExpression') return MESSAGE_ARGUMENT.get(node.callee.name);
  if (node.type === 'CallExpression') return MESSAGE_HELPER.get(node.callee.name);
  return undefined;
}

/** The names of the identifiers that `node` (an AST node) refers to or declares, at any depth. */
function namesIn(node, out = new Set()) {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const n of node) namesIn(n, out);
    return out;
  }
  if (node.type === 'Identifier') out.add(node.name);
  for (const [k, v] of Object.entries(node)) if (k !== 'loc' && v && typeof v === 'object') namesIn(v, out);
  return out;
}

/**
 * What of `fn` is message text, when `fn` only builds (or throws) an error: its body is `const`s, then one
 * `return` or `throw` of the error, as `const invalid = (msg) => new S3Error('X', msg)` or compile.ts's
 * typeError (`const desc = ...; throw new SelectError('Code', \`... ${desc(a)}\`)`). `params`: the indexes of the
 * parameters used only in the message (or in the `const`s); `inits`: the `const`s' values, which only the message
 * can use (the other arguments, the error code, may name none of them). Undefined for another function.
 */
function messageParts(fn) {
  if (!fn || !['FunctionDeclaration', 'ArrowFunctionExpression', 'FunctionExpression'].includes(fn.type)) return;
  const statements =
    fn.body.type === 'BlockStatement' ? fn.body.body : [{ type: 'ReturnStatement', argument: fn.body }];
  const last = statements.at(-1);
  if (last?.type !== 'ReturnStatement' && last?.type !== 'ThrowStatement') return undefined;
  const decls = statements.slice(0, -1);
  const plain = (d) => d.id.type === 'Identifier' && d.init;
  if (!decls.every((s) => s.type === 'VariableDeclaration' && s.kind === 'const' && s.declarations.every(plain))) {
    return undefined;
  }
  const built = last.argument;
  const index = messageIndex(built);
  const message = index === undefined ? undefined : built.arguments[index];
  if (!message) return undefined;
  const inits = decls.flatMap((s) => s.declarations.map((d) => d.init));
  const others = namesIn(built.arguments.filter((_, i) => i !== index));
  if (decls.some((s) => s.declarations.some((d) => others.has(d.id.name)))) return undefined;
  const used = namesIn([message, ...inits]);
  const params = fn.params.flatMap((p, i) =>
    p.type === 'Identifier' && used.has(p.name) && !others.has(p.name) ? [i] : [],
  );
  return { params, inits };
}

/**
 * The error-building helpers declared at the top of a module, by name. Read when the module is entered:
 * Stryker rewrites each function with its mutants on the way out, after which its body is no longer plain.
 */
const helpersOfModule = new WeakMap();
/** The `const` values inside such helpers (all of a module's), message text whatever their mutant. */
const messageInits = new WeakSet();
function scanHelpers(program) {
  const helpers = new Map();
  for (const statement of program.body) {
    const decl = statement.type.startsWith('Export') ? statement.declaration : statement;
    const fns =
      decl?.type === 'FunctionDeclaration'
        ? [[decl.id?.name, decl]]
        : decl?.type === 'VariableDeclaration'
          ? decl.declarations.map((d) => [d.id.name, d.init])
          : [];
    for (const [name, fn] of fns) {
      const parts = messageParts(fn);
      if (!name || !parts) continue;
      if (parts.params.length) helpers.set(name, parts.params);
      for (const init of parts.inits) messageInits.add(init);
    }
  }
  return helpers;
}

/** The indexes of the message parameters of the local helper that `callPath` calls, if it is one. */
function helperMessageParams(callPath) {
  const callee = callPath.node.callee;
  if (callee.type !== 'Identifier') return undefined;
  const program = callPath.findParent((p) => p.isProgram());
  return program && helpersOfModule.get(program.node)?.get(callee.name);
}

/** `super(message)` in the constructor of an error class: the message index of the class it extends. */
function superMessageIndex(callPath) {
  const cls = callPath.findParent((p) => p.isClass());
  const base = cls?.node.superClass;
  return base?.type === 'Identifier' ? MESSAGE_ARGUMENT.get(base.name) : undefined;
}

const errorText = {
  /**
   * The message of a thrown error: clients act on the code and the status (S3's documented contract), the
   * message is for people reading it, so changing its words changes no behaviour a test should pin. Also the
   * message given to a local helper that only builds such an error.
   */
  shouldIgnore(path) {
    if (path.isProgram()) helpersOfModule.set(path.node, scanHelpers(path.node));
    const reason = 'error message text: clients act on the error code and status, not on the words';
    if (messageInits.has(path.node)) return reason;
    const parent = path.parentPath;
    if (!parent || path.listKey !== 'arguments') return undefined;
    const index = !parent.isCallExpression()
      ? messageIndex(parent.node)
      : parent.node.callee.type === 'Super'
        ? superMessageIndex(parent)
        : messageIndex(parent.node);
    const helper = index === undefined && parent.isCallExpression() ? helperMessageParams(parent) : undefined;
    if (index === path.key || helper?.includes(path.key)) return reason;
    return undefined;
  },
};

/** Source text with runs of whitespace made one space, so entries may be written on one line. */
export const normalize = (code) => code.replace(/\s+/g, ' ').trim();

// Entries naming one replacement are applied by mutation/run.mjs after the run: an ignorer sees code, not mutants.
const byFile = new Map();
for (const e of EQUIVALENT.filter((x) => x.replacement === undefined))
  byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);

/** Whether the node is `e.code`, inside `e.within` when the entry narrows it so. */
function matches(path, e, source) {
  if (normalize(e.code) !== source) return false;
  if (e.within === undefined) return true;
  for (let p = path.parentPath; p; p = p.parentPath) if (normalize(p.getSource()) === normalize(e.within)) return true;
  return false;
}

const equivalent = {
  /** The code listed in mutation/equivalent.mjs, each with its reason. */
  shouldIgnore(path) {
    const filename = path.hub?.file?.opts?.filename;
    if (!filename || path.node.start == null) return undefined;
    const entries = byFile.get(isAbsolute(filename) ? relative(ROOT, filename) : filename);
    if (!entries) return undefined;
    const source = normalize(path.getSource());
    const hit = entries.find((e) => matches(path, e, source));
    return hit && `equivalent: ${hit.reason}`;
  },
};

/** The offset in `text` of a report position (line and column from 1). */
function offsetOf(text, pos) {
  let at = 0;
  for (let l = 1; l < pos.line; l++) at = text.indexOf('\n', at) + 1;
  return at + pos.column - 1;
}
/** A pattern of the code whatever its runs of whitespace. */
const loosely = (code) =>
  new RegExp(
    normalize(code)
      .split(' ')
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s+'),
    'g',
  );

/** The entry of mutation/equivalent.mjs that names this one mutant (its code, its replacement), if any. */
function listedMutant(entries, file, source, mu) {
  const start = offsetOf(source, mu.location.start);
  const end = offsetOf(source, mu.location.end);
  const code = normalize(source.slice(start, end));
  return entries.find(
    (e) =>
      e.file === file &&
      normalize(e.code) === code &&
      normalize(e.replacement) === normalize(mu.replacement ?? '') &&
      (e.within === undefined ||
        [...source.matchAll(loosely(e.within))].some((m) => m.index <= start && end <= m.index + m[0].length)),
  );
}

/**
 * Marks Ignored the surviving mutants of a Stryker report's files (each with its `file` path from the root)
 * that mutation/equivalent.mjs names one by one (entries with `replacement`); returns those it names that a
 * test detected (the listing is wrong, or the code changed).
 */
export function applyListedMutants(files, entries = EQUIVALENT) {
  entries = entries.filter((e) => e.replacement !== undefined);
  const detected = [];
  for (const f of files) {
    for (const mu of f.mutants) {
      const e = listedMutant(entries, f.file, f.source, mu);
      if (!e) continue;
      if (mu.status === 'Survived') {
        mu.status = 'Ignored';
        mu.statusReason = `equivalent: ${e.reason}`;
      } else if (mu.status === 'Killed' || mu.status === 'Timeout') {
        detected.push(`${f.file}:${mu.location.start.line}:${mu.location.start.column} ${e.code} -> ${e.replacement}`);
      }
    }
  }
  return detected;
}

export const strykerPlugins = [
  { kind: 'Ignore', name: 'error-text', value: errorText },
  { kind: 'Ignore', name: 'equivalent', value: equivalent },
];
