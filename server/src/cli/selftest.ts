// `cairn selftest`: the native kernels' known-answer tests, one line per kernel. Exit status 1 when any
// kernel gives a wrong answer (the same check the server runs before it starts).
import { runSelfTest, type SelfTestReport } from '@cairn/native';

/** Prints the report of `run` (the native self-test) to `out`; returns the exit status. */
export function selftest(out: NodeJS.WritableStream = process.stdout, run: () => SelfTestReport = runSelfTest): number {
  const report = run();
  for (const r of report.results) {
    const status = r.ok ? 'ok  ' : 'FAIL';
    out.write(`${status} ${r.kernel.padEnd(24)} ${r.ms.toFixed(2).padStart(7)} ms${r.detail ? `  ${r.detail}` : ''}\n`);
  }
  const failed = report.results.filter((r) => !r.ok).length;
  out.write(
    report.ok ? `selftest: all ${report.results.length} kernels ok\n` : `selftest: ${failed} kernel(s) FAILED\n`,
  );
  return report.ok ? 0 : 1;
}
