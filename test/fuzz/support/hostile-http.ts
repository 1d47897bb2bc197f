/**
 * Sending hostile HTTP requests: any method, path, headers and body through node:http (one
 * connection per request), bodies streamed far past the ingress's limit without holding them in
 * memory, and raw bytes on a TCP socket for requests no HTTP client would write.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface HostileRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** A body sent as it is, or `stream` bytes of `chunk` repeated (chunked, or with a Content-Length). */
  body?: Buffer;
  stream?: { bytes: number; chunk: Buffer; declareLength: boolean };
}

export interface HostileAnswer {
  /** null: the connection ended without an HTTP answer. */
  status: number | null;
  contentType?: string;
  body: string;
  error?: string;
}

const ANSWER_CAP = 64 * 1024;

/** Sends one request on a fresh connection; never rejects (a reset is an answer too). */
export function send(baseUrl: string, req: HostileRequest, timeoutMs = 20_000): Promise<HostileAnswer> {
  const url = new URL(baseUrl);
  return new Promise<HostileAnswer>((resolve) => {
    let settled = false;
    let answer: HostileAnswer | undefined;
    const done = (a: HostileAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.stream?.declareLength) headers['content-length'] = req.stream.bytes;
    const r = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: false });
    const timer = setTimeout(() => {
      r.destroy();
      done({ status: null, body: '', error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    r.on('response', (res) => {
      const got: HostileAnswer = { status: res.statusCode ?? null, contentType: res.headers['content-type'], body: '' };
      answer = got;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (got.body.length < ANSWER_CAP) got.body += chunk;
      });
      const finish = () => done(got);
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    r.on('error', (err) => {
      // After the answer arrived the server may cut the rest of a refused body: that is not an error.
      if (answer) done(answer);
      else done({ status: null, body: '', error: err.message });
    });
    if (req.stream) {
      const { bytes, chunk } = req.stream;
      let sent = 0;
      const pump = () => {
        while (sent < bytes && !settled && !r.destroyed) {
          const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
          sent += piece.length;
          if (!r.write(piece)) {
            r.once('drain', pump);
            return;
          }
        }
        if (sent >= bytes && !r.destroyed) r.end();
      };
      r.once('response', () => {
        // Stop writing once the server answered (a 413 after the first MiB).
        sent = bytes;
      });
      if (req.stream.declareLength) {
        // A declared length over the limit is refused before a byte is read: give the answer a
        // moment to arrive before writing into a connection the server is closing.
        r.flushHeaders();
        setTimeout(pump, 300);
      } else pump();
    } else {
      r.end(req.body);
    }
  });
}

/** Writes raw bytes on a TCP connection and returns the status line's code, if any answer came. */
export function sendRaw(baseUrl: string, bytes: Buffer, timeoutMs = 15_000): Promise<HostileAnswer> {
  const url = new URL(baseUrl);
  return new Promise<HostileAnswer>((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    const finish = (error?: string) => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, body: text.slice(0, 2000), ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('connect', () => socket.end(bytes));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => finish());
    socket.on('error', (err) => finish(err.message));
  });
}
