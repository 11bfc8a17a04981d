// Durations as MinIO's Go-style settings write them (`24h`, `1h30m`, `90s`), shared by the CLI's settings and
// the notification targets' (MQTT keep-alive, NATS ping interval).

/** A duration such as `24h`, `1h30m` or `90s`: milliseconds, or undefined when it is not one. */
export function parseDuration(v: string): number | undefined {
  const m = /^(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,8})s)?$/.exec(v);
  if (!m || v === '') return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}
