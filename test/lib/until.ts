/**
 * The one polling helper of the tests: waits for state that arrives asynchronously (a reading
 * stored, a process listening, a log line written) without timing assertions. `fn` may throw
 * while the state is not there yet (a port not open, a file not written); the last value or error
 * is named when the wait times out.
 */
export async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 30_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
