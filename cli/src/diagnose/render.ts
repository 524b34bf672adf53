import type { Finding } from './rules.js';

const LABEL = { problem: 'PROBLEM', warning: 'WARNING', ok: 'OK' } as const;

/** The human report: one block per finding, severity first, the fix indented under it. */
export function renderFindings(header: string, findings: Finding[]): string {
  const lines = [header, ''];
  for (const f of findings) {
    lines.push(`${LABEL[f.severity].padEnd(8)} ${f.sentence}`);
    if (f.fix) lines.push(`${' '.repeat(8)} fix: ${f.fix}`);
    lines.push('');
  }
  const problems = findings.filter((f) => f.severity === 'problem').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  lines.push(
    problems > 0
      ? `${problems} problem(s), ${warnings} warning(s).`
      : `No problem found${warnings > 0 ? ` (${warnings} warning(s))` : ''}.`,
  );
  return lines.join('\n');
}

/** A database URL fit to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}
