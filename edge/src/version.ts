/** Reported in the gateway's status message; bumped with the package version. */
export const VERSION = '0.1.0';
