/**
 * Child process: the raw Node UDP baseline. One socket on 127.0.0.1, every datagram sent straight
 * back to its source. Same socket buffer wish as the SIP transport (4 MiB) so both see the same kernel.
 */
import { createSocket } from 'node:dgram';
import { serveChild } from './child.js';

const BUFFER_BYTES = 4 * 1024 * 1024;

const socket = createSocket('udp4');
let echoed = 0;
socket.on('message', (msg, rinfo) => {
  echoed++;
  socket.send(msg, rinfo.port, rinfo.address);
});
socket.on('error', (err) => console.error(`udp echo: ${err.message}`));
socket.bind(0, '127.0.0.1', () => {
  try {
    socket.setRecvBufferSize(BUFFER_BYTES);
    socket.setSendBufferSize(BUFFER_BYTES);
  } catch {
    // the default buffers still work
  }
  serveChild(
    { type: 'ready', port: socket.address().port },
    (m) => ({ type: m.type, echoed }),
    () => new Promise<void>((resolve) => socket.close(() => resolve())),
  );
});
