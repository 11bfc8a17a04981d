// The shape of mutation/modules.mjs, for the TypeScript tests that read it (test/mutation-run.test.ts).
export interface MutationModule {
  name: string;
  about: string;
  mutate: (string | { file: string; functions: string[] })[];
  tests: string[];
  slow?: string[];
}

export declare const MODULES: MutationModule[];
