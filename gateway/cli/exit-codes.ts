/**
 * Process exit codes, from BSD sysexits.h so systemd units and scripts can tell "fix the config"
 * (78: do not restart) from "crashed" (70) and "bad invocation" (64).
 */
export const EXIT_OK = 0
/** EX_USAGE: unknown command or option, missing argument. */
export const EXIT_USAGE = 64
/** EX_SOFTWARE: an unexpected internal error. */
export const EXIT_SOFTWARE = 70
/** EX_CONFIG: the config file is missing, unreadable or invalid. */
export const EXIT_CONFIG = 78
