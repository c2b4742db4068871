/**
 * Who is logged in, and which registry approver entry that identity is. The approver string sent
 * to the workflow is the registry's own spelling of the entry that matched, so the workflow's
 * `approvers.includes(approver)` check sees exactly what the registry says.
 */

export type Identity =
  { kind: 'account'; id: string; name: string } | { kind: 'oidc'; sub: string; email?: string; name?: string };

/** The names this identity goes by in the registry's `approvers`. */
export function approverNames(identity: Identity): string[] {
  if (identity.kind === 'account') return [identity.id];
  return [`oidc:${identity.sub}`, ...(identity.email ? [identity.email] : [])];
}

/** How the page names the logged-in person. */
export function displayName(identity: Identity): string {
  if (identity.kind === 'account') return `${identity.name} (${identity.id})`;
  const who = identity.name ?? identity.email ?? identity.sub;
  return identity.email && identity.email !== who ? `${who} <${identity.email}>` : who;
}

/**
 * The registry entry (its exact text) under which `identity` may decide, or undefined. Account
 * ids and OIDC subjects match exactly; e-mail addresses case-insensitively.
 */
export function approverEntryFor(identity: Identity, approvers: readonly string[] | undefined): string | undefined {
  if (!approvers) return undefined;
  const names = approverNames(identity);
  return approvers.find((entry) => {
    const trimmed = entry.trim();
    if (trimmed.includes('@') && !trimmed.startsWith('oidc:')) {
      return identity.kind === 'oidc' && identity.email?.toLowerCase() === trimmed.toLowerCase();
    }
    return names.includes(trimmed);
  });
}
