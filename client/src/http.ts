// One request to the API: JSON in, JSON out, error answers thrown as ApiError classes.
import { apiError, NetworkError, type ErrorBody } from "./errors.ts";
import type { Route } from "./routes/table.ts";

export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export interface CallOptions {
  /** The bearer token, for routes that take one. */
  token?: string | null;
  /** The value of the path's first placeholder: its `{id}` (or `{provider}`). */
  id?: string;
  /** The values of the path's other placeholders, by name (`{user_id}`, `{team_id}`, …). */
  params?: Record<string, string | number>;
  /** The query string's parameters. */
  query?: Record<string, string>;
  signal?: AbortSignal;
}

export class Http {
  readonly baseUrl: string;
  readonly #fetch: FetchLike;
  /**
   * The newest D1 bookmark the API answered with: sent on authenticated calls, it keeps this
   * client's reads on replicas at least as fresh as its own last write (read replication).
   */
  bookmark: string | null = null;

  constructor(baseUrl: string, fetchImpl: FetchLike) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#fetch = fetchImpl;
  }

  /** Calls a route; resolves to the answer's JSON body, throws ApiError or NetworkError. */
  async call<A, B = never>(route: Route<B>, body?: B, options: CallOptions = {}): Promise<A> {
    let path = route.path;
    if (options.id !== undefined) path = path.replace(/\{\w+\}/, encodeURIComponent(options.id));
    for (const [name, value] of Object.entries(options.params ?? {})) path = path.replace(`{${name}}`, encodeURIComponent(value));
    const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (options.token) {
      headers.Authorization = `Bearer ${options.token}`;
      // Only where a preflight happens anyway (the bearer): a public GET stays a simple request.
      if (this.bookmark) headers["X-D1-Bookmark"] = this.bookmark;
    }
    let response: Response;
    try {
      response = await this.#fetch(`${this.baseUrl}${path}${query}`, {
        method: route.method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        ...(options.signal && { signal: options.signal }),
      });
    } catch (cause) {
      if ((cause as Error)?.name === "AbortError") throw cause;
      throw new NetworkError(`${route.method} ${path}: no answer (${(cause as Error)?.message ?? cause})`, { cause });
    }
    const bookmark = response.headers.get("X-D1-Bookmark");
    if (bookmark) this.bookmark = bookmark;
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch (cause) {
      throw new NetworkError(`${route.method} ${path}: ${response.status} without a JSON body`, { cause });
    }
    if (!response.ok) throw apiError(response.status, parsed as ErrorBody, response.headers);
    return parsed as A;
  }
}
