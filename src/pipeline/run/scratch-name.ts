/**
 * A model, input or table name as it may stand in a scratch file name: anything but letters, digits, `_`, `.` and
 * `-` becomes `_`.
 */
export function scratchName(s: string): string {
  return s.replace(/[^\w.-]+/g, '_')
}
