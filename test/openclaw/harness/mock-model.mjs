// A scripted OpenAI-compatible model for OpenClaw tests: `POST /v1/chat/completions` (SSE or JSON).
// Turn 1 (no assistant tool_call since the last user message): one `exec` tool_call. Its command is the text after
// `RUN:` in the last user message, else the default command. Turn 2 (the history holds that assistant tool_call):
// plain text quoting the tool result. Checking only for a `role:"tool"` message would loop (spec §4.7).
// Every request is recorded with its Authorization header (for secret-provider tests).
import { createServer } from 'node:http';

/**
 * @param {{ command?: string, port?: number }} [opts]
 * @returns {Promise<{ url: string, port: number, requests: () => any[], setCommand: (c: string) => void, close: () => Promise<void> }>}
 */
export async function startMockModel(opts = {}) {
  let defaultCommand = opts.command ?? 'echo hello-from-agent';
  const requests = [];
  let calls = 0;

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      let json = null;
      try {
        json = body ? JSON.parse(body) : null;
      } catch {}
      requests.push({
        method: req.method,
        path: req.url,
        authorization: req.headers.authorization ?? null,
        body: json,
      });
      if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'mock', object: 'model', owned_by: 'mock' }] }));
        return;
      }
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions') || !json) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      reply(res, json);
    });
  });

  function reply(res, json) {
    const messages = Array.isArray(json.messages) ? json.messages : [];
    let lastUser = -1;
    // OpenClaw appends its own user message (internal context) after tool results: the turn starts at the last
    // user message that is not one of those.
    for (let i = messages.length - 1; i >= 0; i--) {
      if (
        messages[i]?.role === 'user' &&
        !textOf(messages[i].content).includes('<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>')
      ) {
        lastUser = i;
        break;
      }
    }
    const after = messages.slice(lastUser + 1);
    const calledTool = after.some((m) => m?.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length);
    const id = `chatcmpl-mock-${++calls}`;
    const created = Math.floor(Date.now() / 1000);
    let delta;
    let finish;
    if (!calledTool) {
      const userText = lastUser >= 0 ? textOf(messages[lastUser].content) : '';
      const m = /RUN:\s*(.+)$/m.exec(userText);
      const command = m ? m[1].trim() : defaultCommand;
      delta = {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            index: 0,
            id: `call_mock_${calls}`,
            type: 'function',
            function: { name: 'exec', arguments: JSON.stringify({ command }) },
          },
        ],
      };
      finish = 'tool_calls';
    } else {
      const toolText = after
        .filter((m) => m?.role === 'tool')
        .map((m) => textOf(m.content))
        .join('\n');
      delta = { role: 'assistant', content: `Tool result: ${toolText}` };
      finish = 'stop';
    }
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    if (json.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const chunk = (choices, extra = {}) =>
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'mock', choices, ...extra })}\n\n`,
        );
      chunk([{ index: 0, delta, finish_reason: null }]);
      chunk([{ index: 0, delta: {}, finish_reason: finish }]);
      chunk([], { usage });
      res.end('data: [DONE]\n\n');
    } else {
      const message = { role: 'assistant', content: delta.content ?? null };
      if (delta.tool_calls) message.tool_calls = delta.tool_calls.map(({ index: _i, ...t }) => t);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: 'mock',
          choices: [{ index: 0, message, finish_reason: finish }],
          usage,
        }),
      );
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests: () => requests.slice(),
    setCommand: (c) => {
      defaultCommand = c;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : (p?.text ?? ''))).join('');
  return '';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = await startMockModel({ port: Number(process.env.PORT) || 0 });
  process.stdout.write(`${m.url}\n`);
}
