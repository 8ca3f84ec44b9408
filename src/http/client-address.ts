import type { Server } from 'node:http';

/**
 * Reads each connection's peer address as it opens. A socket asks the operating system once and
 * keeps the answer, which outlives the socket; `request.ip` asks only when read, and a socket
 * destroyed by then answered undefined: the audit line of a logout whose client reset the
 * connection meanwhile had no `ip`. Once per connection, never per request.
 */
export function keepClientAddresses(server: Server): void {
  server.on('connection', (socket) => {
    // Reset before it could be asked: no address to count failures against or to audit, and no
    // client left to read an answer, so none of its requests is served.
    if (socket.remoteAddress === undefined) socket.destroy();
  });
}
