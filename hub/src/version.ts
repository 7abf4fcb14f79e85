/** Reported by /api/v1/health; bumped with the package version. */
export const VERSION = '0.1.0';
