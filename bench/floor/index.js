// Answers what GET /health answers, with no work at all.
export default {
  async fetch() {
    return new Response('{"status":"ok"}', { headers: { "Content-Type": "application/json" } });
  },
};
