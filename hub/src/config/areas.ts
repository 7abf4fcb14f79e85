/**
 * Areas: `*` (the whole system), a 2-digit province code or a 5-digit commune code (GSO). Users'
 * scopes, alert consumers and notification routes all name areas this way.
 */
export const ALL_AREAS = '*';
export const AREA_PATTERN = '^(\\*|[0-9]{2}|[0-9]{5})$';
