/** A server-sent-events client for tests: records every event and comment line as it arrives. */
export interface SseFrame {
  event: string;
  id?: string;
  data: string;
  at: number;
}

export class SseClient {
  readonly frames: SseFrame[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers = new Headers();
  ended = false;
  private readonly abort = new AbortController();

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: client.abort.signal,
    });
    client.status = res.status;
    client.headers = res.headers;
    if (res.status !== 200 || !res.body) {
      client.body = await res.text();
      client.ended = true;
      return client;
    }
    void client.read(res.body);
    return client;
  }

  body = '';

  private async read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const frame: SseFrame = { event: 'message', data: '', at: Date.now() };
          let hasField = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              this.comments.push(line.slice(1).trim());
              continue;
            }
            const [field, value] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)];
            if (field === 'event') frame.event = value;
            else if (field === 'id') frame.id = value;
            else if (field === 'data') frame.data += value;
            else continue;
            hasField = true;
          }
          if (hasField && (frame.data || frame.event !== 'message')) this.frames.push(frame);
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  messages<T = any>(): T[] {
    return this.frames.filter((f) => f.event === 'message').map((f) => JSON.parse(f.data) as T);
  }

  close(): void {
    this.abort.abort();
  }
}
