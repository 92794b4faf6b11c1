/**
 * Runs a clean-up step, retrying a transient failure twice, and reports a final failure instead of throwing.
 */
export async function bestEffort(
  step: () => Promise<unknown>,
  report: (message: string) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await step()
      return
    } catch (e) {
      if (attempt >= 3) {
        report(e instanceof Error ? e.message : String(e))
        return
      }
    }
  }
}
