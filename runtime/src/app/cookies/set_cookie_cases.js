// Regenerate: node set_cookie_cases.js <app>/node_modules/next/dist/compiled/@edge-runtime/cookies 150 3 > set_cookie_cases.json
// Records how Next 16.4.6's ResponseCookies reads a response's existing Set-Cookie headers:
// each case's lines go in, one `set('zz', '1')` makes it rewrite them all, the lines come out.
// Usage: node set_cookie_cases.js <path to @edge-runtime/cookies> N SEED
const { ResponseCookies } = require(process.argv[2]);
const n = Number(process.argv[3] || 200); let seed = Number(process.argv[4] || 1);
const rnd = k => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % k; };
const pick = a => a[rnd(a.length)];
Date.now = () => 1796407131000;
const first = ['a=1', 'b=hello%20world', 'c=%2541', 'flag', 'd=x=y', 'e="q"', 'f=', 's=dark%20mode%3B1'];
const attrs = ['Path=/', 'path=/api', 'Path=', 'Domain=example.com', 'domain=', 'Max-Age=60', 'max-age=0', 'Max-Age=abc', 'Max-Age=-5', 'Max-Age=',
  'Expires=Wed, 02 Jan 2030 03:04:05 GMT', 'expires=Thu, 01 Jan 1970 00:00:00 GMT', 'HttpOnly', 'httponly', 'HttpOnly=', 'Secure', 'secure=1',
  'SameSite=Lax', 'samesite=STRICT', 'SameSite=none', 'SameSite=weird', 'Partitioned', 'Priority=High', 'priority=low', 'Priority=urgent', 'X-Other=1'];
const cases = [];
while (cases.length < n) {
  const lines = [];
  const count = 1 + rnd(3);
  for (let i = 0; i < count; i++) {
    const parts = [pick(first)];
    const k = rnd(5);
    for (let j = 0; j < k; j++) parts.push(pick(attrs));
    lines.push(parts.join(pick(['; ', ';'])));
  }
  const headers = new Headers();
  for (const l of lines) headers.append('set-cookie', l);
  try {
    const jar = new ResponseCookies(headers);
    jar.set('zz', '1');
    cases.push({ lines, result: headers.getSetCookie() });
  } catch (e) { /* a line Next's constructor throws on: not recorded */ }
}
process.stdout.write(JSON.stringify(cases));
