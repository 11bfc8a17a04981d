// S3 Select engine: public entry point. Filled in by the S3 Select work (issue 5).
export const SELECT_ENGINE_VERSION = '0.1.0';
