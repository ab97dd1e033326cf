// Collects the server's numbered `probe` events on the official socket.io-client,
// in the order they arrive, for the frame-order test (tests/server/test_frame_writer.py).
//
//   node probes.mjs URL TOKEN
// prints {"sid": ...} once connected, then {"probes": [...]} after the "done" probe.
import { io } from "socket.io-client";

const [url, token] = process.argv.slice(2);
const probes = [];
// Default transports: long-polling first, then the upgrade to a websocket.
const socket = io(url, { auth: { token }, reconnection: false });
const timer = setTimeout(() => {
  console.error(`no "done" probe; got ${probes.length}`);
  process.exit(1);
}, 90000);
socket.on("connect", () => console.log(JSON.stringify({ sid: socket.id })));
socket.on("connect_error", (error) => {
  console.error(String(error));
  process.exit(1);
});
socket.on("probe", (n) => {
  if (n !== "done") {
    probes.push(n.n);
    return;
  }
  clearTimeout(timer);
  console.log(JSON.stringify({ probes }));
  socket.close();
});
