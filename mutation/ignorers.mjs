// Stryker ignore-plugins of mutation runs (mutation/run.mjs). Each skips one kind of mutant that no test
// should have to kill, and says why in the report (the mutant shows as Ignored with this reason).

/** Error classes whose message argument (0-based index) is text for people. */
const MESSAGE_ARGUMENT = new Map([
  ['S3Error', 1],
  ['SelectError', 1],
  ['CorruptMetaError', 0],
  ['Error', 0],
  ['TypeError', 0],
  ['RangeError', 0],
]);

const errorText = {
  /**
   * The message of a thrown error: clients act on the code and the status (S3's documented contract), the
   * message is for people reading it, so changing its words changes no behaviour a test should pin.
   */
  shouldIgnore(path) {
    const parent = path.parentPath;
    if (!parent || path.listKey !== 'arguments') return undefined;
    if (!parent.isNewExpression() || parent.node.callee.type !== 'Identifier') return undefined;
    const index = MESSAGE_ARGUMENT.get(parent.node.callee.name);
    if (index === undefined || path.key !== index) return undefined;
    return 'error message text: clients act on the error code and status, not on the words';
  },
};

export const strykerPlugins = [{ kind: 'Ignore', name: 'error-text', value: errorText }];
