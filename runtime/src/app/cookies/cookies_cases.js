// Regenerate: node cookies_cases.js <app>/node_modules/next/dist/compiled/@edge-runtime/cookies 150 5 > cookies_cases.json
// (Next 16.4.6 on Node 20.)
// Records Next 16.4.6's @edge-runtime/cookies: RequestCookies on random Cookie headers and
// ResponseCookies on random set/delete sequences (Date.now fixed, so Expires is stable).
// Usage: node cookie_cases.js <path to next/dist/compiled/@edge-runtime/cookies> N SEED
const { RequestCookies, ResponseCookies } = require(process.argv[2]);
const n = Number(process.argv[3] || 200); let seed = Number(process.argv[4] || 1);
const rnd = k => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % k; };
const pick = a => a[rnd(a.length)];
Date.now = () => 1796407131000;
const bits = ['a', 'b', 'c', '=', ';', ' ', '  ', '%20', '%', '%E2%9C%93', '%ZZ', '"', '\t', 'é', 'x=y', ''];
const requests = [];
for (let i = 0; i < n; i++) {
  let header = ''; const len = rnd(8);
  for (let j = 0; j < len; j++) header += pick(bits);
  const h = new Headers({ cookie: header });
  requests.push({ header: h.get("cookie") ?? "", cookies: new RequestCookies(h).getAll() });
}
const responses = [];
for (let i = 0; i < n; i++) {
  const headers = new Headers(); const jar = new ResponseCookies(headers); const ops = [];
  const count = 1 + rnd(4);
  for (let j = 0; j < count; j++) {
    const name = pick(['a', 'b', 'sess']);
    if (rnd(5) === 0) {
      const op = rnd(2) ? { op: 'delete', name } : { op: 'delete', name, path: pick([undefined, '/api']), domain: pick([undefined, 'e.com']) };
      ops.push(op); op.path === undefined && op.domain === undefined ? jar.delete(name) : jar.delete({ name, path: op.path, domain: op.domain });
      continue;
    }
    const value = pick(['1', 'dark mode;1', '', 'é✓', "a'b(c)*!~"]);
    const o = {};
    if (rnd(2)) o.maxAge = pick([0, 60, -5, 3600]);
    if (rnd(3) === 0) o.domain = pick(['example.com', '']);
    if (rnd(2)) o.path = pick(['/', '/api', '']);
    if (rnd(3) === 0) o.expires = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    if (rnd(2)) o.httpOnly = true;
    if (rnd(2)) o.secure = true;
    if (rnd(2)) o.sameSite = pick(['strict', 'lax', 'none']);
    if (rnd(3) === 0) o.partitioned = true;
    if (rnd(3) === 0) o.priority = pick(['low', 'medium', 'high']);
    jar.set(name, value, o);
    ops.push({ op: 'set', name, value, ...o, expires: o.expires && o.expires.toUTCString() });
  }
  responses.push({ ops, lines: headers.getSetCookie() });
}
process.stdout.write(JSON.stringify({ requests, responses }));
