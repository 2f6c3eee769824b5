// What the access token says of the session, read by the client: the account's id and its active
// organization. The API checks every token's signature; the client only reads the payload it was
// given, for display and for its own requests, never to decide what the account may do.
import { fromBase64url } from "./routes/passkeys.ts";
import type * as T from "./types.ts";

/** The payload of an access token (a JWT), or null for a token that is not one. */
export function accessClaims(token: string): T.AccessClaims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    return JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as T.AccessClaims;
  } catch {
    return null;
  }
}

/** The session's active organization, as the access token carries it; null when none is active. */
export function organizationClaims(token: string): T.OrganizationClaims | null {
  const claims = accessClaims(token);
  if (!claims?.org_id || !claims.org_role) return null;
  return { org_id: claims.org_id, org_role: claims.org_role, org_permissions: claims.org_permissions ?? [] };
}
