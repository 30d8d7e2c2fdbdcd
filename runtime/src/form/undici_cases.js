// Regenerate: node undici_cases.js 250 3 > undici_cases.json  (Node 20: undici 6.24, as Next 16 runs)
// Records undici's formData() (Node 20) on handwritten and mutated form bodies.
const n = Number(process.argv[2] || 300); let seed = Number(process.argv[3] || 1);
const rnd = k => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % k; };
const B = 'XyZ';
const part = (h, d) => `--${B}\r\n${h}\r\n\r\n${d}\r\n`;
const base = part('Content-Disposition: form-data; name="title"', 'hello') +
  part('Content-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: Text/Plain; Charset=UTF-8', 'abc') +
  part('Content-Disposition: form-data; name="g"; filename="b.bin"', 'xyz') + `--${B}--`;
const mp = `multipart/form-data; boundary=${B}`;
const cases = [
  [mp, base], [mp, base + '\r\n'], [mp, '\r\n' + base], [mp, 'pre\r\n' + base], [mp, base + 'post'], [mp, base + '\r\npost'],
  [mp, `--${B}--`], [mp, ''], [mp, `--${B}\r\n\r\nx\r\n--${B}--`],
  [mp, part('Content-Disposition: form-data; name=title', 'x') + `--${B}--`],
  [mp, part('content-disposition: form-data; name="a"', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data;name="a"', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"; filename=b.txt', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"; filename*="b.txt"', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a%22b"', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="é"; filename="ü.txt"', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"\r\nX-Other: 1', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64', 'aGk=') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"; filename="x"\r\nContent-Type: ', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: attachment; name="a"', 'x') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"', 'x\r\n--XyZx') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"', '') + `--${B}--`],
  [mp, part('Content-Disposition: form-data; name="a"', 'x') + `--${B}-- \r\n`],
  [mp, `--${B}\nContent-Disposition: form-data; name="a"\n\nx\n--${B}--`],
  [`multipart/form-data; boundary="${B}"`, base], [`multipart/form-data`, base], [`Multipart/Form-Data; BOUNDARY=${B}`, base],
  [`multipart/form-data; boundary=${B}, text/plain`, base], [`multipart/mixed; boundary=${B}`, base],
  ['application/x-www-form-urlencoded', 'a=1&b=%zz&c=+&&d'], ['application/x-www-form-urlencoded;charset=latin1', 'a=%E9'],
  ['application/x-www-form-urlencoded', '?x=1'], ['application/x-www-form-urlencoded', '\ufeffa=1'], ['text/plain', 'a=1'], [null, 'a=1'],
];
const palette = ['\r\n', 'filename*="', '; filename="', 'Content-Type: a\r\n', 'Content-Transfer-Encoding: base64\r\n', '%22', '%0a', '\u00ff', '\t', '\r', '\n', '-', '--', '"', ';', ' ', 'name=', B, 'x', '\u00e9', ':'];
while (cases.length < n) {
  let s = base; const ops = 1 + rnd(2);
  for (let i = 0; i < ops; i++) {
    const at = rnd(s.length + 1);
    switch (rnd(3)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1 + rnd(3)); break;
      case 1: s = s.slice(0, at) + palette[rnd(palette.length)] + s.slice(at); break;
      case 2: s = s.slice(0, at); break;
    }
  }
  cases.push([mp, s]);
}
(async () => {
  const out = [];
  for (const [ct, text] of cases) {
    const body = Buffer.from(text, 'utf8');
    const headers = ct === null ? {} : { 'content-type': ct };
    let result;
    try {
      const fd = await new Response(body, { headers }).formData();
      const entries = [];
      for (const [k, v] of fd.entries()) entries.push(typeof v === 'string' ? { name: k, value: v } : { name: k, file: { name: v.name, type: v.type, bytes: Buffer.from(await v.arrayBuffer()).toString('base64') } });
      result = { entries };
    } catch (e) { result = { error: e.message }; }
    out.push({ content_type: ct, body: text, ...result });
  }
  process.stdout.write(JSON.stringify(out, null, 0));
})();
