// Where a JSON text stops being JSON, for error messages that point at the mistake (a policy document that does
// not parse is refused "at line L, column C"). V8's JSON.parse says so for some errors only, and quotes the
// input in others; this scanner finds the offset of the first error itself. Iterative (an explicit stack),
// linear, and only run on text that already failed to parse.

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Offset of the first character that makes `text` invalid JSON (text.length when it ends too early). */
export function jsonErrorOffset(text: string): number {
  // Each frame: what the container expects next.
  type Expect = 'value' | 'key' | 'colon' | 'comma-or-end' | 'first-key-or-end' | 'first-value-or-end';
  const stack: { array: boolean; expect: Expect }[] = [];
  let i = 0;
  let done = false;
  const skip = () => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const match = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  const valueDone = () => {
    if (stack.length === 0) done = true;
    else stack[stack.length - 1].expect = 'comma-or-end';
  };
  for (;;) {
    skip();
    if (done) return i < text.length ? i : -1;
    if (i >= text.length) return text.length;
    const top = stack[stack.length - 1];
    const c = text[i];
    const want = top?.expect ?? 'value';
    if (want === 'colon') {
      if (c !== ':') return i;
      i++;
      top.expect = 'value';
      continue;
    }
    if (want === 'comma-or-end') {
      if (c === ',') {
        i++;
        top.expect = top.array ? 'value' : 'key';
      } else if (c === (top.array ? ']' : '}')) {
        i++;
        stack.pop();
        valueDone();
      } else return i;
      continue;
    }
    if ((want === 'first-key-or-end' && c === '}') || (want === 'first-value-or-end' && c === ']')) {
      i++;
      stack.pop();
      valueDone();
      continue;
    }
    if (want === 'key' || want === 'first-key-or-end') {
      if (c !== '"' || !match(STRING)) return i;
      top.expect = 'colon';
      continue;
    }
    // A value.
    if (c === '{' || c === '[') {
      i++;
      stack.push({ array: c === '[', expect: c === '[' ? 'first-value-or-end' : 'first-key-or-end' });
      continue;
    }
    if (c === '"' ? match(STRING) : match(NUMBER)) {
      valueDone();
      continue;
    }
    const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
    if (!word) return i;
    i += word.length;
    valueDone();
  }
}

/** "line L, column C" (1-based) of an offset. */
export function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return `line ${line}, column ${offset - start + 1}`;
}
