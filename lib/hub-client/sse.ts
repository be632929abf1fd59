/**
 * A Server-Sent Events parser (WHATWG HTML §9.2.6 "event stream interpretation") for places without EventSource,
 * such as an MV3 service worker: feed it decoded text chunks, it calls back once per dispatched event.
 */
export interface SseEvent {
  /** The `event:` field, 'message' when absent. */
  event: string;
  data: string;
  /** Last event id seen so far ('' when none). */
  id: string;
}

import { HubClientError } from './errors';

/**
 * Most characters one event may hold: its unfinished line plus the `data:` lines gathered before the blank line
 * that dispatches it. A hub that never sends a line break, or sends `data:` lines forever without a blank line,
 * must not grow our memory without bound (issue 13 item 12): past this the stream is refused and closed. The
 * largest honest event is the pending list (each intent body is at most 64 KiB on the hub), far below this.
 */
export const SSE_MAX_EVENT = 8 * 1024 * 1024;

const tooLarge = () =>
  new HubClientError(
    'hub_bad_response',
    `The hub sent an event larger than ${SSE_MAX_EVENT / (1024 * 1024)} MiB; the stream was closed.`,
  );

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  /** Characters in `data` (with the line feeds joining them). */
  private dataSize = 0;
  private eventType = '';
  private lastId = '';
  private started = false;
  /** Reconnection time the server asked for (`retry:`), in ms, or null. */
  retry: number | null = null;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  /** Feeds decoded text; lines may be split anywhere, including between `\r` and `\n`. */
  push(chunk: string): void {
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.buffer += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line);
    }
    if (this.buffer.length + this.dataSize > SSE_MAX_EVENT) {
      this.buffer = '';
      this.data = [];
      this.dataSize = 0;
      throw tooLarge();
    }
  }

  /** End of stream: a final event without its blank line is discarded, as the spec says. */
  end(): void {
    if (this.buffer.endsWith('\r')) this.line(this.buffer.slice(0, -1));
    this.buffer = '';
    this.data = [];
    this.dataSize = 0;
    this.eventType = '';
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        // Checked per line too: many short lines arriving in one chunk never leave much in `buffer`.
        this.dataSize += value.length + 1;
        if (this.dataSize > SSE_MAX_EVENT) {
          this.data = [];
          this.dataSize = 0;
          throw tooLarge();
        }
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const hadData = this.data.length > 0;
    const event: SseEvent = { event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId };
    this.data = [];
    this.dataSize = 0;
    this.eventType = '';
    if (hadData) this.onEvent(event);
  }
}

/**
 * Reads a byte stream to its end, feeding an SseParser. Resolves when the stream closes; rejects on errors, and then
 * cancels the stream so the connection to a hostile hub is closed, not left open and unread.
 * @throws HubClientError `hub_bad_response` for an event over SSE_MAX_EVENT.
 */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: SseEvent) => void,
): Promise<SseParser> {
  const parser = new SseParser(onEvent);
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
    parser.end();
    return parser;
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}
