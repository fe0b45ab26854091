// Postgres keeps no U+0000 in text or jsonb, and jsonb refuses an unpaired UTF-16 surrogate too (JSON.stringify
// writes both as \u escapes). A client string that reaches a table is checked at the door: let through, one such
// value would fail the whole prediction-log batch it lands in.

/** True when `s` can be stored in Postgres text or jsonb as it is. */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\0');
}

/** What a refused string must be, for validation messages ("... must be " + this). */
export const STORABLE_TEXT = 'a string without U+0000 or unpaired UTF-16 surrogates';
