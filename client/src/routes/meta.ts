// What the API says about itself.
import type { Context } from "../context.ts";
import type * as T from "../types.ts";
import { ROUTES } from "./table.ts";

export function metaRoutes({ http }: Context) {
  return {
    /** `GET /health` */
    health: () => http.call<T.Health>(ROUTES.health),
    /** `GET /.well-known/jwks.json`: the public keys of access tokens. */
    jwks: () => http.call<T.Jwks>(ROUTES.jwks),
    /** `GET /openapi.json`: the API's OpenAPI 3.1 document. */
    openapi: () => http.call<{ openapi: string; paths: Record<string, unknown> }>(ROUTES.openapi),
  };
}
