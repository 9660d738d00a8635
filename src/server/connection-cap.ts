import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * At most `max` open connections, so idle sockets cannot use up the process's file descriptors.
 * Node's own `maxConnections` drops the newcomer, so 1,000 idle sockets would keep `/healthz`
 * out; here the newcomer is let in and the oldest connection with no request in flight (an idle
 * keep-alive, or a socket that never sent one) is closed instead. Only when every connection is
 * busy is the newcomer refused.
 *
 * @example
 * capConnections(app.server, 800);
 */
export function capConnections(server: Server, max: number): void {
  // Insertion order is age order: the first idle entry is the oldest idle connection.
  const open = new Map<Socket, { inFlight: number }>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const idle = [...open].find(([, state]) => state.inFlight === 0)?.[0];
      if (!idle) {
        socket.destroy();
        return;
      }
      idle.destroy();
      open.delete(idle);
    }
    open.set(socket, { inFlight: 0 });
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (request, response) => {
    const state = open.get(request.socket);
    if (!state) return;
    state.inFlight++;
    response.once('close', () => state.inFlight--);
  });
}

/** The soft limit on open files from /proc/self/limits (Linux), undefined elsewhere. */
export function openFileLimit(limits: string | undefined): number | undefined {
  const soft = /^Max open files\s+(\d+)/m.exec(limits ?? '')?.[1];
  return soft === undefined ? undefined : Number(soft);
}
