/**
 * An error the user can fix (a bad configuration, a refused operation, a
 * missing tool): commands print its message and exit 1, without a stack trace.
 */
export class UserError extends Error {}
