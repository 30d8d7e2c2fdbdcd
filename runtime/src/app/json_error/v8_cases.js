// Regenerate: node v8_cases.js 600 7 > v8_cases.json  (Node 20: V8 11.3, as Next 16 runs)
// Generates [text, message-or-null] pairs from this Node's JSON.parse (V8).
const n = Number(process.argv[2] || 400), seed0 = Number(process.argv[3] || 1);
let seed = seed0;
const rnd = k => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % k; };
const samples = ['{"a":1,"b":[true,null],"s":"é"}', '[1,-2.5e+3,0,"x\\n\\u0041"]', '{"user":{"name":"Ada","tags":["a","b"],"age":36}}',
  '"just a string"', '42', '-0.1E-2', 'true', 'false', 'null', '{}', '[]', '[[[]]]', '{"😀":"😀 emoji"}',
  '{"long":"' + 'x'.repeat(40) + '","n":123456789012}', ' \t\r\n{ "sp" : [ 1 , 2 ] } \n'];
const palette = ['}', ']', '{', '[', ',', ':', '"', '\\', 'u', '0', '1', '-', '+', '.', 'e', 'E', 't', 'r', 'n', 'x', ' ', '\n', '\t', '\u0001', 'é', '😀', '\u2028', "'", 'N'];
const out = [];
const add = s => { if (!s.isWellFormed()) return; let m = null; try { JSON.parse(s) } catch (e) { m = e.message.toWellFormed() } out.push([s, m]); };
const fixed = ["", " ", "{", "[", "{\"a\":1", "\"abc", "[1", "{\"a\":Invalid}", "not json", "{\"a\":1}x", "tru", "-", "1.", "1e", "[1,]",
  "{\"a\" 1}", "{a:1}", "\"\\x\"", "\"\\u12G4\"", "\"a\nb\"", "undefined", "NaN", "Infinity", "[object Object]", "012", "-01", "[1 2]", "{,}",
  "{\"a\":1,}", "nul", "truex", "\"\\", "\"\\u", "\"\\uG\"", "\"\\u1\"", "0x", "tr1", "tr\"", "trux", "[tru]", "😀x", "é", "\"\\u0041",
  "{\"aaaaaaaaaaaaaaaaaaaaaa\": x}", "x" + " ".repeat(19), "x" + " ".repeat(20), " ".repeat(9) + "x" + " ".repeat(20),
  " ".repeat(10) + "x" + " ".repeat(20), " ".repeat(20) + "x" + " ".repeat(10), " ".repeat(21) + "x" + " ".repeat(9),
  " ".repeat(12) + "😀" + " ".repeat(20), "[" + "[".repeat(5000) + "]".repeat(5000) + "]", "[".repeat(3000), '{"a":[1,{"b":}]}'];
fixed.forEach(add);
while (out.length < n) {
  let s = samples[rnd(samples.length)];
  const ops = 1 + rnd(3);
  for (let i = 0; i < ops; i++) {
    const at = rnd(s.length + 1);
    switch (rnd(4)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1); break;
      case 1: s = s.slice(0, at) + palette[rnd(palette.length)] + s.slice(at); break;
      case 2: s = s.slice(0, at); break;
      case 3: s = s.slice(0, at) + palette[rnd(palette.length)] + s.slice(at + 1); break;
    }
  }
  add(s);
}
process.stdout.write(JSON.stringify(out.map(([s, m]) => ({ text: s, error: m }))));
