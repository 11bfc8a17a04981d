// What the notification and replication senders tell of their queues beside the counts (metrics, the admin
// API's queue listing): the lag as a time, and the last failed attempt.

/** An error kept for the status at most this long (the rest cut). */
export const ERROR_MAX = 300;

/** A failed attempt's error as the status keeps it. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, ERROR_MAX);

/** The optional fields of a queue's status, present only when known. */
export function lagFields(
  oldestAt: number | undefined,
  lastError: string | undefined,
  lastErrorAt: number | undefined,
): { oldestAt?: number; lastError?: string; lastErrorAt?: number } {
  return {
    ...(oldestAt !== undefined ? { oldestAt } : {}),
    ...(lastError !== undefined ? { lastError, lastErrorAt } : {}),
  };
}
