// Port checks for `npm start` (issue 13 item 15): a taken port is an error, never a reason to move elsewhere. A
// program squatting 8787 would otherwise stay the hub that the extension and agents were told about. Node builtins only.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/**
 * Best effort: "pid 1234 (node server.js)" for the process listening on 127.0.0.1:`port` or any address, from
 * /proc (Linux, same user only), else null. Only for the message: nothing depends on it.
 */
export function portHolder(port) {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is column 10.
        if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]);
      }
    }
    if (inodes.size === 0) return null;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds = [];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // another user's process, or gone
      }
      for (const fd of fds) {
        let target = '';
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1])) {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 120);
          return `pid ${pid}${cmd ? ` (${cmd})` : ''}`;
        }
      }
    }
    return 'another program (not one of yours, or its process could not be identified)';
  } catch {
    return null;
  }
}

/** The error `npm start` stops with when `port` is taken: names the port, its holder if known, and the way out. */
export function portTakenError(service, port, flag, env) {
  const holder = portHolder(port);
  return new Error(
    `port ${port} for the ${service} on 127.0.0.1 is already in use${holder ? ` by ${holder}` : ''}. ` +
      `Clawkeep does not move to another port: whatever holds ${port} would stay the ${service} your extension and agents reach. ` +
      `Stop that program, or choose another port explicitly: npm start -- ${flag} <port> (or ${env}=<port>).`,
  );
}

/** Resolves if 127.0.0.1:`port` can be bound right now (and releases it at once); rejects with portTakenError if not. */
export function assertPortFree(service, port, flag, env) {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err) => reject(err.code === 'EADDRINUSE' ? portTakenError(service, port, flag, env) : err));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve()));
  });
}
