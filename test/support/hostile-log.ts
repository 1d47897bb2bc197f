/**
 * A 50,000-line log made to be slow to classify: in the scanned window, lines full of near-misses —
 * the start of a signature repeated without its end ("bootstrap broker " ×N without "disconnected",
 * digits without "ms", "Connection to node -1 " without "could not be established", unclosed JSON,
 * escaped frame markers without a code) — and every hundredth line 32 KiB long. None names a class.
 */
const NEAR_MISSES = [
  'bootstrap broker ',
  'Connection to node -1 ',
  "couldn't resolve server ",
  'not present in metadata after 1234567890',
  'Expiring 99999 record(s) fo',
  'T\\\\"\\\\":\\\\"erro ',
  'code = (40',
  'handshak upgrad expected http status code 10',
  'READONL WRONGPAS OOM comman ',
  '{"err":{"code":"READ',
  'failed to sen failed auth',
  '1111111111111111 ',
  '                ',
];

export function hostileLog(totalLines = 50_000): string[] {
  return Array.from({ length: totalLines }, (_, i) => {
    const miss = NEAR_MISSES[i % NEAR_MISSES.length]!;
    const length = i % 100 === 0 ? 32_768 : 300;
    return `2026-02-09T13:58:01.112Z WARN ${miss.repeat(Math.ceil(length / miss.length))}`.slice(0, length);
  });
}
