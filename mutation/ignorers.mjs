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

/**
 * The index of the parameter that becomes (part of) the message, when `fn` only builds (or throws) an error from
 * it, as `const invalid = (msg) => new S3Error('X', msg)`; else undefined.
 */
function messageParam(fn) {
  if (!fn || !['FunctionDeclaration', 'ArrowFunctionExpression', 'FunctionExpression'].includes(fn.type)) return;
  let built = fn.body;
  if (built.type === 'BlockStatement') {
    const only = built.body.length === 1 ? built.body[0] : undefined;
    built = only?.type === 'ReturnStatement' || only?.type === 'ThrowStatement' ? only.argument : undefined;
  }
  const index = messageIndex(built);
  const message = index === undefined ? undefined : built.arguments[index];
  if (!message) return undefined;
  const names = message.type === 'TemplateLiteral' ? message.expressions : [message];
  const param = fn.params.findIndex((p) => p.type === 'Identifier' && names.some((n) => n.name === p.name));
  return param < 0 ? undefined : param;
}

/**
 * The error-building helpers declared at the top of a module, by name. Read when the module is entered:
 * Stryker rewrites each function with its mutants on the way out, after which its body is no longer plain.
 */
const helpersOfModule = new WeakMap();
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
      const index = messageParam(fn);
      if (name && index !== undefined) helpers.set(name, index);
    }
  }
  return helpers;
}

function helperMessageParam(callPath) {
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
    const parent = path.parentPath;
    if (!parent || path.listKey !== 'arguments') return undefined;
    const index = !parent.isCallExpression()
      ? messageIndex(parent.node)
      : parent.node.callee.type === 'Super'
        ? superMessageIndex(parent)
        : (messageIndex(parent.node) ?? helperMessageParam(parent));
    if (index === undefined || path.key !== index) return undefined;
    return 'error message text: clients act on the error code and status, not on the words';
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
