// Joins veil-bench and libsignal anchor JSON lines into one Markdown table with ratios.
import { readFileSync } from 'node:fs';

const load = (path) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const [veilPath, signalPath] = process.argv.slice(2);
const veil = new Map(load(veilPath).filter((r) => r.op !== 'meta').map((r) => [r.op, r]));
const signal = new Map(load(signalPath).filter((r) => r.op !== 'meta').map((r) => [r.op, r]));
const meta = load(signalPath).find((r) => r.op === 'meta') ?? {};

const rows = [
  ['v1_seal', 'v1_seal', 'v1 seal'],
  ['v1_open', 'v1_open', 'v1 open + certificate validation (Veil: validated-certificate cache)'],
  ['v1_open_uncached', 'v1_open', 'v1 open + full chain validation every time'],
  ['v2_seal_1', 'v2_seal_1', 'v2 seal, 1 recipient'],
  ['v2_seal_10', 'v2_seal_10', 'v2 seal, 10 recipients'],
  ['v2_seal_100', 'v2_seal_100', 'v2 seal, 100 recipients'],
  ['v2_seal_1000', 'v2_seal_1000', 'v2 seal, 1000 recipients'],
  ['fanout_1000', 'fanout_1000', 'fan-out of a 1000-recipient message (Veil: views)'],
  ['fanout_1000_copy', 'fanout_1000', 'fan-out of a 1000-recipient message (Veil: copies)'],
  ['v2_open', 'v2_open', 'v2 open (received) + certificate validation'],
];
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`node ${meta.node ?? '?'}, @signalapp/libsignal-client ${meta.libsignal ?? '?'}, content ${meta.content_bytes ?? '?'} B\n`);
console.log('| operation | Veil ops/s | libsignal ops/s | ratio | what bounds Veil |');
console.log('|---|---:|---:|---:|---|');
for (const [v, s, label] of rows) {
  const a = veil.get(v);
  const b = signal.get(s);
  if (!a || !b) continue;
  const bound = (a.note.match(/bound: ([^;]*)/) ?? [, a.note.split(';')[0]])[1];
  console.log(`| ${label} | ${fmt(a.ops_per_s)} | ${fmt(b.ops_per_s)} | ${(a.ops_per_s / b.ops_per_s).toFixed(2)}× | ${bound} |`);
}
for (const op of ['x25519', 'x25519_base', 'xeddsa_verify']) {
  const a = veil.get(op);
  if (a) console.log(`| ${a.note} | ${fmt(a.ops_per_s)} | | | |`);
}
