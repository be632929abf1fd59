// The hub's access log (hub/middleware.ts accessLog): one JSON line per request on stdout, among other log lines.

/** The request lines of an access log's text, parsed; other lines and anything not JSON are skipped. */
export function* accessLogRequests(text) {
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"time"')) continue;
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (r.event === 'request') yield r;
  }
}
