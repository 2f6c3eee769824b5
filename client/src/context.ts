// What every route group is given: the HTTP layer and the tab's session.
import type { Http } from "./http.ts";
import type { Session } from "./session.ts";

export interface Context {
  http: Http;
  session: Session;
}
