// The open stream connections, found by id (responses on the connection a request came in on,
// RFC 3261 §18.2.2) or by (transport, remote address, port) for reuse (RFC 3261 §18.1.1).
import type { StreamConnection } from './stream-connection.js';
import type { StreamTransportName } from './types.js';

export function connectionKey(transport: StreamTransportName, address: string, port: number): string {
  return `${transport}|${address}|${port}`;
}

export class ConnectionTable {
  private readonly byId = new Map<number, StreamConnection>();
  private readonly byKey = new Map<string, StreamConnection[]>();

  get size(): number {
    return this.byId.size;
  }

  add(connection: StreamConnection): void {
    this.byId.set(connection.id, connection);
    const key = connectionKey(connection.transport, connection.remote.address, connection.remote.port);
    const list = this.byKey.get(key);
    if (list) list.push(connection);
    else this.byKey.set(key, [connection]);
  }

  remove(connection: StreamConnection): void {
    if (this.byId.get(connection.id) !== connection) return;
    this.byId.delete(connection.id);
    const key = connectionKey(connection.transport, connection.remote.address, connection.remote.port);
    const list = this.byKey.get(key);
    if (!list) return;
    const i = list.indexOf(connection);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(key);
  }

  get(id: number): StreamConnection | undefined {
    return this.byId.get(id);
  }

  /**
   * The newest usable connection to the peer, inbound or outbound. With a servername, a TLS
   * connection we opened for another name is not reused (its certificate was checked for that name).
   */
  find(transport: StreamTransportName, address: string, port: number, servername?: string): StreamConnection | undefined {
    const list = this.byKey.get(connectionKey(transport, address, port));
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (c.state === 'closed') continue;
      if (servername !== undefined && c.direction === 'outbound' && c.servername !== servername) continue;
      return c;
    }
    return undefined;
  }

  all(): StreamConnection[] {
    return [...this.byId.values()];
  }
}
