// A bound on the nesting of parsed JSON documents that come from clients (bucket policies, POST policies),
// checked without recursion before anything walks them: JSON.parse itself is iterative in V8, but
// String(), JSON.stringify and recursive walks over a value nested thousands deep overflow the stack.

/** Is every array and object in `root` at most `max` levels deep (root = level 1)? */
export function jsonDepthWithin(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return true;
}
