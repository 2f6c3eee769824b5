// An MCP server on Cloudflare Workers whose tools need an access token from edge-auth: the
// official MCP SDK's server over Streamable HTTP, stateless, behind the resource check of auth.js.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";
import { protectedResource } from "./auth.js";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const resource = protectedResource(env, url.origin);
    if (resource.servesMetadataAt(url.pathname)) return Response.json(resource.metadata());
    if (url.pathname !== "/mcp") return new Response("Not found", { status: 404 });

    const authInfo = await resource.authenticate(request);
    if (authInfo instanceof Response) return authInfo;
    // Stateless: no session to resume and nothing to stream on GET, which the transport lets a
    // server refuse with 405.
    if (request.method !== "POST") return new Response(null, { status: 405, headers: { Allow: "POST" } });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await mcpServer().connect(transport);
    return transport.handleRequest(request, { authInfo });
  },
};

/** The MCP server and its tools, new for each request: a stateless transport serves one. */
function mcpServer() {
  const server = new McpServer({ name: "edge-auth-example", version: "1.0.0" });
  server.registerTool(
    "whoami",
    { description: "Who the access token speaks for: its subject, client and scopes" },
    ({ authInfo }) => answer({ sub: authInfo.extra.sub, client_id: authInfo.clientId, scope: authInfo.scopes.join(" ") }),
  );
  server.registerTool(
    "add",
    { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } },
    ({ a, b }) => answer({ sum: a + b }),
  );
  return server;
}

/** A tool's result: `value` as JSON in one text item. */
function answer(value) {
  return { content: [{ type: "text", text: JSON.stringify(value) }] };
}
