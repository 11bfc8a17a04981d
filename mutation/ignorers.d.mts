// The shape of what mutation/ignorers.mjs exports besides its plugins, for test/mutation-run.test.ts.
interface Position {
  line: number;
  column: number;
}
export interface ReportMutant {
  location: { start: Position; end: Position };
  replacement?: string;
  status: string;
  statusReason?: string;
}
export interface EquivalentEntry {
  file: string;
  code: string;
  within?: string;
  replacement?: string;
  reason: string;
}
export declare function normalize(code: string): string;
export declare function applyListedMutants(
  files: { file: string; source: string; mutants: ReportMutant[] }[],
  entries?: EquivalentEntry[],
): string[];
