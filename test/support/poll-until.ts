/**
 * Polls until `check` gives a value (anything but undefined or false) and returns it. The
 * timeout only guards against a hang: tests wait for a state, never assert on time. `detail`
 * adds what helps explain a hang (a child's log) to the timeout's message.
 */
export async function pollUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = options.detail?.();
      throw new Error(`timed out waiting for ${what}${detail ? `:\n${detail}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
