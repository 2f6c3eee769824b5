// The D1 bookmark: the newest one the API answered with goes back on authenticated calls (so a
// read on a replica is never older than this client's own last write), never on public ones
// (a public GET stays a simple request, without a preflight).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Http } from "../src/http.ts";
import { ROUTES } from "../src/routes/table.ts";

test("the newest bookmark goes back on authenticated calls only", async () => {
  const sent: Headers[] = [];
  const answers = ["00000000-00000002", null, "00000000-00000005"];
  const http = new Http("https://auth.example", async (_input, init) => {
    sent.push(new Headers(init?.headers));
    const bookmark = answers.shift();
    return new Response("{}", { status: 200, headers: { "Content-Type": "application/json", ...(bookmark && { "X-D1-Bookmark": bookmark }) } });
  });
  await http.call(ROUTES.updateProfile, { name: "A" }, { token: "t1" });
  await http.call(ROUTES.me, undefined, { token: "t1" });
  await http.call(ROUTES.health);
  await http.call(ROUTES.me, undefined, { token: "t1" });
  assert.deepEqual(sent.map((h) => h.get("X-D1-Bookmark")), [null, "00000000-00000002", null, "00000000-00000005"]);
});
