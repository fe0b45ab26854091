// Hides the password in a URL before it is logged, stored or shown.

/** The URL with its password replaced by `***`, or undefined when it does not parse. */
export function redactPassword(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return undefined;
  }
}
